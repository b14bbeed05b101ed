"""What every group of the store shares: the unit of work's session."""

from sqlalchemy.ext.asyncio import AsyncSession


class Queries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
