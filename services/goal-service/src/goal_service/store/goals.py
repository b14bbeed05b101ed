"""Goals and their versions: reads, and the rows a change writes."""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from attain_contracts import Period
from goal_service.store.tables import Goal, GoalVersion, OrgUnit
from servicekit.db import write_rows

LIVE = ("draft", "active")


class GoalQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def goal(self, goal_id: str) -> Goal | None:
        return await self._session.get(Goal, goal_id)

    async def for_update(self, goal_id: str) -> Goal | None:
        rows = await self._session.execute(select(Goal).where(Goal.id == goal_id).with_for_update())
        return rows.scalar_one_or_none()

    async def page(
        self,
        filters: dict[str, str | None],
        *,
        visible_to: tuple[str | None, Collection[str]] | None,
        after: str | None,
        limit: int,
    ) -> tuple[list[Goal], int, bool]:
        """Goals by id matching every given column, of those `visible_to` (person id,
        units they manage: their own goals and their subtrees') when given: one page
        after `after`, how many match in all, and whether more follow."""
        query = select(Goal)
        for name, value in filters.items():
            if value is not None:
                query = query.where(getattr(Goal, name) == value)
        if visible_to is not None:
            person_id, managed = visible_to
            in_subtree = select(OrgUnit.id).where(col(OrgUnit.path).overlap(list(managed)))  # type: ignore[attr-defined]
            query = query.where(
                or_(
                    col(Goal.owner_id) == person_id,
                    col(Goal.person_id) == person_id,
                    col(Goal.org_unit_id).in_(in_subtree),
                )
            )
        session = self._session
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        if after is not None:
            query = query.where(col(Goal.id) > after)
        found = list(
            (await session.execute(query.order_by(col(Goal.id)).limit(limit + 1))).scalars()
        )
        return found[:limit], int(total or 0), len(found) > limit

    async def same(
        self,
        *,
        metric: str,
        org_unit_id: str,
        person_id: str | None,
        product_line: str | None,
        period: Period,
        parent_id: str | None,
    ) -> Goal | None:
        """The live goal with this metric, scope, period and parent, if there is one."""
        rows = await self._session.execute(
            _of_scope_in(metric, org_unit_id, person_id, period).where(
                col(Goal.product_line).is_not_distinct_from(product_line),
                col(Goal.parent_id).is_not_distinct_from(parent_id),
                col(Goal.status).in_(LIVE),
            )
        )
        return rows.scalars().first()

    async def of_scope_in(
        self, *, metric: str, org_unit_id: str, person_id: str | None, period: Period
    ) -> Goal | None:
        """A goal of this metric and scope over exactly this period (any status)."""
        rows = await self._session.execute(_of_scope_in(metric, org_unit_id, person_id, period))
        return rows.scalars().first()

    async def children(self, goal_id: str) -> list[Goal]:
        rows = await self._session.execute(
            select(Goal)
            .where(Goal.parent_id == goal_id, col(Goal.status).in_(LIVE))
            .order_by(col(Goal.period_start), col(Goal.org_unit_id), col(Goal.id))
        )
        return list(rows.scalars())

    async def descendants(self, goal_id: str) -> list[Goal]:
        """Every goal below `goal_id`, at any depth, not archived."""
        tree = select(Goal.id).where(Goal.parent_id == goal_id).cte("tree", recursive=True)
        tree = tree.union_all(select(Goal.id).where(col(Goal.parent_id) == tree.c.id))
        rows = await self._session.execute(
            select(Goal).where(col(Goal.id).in_(select(tree.c.id)), col(Goal.status).in_(LIVE))
        )
        return list(rows.scalars())

    async def derived_from(self, goal_ids: Collection[str]) -> list[Goal]:
        """Goals derived from these (a funnel's process goals), not archived."""
        rows = await self._session.execute(
            select(Goal).where(col(Goal.derived_from_id).in_(goal_ids), col(Goal.status).in_(LIVE))
        )
        return list(rows.scalars())

    async def versions(self, goal_id: str) -> list[GoalVersion]:
        rows = await self._session.execute(
            select(GoalVersion)
            .where(GoalVersion.goal_id == goal_id)
            .order_by(col(GoalVersion.version))
        )
        return list(rows.scalars())

    async def insert(
        self, goals: Sequence[dict[str, Any]], versions: Sequence[dict[str, Any]]
    ) -> None:
        """New goals and their first versions, as column values, in bulk."""
        await write_rows(self._session, Goal.__table__, goals)  # type: ignore[attr-defined]
        await write_rows(self._session, GoalVersion.__table__, versions)  # type: ignore[attr-defined]

    def add_version(self, version: dict[str, Any]) -> None:
        self._session.add(GoalVersion(**version))


def _of_scope_in(
    metric: str, org_unit_id: str, person_id: str | None, period: Period
) -> SelectOfScalar[Goal]:
    return select(Goal).where(
        Goal.metric == metric,
        Goal.org_unit_id == org_unit_id,
        col(Goal.person_id).is_not_distinct_from(person_id),
        Goal.period_start == period.start,
        Goal.period_end == period.end,
    )


def columns_of(goal: Goal) -> dict[str, Any]:
    """A goal's column values, as the bulk path writes them."""
    return {c.key: getattr(goal, c.key) for c in Goal.__table__.columns}  # type: ignore[attr-defined]
