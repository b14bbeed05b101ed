"""The CRM sources that push to us."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracking_service.store.tables import Source


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
