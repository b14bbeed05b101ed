"""Subscriptions: how each person wants to hear about alerts."""

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from alert_service.store.tables import Subscription


class Subscriptions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, subscription: Subscription) -> None:
        self._session.add(subscription)

    async def delete(self, subscription: Subscription) -> None:
        await self._session.delete(subscription)

    async def one(self, subscription_id: str | None) -> Subscription | None:
        if subscription_id is None:
            return None
        return await self._session.get(Subscription, subscription_id)

    async def enabled_of(self, person_ids: Iterable[str]) -> list[Subscription]:
        rows = await self._session.execute(
            select(Subscription)
            .where(col(Subscription.person_id).in_(list(person_ids)), col(Subscription.enabled))
            .order_by(col(Subscription.created_at), col(Subscription.id))
        )
        return list(rows.scalars())

    async def listed(self, person_id: str | None) -> list[Subscription]:
        query = select(Subscription)
        if person_id is not None:
            query = query.where(Subscription.person_id == person_id)
        rows = await self._session.execute(
            query.order_by(col(Subscription.created_at), col(Subscription.id))
        )
        return list(rows.scalars())
