"""The CRM sources that push to us."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracking_service.store.tables import Source, WebhookDelivery


class Sources:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, source_id: str) -> Source | None:
        return await self.session.get(Source, source_id)

    async def detached(self, source_id: str) -> Source | None:
        """The source, usable after its transaction ends."""
        source = await self.get(source_id)
        if source is not None:
            self.session.expunge(source)
        return source

    async def all(self) -> list[Source]:
        rows = await self.session.execute(select(Source).order_by(col(Source.id)))
        return list(rows.scalars())

    def add(self, source: Source) -> None:
        self.session.add(source)

    async def deliveries(
        self, source_id: str, webhook_ids: Sequence[str]
    ) -> dict[str, WebhookDelivery]:
        """The committed deliveries among these messages of the source, by message id."""
        if not webhook_ids:
            return {}
        rows = await self.session.execute(
            select(WebhookDelivery).where(
                col(WebhookDelivery.source_id) == source_id,
                col(WebhookDelivery.webhook_id).in_(webhook_ids),
            )
        )
        return {row.webhook_id: row for row in rows.scalars()}

    async def remember_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Kept once: a concurrent delivery of the same message committed first keeps its own."""
        if not deliveries:
            return
        await self.session.execute(
            insert(WebhookDelivery).on_conflict_do_nothing(),
            [
                {
                    "source_id": d.source_id,
                    "webhook_id": d.webhook_id,
                    "kind": d.kind,
                    "record_id": d.record_id,
                    "version": d.version,
                    "received_at": d.received_at,
                }
                for d in deliveries
            ],
        )
