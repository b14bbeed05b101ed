"""Reads and writes of goal-service's tables."""

from collections.abc import Collection
from datetime import date

from sqlalchemy import func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar
from goal_service.store.tables import (
    CalendarSettings,
    Goal,
    GoalVersion,
    Membership,
    OrgUnit,
    Person,
    Plan,
    ProductLine,
    Proposal,
)


async def org_unit(session: AsyncSession, org_unit_id: str) -> OrgUnit | None:
    return await session.get(OrgUnit, org_unit_id)


async def org_units(session: AsyncSession, under: str | None = None) -> list[OrgUnit]:
    query = select(OrgUnit).order_by(col(OrgUnit.path))
    if under is not None:
        query = query.where(col(OrgUnit.path).contains([under]))
    return list((await session.execute(query)).scalars())


async def child_units(session: AsyncSession, org_unit_id: str) -> list[OrgUnit]:
    rows = await session.execute(
        select(OrgUnit).where(OrgUnit.parent_id == org_unit_id).order_by(col(OrgUnit.id))
    )
    return list(rows.scalars())


async def managed_units(session: AsyncSession, person_id: str) -> list[OrgUnit]:
    rows = await session.execute(select(OrgUnit).where(OrgUnit.manager_id == person_id))
    return list(rows.scalars())


async def person(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


async def people(session: AsyncSession, person_ids: Collection[str]) -> dict[str, Person]:
    rows = await session.execute(select(Person).where(col(Person.id).in_(person_ids)))
    return {p.id: p for p in rows.scalars()}


async def goal(session: AsyncSession, goal_id: str) -> Goal | None:
    return await session.get(Goal, goal_id)


async def goals_page(
    session: AsyncSession,
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
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    if after is not None:
        query = query.where(col(Goal.id) > after)
    found = list((await session.execute(query.order_by(col(Goal.id)).limit(limit + 1))).scalars())
    return found[:limit], int(total or 0), len(found) > limit


async def same_goal(
    session: AsyncSession,
    *,
    metric: str,
    org_unit_id: str,
    person_id: str | None,
    product_line: str | None,
    period: Period,
    parent_id: str | None,
) -> Goal | None:
    """The live goal with this metric, scope, period and parent, if there is one."""
    rows = await session.execute(
        select(Goal).where(
            Goal.metric == metric,
            Goal.org_unit_id == org_unit_id,
            col(Goal.person_id).is_not_distinct_from(person_id),
            col(Goal.product_line).is_not_distinct_from(product_line),
            Goal.period_start == period.start,
            Goal.period_end == period.end,
            col(Goal.parent_id).is_not_distinct_from(parent_id),
            col(Goal.status).in_(("draft", "active")),
        )
    )
    return rows.scalars().first()


async def goal_for_update(session: AsyncSession, goal_id: str) -> Goal | None:
    rows = await session.execute(select(Goal).where(Goal.id == goal_id).with_for_update())
    return rows.scalar_one_or_none()


async def memberships(session: AsyncSession, person_id: str) -> list[Membership]:
    rows = await session.execute(
        select(Membership)
        .where(Membership.person_id == person_id)
        .order_by(col(Membership.valid_from))
    )
    return list(rows.scalars())


async def members(session: AsyncSession, org_unit_id: str, on: date) -> list[Person]:
    """The people in `org_unit_id` on `on`, by id."""
    rows = await session.execute(
        select(Person)
        .join(Membership, col(Membership.person_id) == col(Person.id))
        .where(
            Membership.org_unit_id == org_unit_id,
            col(Membership.valid_from) <= on,
            or_(col(Membership.valid_to).is_(None), col(Membership.valid_to) > on),
        )
        .order_by(col(Person.id))
    )
    return list(rows.scalars())


async def current_unit(session: AsyncSession, person_id: str, on: date) -> str | None:
    for membership in await memberships(session, person_id):
        if membership.valid_from <= on and (
            membership.valid_to is None or membership.valid_to > on
        ):
            return membership.org_unit_id
    return None


async def first_membership(session: AsyncSession, person_ids: Collection[str]) -> dict[str, date]:
    rows = await session.execute(
        select(Membership.person_id, func.min(Membership.valid_from))
        .where(col(Membership.person_id).in_(person_ids))
        .group_by(col(Membership.person_id))
    )
    return {person_id: since for person_id, since in rows.all()}


async def change_membership(
    session: AsyncSession, person_id: str, org_unit_id: str, since: date
) -> None:
    """From `since` on, the person belongs to `org_unit_id`. Nothing changes when they already
    do, open-ended; otherwise what began on or after `since` is superseded, what was in force
    on it ends there, and a stint in that unit in force on it (or ending on it) runs on, so a
    move back to a unit on a day they were there continues that stint."""
    rows = await memberships(session, person_id)
    if any(m.valid_to is None and m.org_unit_id == org_unit_id for m in rows):
        return
    continued = False
    for membership in rows:
        if membership.valid_from >= since:
            await session.delete(membership)
        elif membership.org_unit_id == org_unit_id and (
            membership.valid_to is None or membership.valid_to >= since
        ):
            membership.valid_to = None
            continued = True
        elif membership.valid_to is None or membership.valid_to > since:
            membership.valid_to = since
    await session.flush()
    if not continued:
        session.add(Membership(person_id=person_id, org_unit_id=org_unit_id, valid_from=since))


async def product_line(session: AsyncSession, product_line_id: str) -> ProductLine | None:
    return await session.get(ProductLine, product_line_id)


async def product_lines(session: AsyncSession) -> list[ProductLine]:
    return list(
        (await session.execute(select(ProductLine).order_by(col(ProductLine.id)))).scalars()
    )


async def calendar_settings(session: AsyncSession) -> CalendarSettings | None:
    return await session.get(CalendarSettings, 1)


async def children(session: AsyncSession, goal_id: str) -> list[Goal]:
    rows = await session.execute(
        select(Goal)
        .where(Goal.parent_id == goal_id, col(Goal.status).in_(("draft", "active")))
        .order_by(col(Goal.period_start), col(Goal.org_unit_id), col(Goal.id))
    )
    return list(rows.scalars())


async def descendants(session: AsyncSession, goal_id: str) -> list[Goal]:
    """Every goal below `goal_id`, at any depth, not archived."""
    tree = select(Goal.id).where(Goal.parent_id == goal_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Goal.id).where(col(Goal.parent_id) == tree.c.id))
    rows = await session.execute(
        select(Goal).where(
            col(Goal.id).in_(select(tree.c.id)), col(Goal.status).in_(("draft", "active"))
        )
    )
    return list(rows.scalars())


async def derived_from(session: AsyncSession, goal_ids: Collection[str]) -> list[Goal]:
    """Goals derived from these (a funnel's process goals), not archived."""
    rows = await session.execute(
        select(Goal).where(
            col(Goal.derived_from_id).in_(goal_ids), col(Goal.status).in_(("draft", "active"))
        )
    )
    return list(rows.scalars())


async def versions(session: AsyncSession, goal_id: str) -> list[GoalVersion]:
    rows = await session.execute(
        select(GoalVersion).where(GoalVersion.goal_id == goal_id).order_by(col(GoalVersion.version))
    )
    return list(rows.scalars())


async def proposals(session: AsyncSession, goal_id: str) -> list[Proposal]:
    rows = await session.execute(
        select(Proposal).where(Proposal.goal_id == goal_id).order_by(col(Proposal.scope))
    )
    return list(rows.scalars())


async def plan(session: AsyncSession, plan_id: str) -> Plan | None:
    return await session.get(Plan, plan_id)


async def plans(session: AsyncSession, goal_id: str, status: str | None = None) -> list[Plan]:
    query = select(Plan).where(Plan.goal_id == goal_id).order_by(col(Plan.created_at).desc())
    if status is not None:
        query = query.where(Plan.status == status)
    return list((await session.execute(query)).scalars())


async def calendar(session: AsyncSession, default_timezone: str) -> FiscalCalendar:
    row = await calendar_settings(session)
    if row is None:
        return FiscalCalendar(timezone=default_timezone)
    return FiscalCalendar(row.timezone, row.fiscal_year_start_month, frozenset(row.holidays))
