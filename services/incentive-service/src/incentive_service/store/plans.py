"""Incentive plans and their versioned terms."""

from sqlalchemy import select, text
from sqlmodel import col

from incentive_service.store.base import Queries
from incentive_service.store.tables import Plan, PlanVersion


class PlanQueries(Queries):
    async def get(self, plan_id: str, *, for_update: bool = False) -> Plan | None:
        return await self.session.get(Plan, plan_id, with_for_update=for_update)

    async def all(self) -> list[Plan]:
        return list((await self.session.execute(select(Plan).order_by(col(Plan.id)))).scalars())

    async def versions(self, plan_id: str | None = None) -> list[PlanVersion]:
        query = select(PlanVersion).order_by(
            col(PlanVersion.plan_id), col(PlanVersion.effective_from)
        )
        if plan_id is not None:
            query = query.where(col(PlanVersion.plan_id) == plan_id)
        return list((await self.session.execute(query)).scalars())

    async def any_team_bonus(self) -> bool:
        found = await self.session.execute(
            select(col(PlanVersion.plan_id))
            .where(text('terms @> \'{"components": [{"kind": "team_bonus"}]}\''))
            .limit(1)
        )
        return found.first() is not None

    async def add(self, plan: Plan | PlanVersion) -> None:
        self.session.add(plan)
