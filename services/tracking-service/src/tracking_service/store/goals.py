"""Our copy of goal-service's goals, with their live progress figures."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, String, any_, bindparam, false, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import CollectionAggregate
from sqlmodel import col, select

from attain_contracts import GoalArchived
from attain_contracts.progress import ChildTarget
from servicekit.orgcopy import archive_goals
from tracking_service.store.tables import Goal, OrgUnit


class Goals:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, goal_id: str) -> Goal | None:
        return await self.session.get(Goal, goal_id)

    async def many(self, goal_ids: Sequence[str]) -> list[Goal]:
        if not goal_ids:
            return []
        rows = await self.session.execute(
            select(Goal).where(col(Goal.id) == _any(goal_ids)).order_by(col(Goal.id))
        )
        return list(rows.scalars())

    async def active(self) -> list[Goal]:
        rows = await self.session.execute(
            select(Goal).where(col(Goal.status) == "active").order_by(col(Goal.id))
        )
        return list(rows.scalars())

    def add(self, goal: Goal) -> None:
        self.session.add(goal)

    async def flush(self) -> None:
        """Write the changes made to loaded goals."""
        await self.session.flush()

    async def archive(self, events: Sequence[GoalArchived]) -> dict[str, Goal]:
        return await archive_goals(self.session, Goal, events)

    async def child_targets(self, parent_ids: Sequence[str]) -> dict[str, list[ChildTarget]]:
        """The targets of each goal's children in the same metric: its time split."""
        if not parent_ids:
            return {}
        parent = Goal.__table__.alias("parent")  # type: ignore[attr-defined]
        rows = await self.session.execute(
            sa_select(
                col(Goal.parent_id), col(Goal.period_start), col(Goal.period_end), col(Goal.target)
            )
            .join(parent, parent.c.id == col(Goal.parent_id))
            .where(
                col(Goal.parent_id) == _any(parent_ids),
                col(Goal.metric) == parent.c.metric,
                col(Goal.status) != "cancelled",
            )
        )
        children: dict[str, list[ChildTarget]] = defaultdict(list)
        for parent_id, start, end, target in rows.all():
            children[str(parent_id)].append(ChildTarget(start, end, target))
        return children

    async def where(
        self,
        *,
        owner_id: str | None,
        org_unit_id: str | None,
        period_keys: Sequence[str] | None,
        on: date | None,
        metric: str | None,
        goal_ids: Sequence[str] | None,
        visible_units: Sequence[str] | None,
        visible_owner: str | None,
        after: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Goal], int, bool] | None:
        """Goals by owner, org unit (its subtree), period (any of `period_keys`), id
        (any of `goal_ids`);
        restricted to what the caller may see (`visible_units`: subtrees they manage;
        `visible_owner`: their own): a page after the goal `after`, how many match,
        whether more follow; None when `after` is not one of them."""
        conditions: list[ColumnElement[bool]] = []
        if owner_id is not None:
            conditions.append(col(Goal.owner_id) == owner_id)
        if org_unit_id is not None:
            conditions.append(col(Goal.org_unit_id).in_(_subtree(org_unit_id)))
        if period_keys is not None:
            conditions.append(col(Goal.period_key).in_(period_keys))
        if on is not None:
            conditions.extend([col(Goal.period_start) <= on, col(Goal.period_end) >= on])
        if metric is not None:
            conditions.append(col(Goal.metric) == metric)
        if goal_ids is not None:
            conditions.append(col(Goal.id).in_(goal_ids))
        visibility: list[ColumnElement[bool]] = []
        if visible_owner is not None:
            visibility.append(col(Goal.owner_id) == visible_owner)
            visibility.append(col(Goal.person_id) == visible_owner)
        for unit in visible_units or ():
            visibility.append(col(Goal.org_unit_id).in_(_subtree(unit)))
        if visible_units is not None or visible_owner is not None:
            conditions.append(or_(*visibility) if visibility else false())
        total = await self.session.scalar(
            sa_select(func.count()).select_from(Goal).where(*conditions)
        )
        if after is not None:
            last = await self.session.scalar(select(Goal).where(*conditions, col(Goal.id) == after))
            if last is None:
                return None
            conditions.append(
                (col(Goal.period_start) > last.period_start)
                | ((col(Goal.period_start) == last.period_start) & (col(Goal.id) > last.id))
            )
        rows = await self.session.execute(
            select(Goal)
            .where(*conditions)
            .order_by(col(Goal.period_start), col(Goal.id))
            .limit(limit + 1)
            .offset(offset)
        )
        found = list(rows.scalars())
        return found[:limit], int(total or 0), len(found) > limit


def _subtree(org_unit_id: str) -> Select[str]:
    return sa_select(col(OrgUnit.id)).where(col(OrgUnit.path).contains([org_unit_id]))


def _any(ids: Sequence[str]) -> CollectionAggregate[Any]:
    """`= ANY(:ids)`, one array parameter: the projector asks for thousands of goals at once,
    which an IN list would bind and render one by one."""
    return any_(bindparam("ids", list(ids), type_=ARRAY(String)))
