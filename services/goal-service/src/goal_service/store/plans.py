"""Plans (previews are not stored; proposals and applied plans are) and the
bottom-up proposals of a goal's children."""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from goal_service.store.tables import Plan, Proposal


class PlanQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def plan(self, plan_id: str) -> Plan | None:
        return await self._session.get(Plan, plan_id)

    async def of_goal(self, goal_id: str, status: str | None = None) -> list[Plan]:
        query = select(Plan).where(Plan.goal_id == goal_id).order_by(col(Plan.created_at).desc())
        if status is not None:
            query = query.where(Plan.status == status)
        return list((await self._session.execute(query)).scalars())

    async def proposals(self, goal_id: str) -> list[Proposal]:
        rows = await self._session.execute(
            select(Proposal).where(Proposal.goal_id == goal_id).order_by(col(Proposal.scope))
        )
        return list(rows.scalars())

    async def proposal(self, goal_id: str, scope: str) -> Proposal | None:
        return await self._session.get(Proposal, (goal_id, scope))
