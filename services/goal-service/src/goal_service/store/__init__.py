"""goal-service's store: every table and every query, grouped by what it stores
(`store.org`, `store.goals`, `store.plans`), on the unit of work's session."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from goal_service.store.goals import GoalQueries
from goal_service.store.org import OrgQueries
from goal_service.store.plans import PlanQueries


class GoalStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.org = OrgQueries(session)
        self.goals = GoalQueries(session)
        self.plans = PlanQueries(session)

    def add(self, row: SQLModel) -> None:
        """A new row, written at the next flush or commit."""
        self._session.add(row)

    async def flush(self) -> None:
        await self._session.flush()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Writes inside are undone alone when the block raises (one imported row)."""
        async with self._session.begin_nested():
            yield
