"""Deliveries (one notification to one channel and address) and their attempts.
Queueing one wakes the delivery worker when the transaction commits."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from alert_service.store.tables import Delivery, DeliveryAttempt
from servicekit.wakeup import notify

WAKE_CHANNEL = "alert_delivery"


class Deliveries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, delivery: Delivery) -> None:
        self._session.add(delivery)

    def add_attempt(self, attempt: DeliveryAttempt) -> None:
        self._session.add(attempt)

    async def wake_sender(self) -> None:
        """The delivery worker looks for due deliveries once this commits."""
        await notify(self._session, WAKE_CHANNEL)

    async def one(self, delivery_id: str, *, for_update: bool = False) -> Delivery | None:
        return await self._session.get(Delivery, delivery_id, with_for_update=for_update)

    async def of_alert(self, alert_id: str) -> list[Delivery]:
        rows = await self._session.execute(
            select(Delivery)
            .where(Delivery.alert_id == alert_id)
            .order_by(col(Delivery.created_at), col(Delivery.id))
        )
        return list(rows.scalars())

    async def attempts_of(self, delivery_ids: Iterable[str]) -> list[DeliveryAttempt]:
        rows = await self._session.execute(
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.delivery_id).in_(list(delivery_ids)))
            .order_by(col(DeliveryAttempt.id))
        )
        return list(rows.scalars())

    async def claim_due(self, now: datetime, limit: int) -> list[Delivery]:
        rows = await self._session.execute(
            select(Delivery)
            .where(Delivery.status == "pending", col(Delivery.next_attempt_at) <= now)
            .order_by(col(Delivery.next_attempt_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(rows.scalars())

    async def pending_count(self) -> int:
        rows = await self._session.execute(
            sa_select(func.count()).select_from(Delivery).where(col(Delivery.status) == "pending")
        )
        return int(rows.scalar() or 0)
