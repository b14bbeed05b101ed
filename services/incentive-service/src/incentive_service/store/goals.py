"""Our copy of goal-service's goals (newest version only), and the latest actual
of each process goal."""

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from attain_contracts import GoalArchived
from incentive_service.store.base import Queries
from incentive_service.store.tables import Goal, GoalProgress
from servicekit.db import upsert_newer
from servicekit.orgcopy import archive_goals

COUNTED_GOALS = ("active", "closed")


class GoalQueries(Queries):
    async def upsert(self, rows: Sequence[dict[str, Any]]) -> None:
        """Newer versions only."""
        await upsert_newer(self.session, Goal, "goal_id", rows, "version")

    async def record_progress(self, rows: Sequence[dict[str, Any]]) -> None:
        """Later sequences only."""
        await upsert_newer(self.session, GoalProgress, "goal_id", rows, "sequence")

    async def archive(self, events: Sequence[GoalArchived]) -> dict[str, Goal]:
        """Each archive applied where it is newer than our copy; the goals held among them."""
        return await archive_goals(self.session, Goal, events)

    async def of_people(
        self, person_ids: Collection[str], metrics: Collection[str], first: date, last: date
    ) -> list[Goal]:
        rows = await self.session.execute(
            select(Goal).where(
                col(Goal.person_id).in_(person_ids),
                col(Goal.metric).in_(metrics),
                col(Goal.period_start) >= first,
                col(Goal.period_end) <= last,
                col(Goal.status).in_(COUNTED_GOALS),
            )
        )
        return list(rows.scalars())

    async def of_units(
        self, unit_ids: Collection[str], metric: str, start: date, end: date
    ) -> dict[str, Goal]:
        rows = await self.session.execute(
            select(Goal)
            .where(
                col(Goal.org_unit_id).in_(unit_ids),
                col(Goal.person_id).is_(None),
                col(Goal.metric) == metric,
                col(Goal.period_start) == start,
                col(Goal.period_end) == end,
                col(Goal.status).in_(COUNTED_GOALS),
            )
            .order_by(col(Goal.goal_id))
        )
        goals: dict[str, Goal] = {}
        for goal in rows.scalars():
            goals.setdefault(goal.org_unit_id, goal)
        return goals

    async def process_goals(
        self, person_id: str, metrics: Collection[str], start: date, end: date
    ) -> Sequence[Any]:
        """The person's process goals inside the period, with their latest actual."""
        rows = await self.session.execute(
            select(
                col(Goal.goal_id),
                col(Goal.metric),
                col(Goal.target),
                func.coalesce(col(GoalProgress.actual), 0).label("actual"),
            )
            .outerjoin(GoalProgress, col(GoalProgress.goal_id) == col(Goal.goal_id))
            .where(
                col(Goal.person_id) == person_id,
                col(Goal.metric).in_(metrics),
                col(Goal.period_start) >= start,
                col(Goal.period_end) <= end,
                col(Goal.status).in_(COUNTED_GOALS),
            )
            .order_by(col(Goal.goal_id))
        )
        return rows.all()
