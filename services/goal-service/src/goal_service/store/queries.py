"""Reads and writes of goal-service's tables."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from goal_service.store.tables import Goal, Membership, OrgUnit, Person


async def org_unit(session: AsyncSession, org_unit_id: str) -> OrgUnit | None:
    return await session.get(OrgUnit, org_unit_id)


async def person(session: AsyncSession, person_id: str) -> Person | None:
    return await session.get(Person, person_id)


async def goal(session: AsyncSession, goal_id: str) -> Goal | None:
    return await session.get(Goal, goal_id)


async def memberships(session: AsyncSession, person_id: str) -> list[Membership]:
    rows = await session.execute(
        select(Membership)
        .where(Membership.person_id == person_id)
        .order_by(col(Membership.valid_from))
    )
    return list(rows.scalars())


async def change_membership(
    session: AsyncSession, person_id: str, org_unit_id: str, since: date
) -> None:
    """Close the membership in force on `since` and open one in `org_unit_id`."""
    current = [m for m in await memberships(session, person_id) if m.valid_to is None]
    for membership in current:
        if membership.org_unit_id == org_unit_id:
            return
        if membership.valid_from >= since:
            await session.delete(membership)
        else:
            membership.valid_to = since
    await session.flush()
    session.add(Membership(person_id=person_id, org_unit_id=org_unit_id, valid_from=since))
