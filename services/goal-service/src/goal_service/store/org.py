"""The org as goal-service keeps it: org units, people and their memberships,
product lines and the organisation's calendar."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from attain_contracts.calendar import FiscalCalendar
from goal_service.store.tables import CalendarSettings, Membership, OrgUnit, Person, ProductLine


@dataclass(frozen=True)
class OrgSnapshot:
    """The whole org at once, for a plan: a company plan touches all of it."""

    units: list[OrgUnit]
    people: list[Person]
    memberships: list[Membership]
    lines: list[ProductLine]


class OrgQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def unit(self, org_unit_id: str) -> OrgUnit | None:
        return await self._session.get(OrgUnit, org_unit_id)

    async def units(self, under: str | None = None) -> list[OrgUnit]:
        query = select(OrgUnit).order_by(col(OrgUnit.path))
        if under is not None:
            query = query.where(col(OrgUnit.path).contains([under]))
        return list((await self._session.execute(query)).scalars())

    async def managed_units(self, person_id: str) -> list[str]:
        """The ids of the units the person manages (`servicekit.visibility.OrgReader`)."""
        rows = await self._session.execute(
            select(OrgUnit.id).where(OrgUnit.manager_id == person_id)
        )
        return list(rows.scalars())

    async def paths(self, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Each unit's path from the root, by id (`servicekit.visibility.OrgReader`)."""
        rows = await self._session.execute(
            select(OrgUnit.id, OrgUnit.path).where(col(OrgUnit.id).in_(list(ids)))
        )
        return {unit_id: tuple(path) for unit_id, path in rows.all()}

    async def person(self, person_id: str) -> Person | None:
        return await self._session.get(Person, person_id)

    async def memberships(self, person_id: str) -> list[Membership]:
        rows = await self._session.execute(
            select(Membership)
            .where(Membership.person_id == person_id)
            .order_by(col(Membership.valid_from))
        )
        return list(rows.scalars())

    async def members(self, org_unit_id: str, on: date) -> list[Person]:
        """The people in `org_unit_id` on `on`, by id."""
        rows = await self._session.execute(
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

    async def current_unit(self, person_id: str, on: date) -> str | None:
        for membership in await self.memberships(person_id):
            if membership.valid_from <= on and (
                membership.valid_to is None or membership.valid_to > on
            ):
                return membership.org_unit_id
        return None

    async def change_membership(self, person_id: str, org_unit_id: str, since: date) -> None:
        """From `since` on, the person belongs to `org_unit_id`. Nothing changes when they
        already do, open-ended; otherwise what began on or after `since` is superseded, what
        was in force on it ends there, and a stint in that unit in force on it (or ending on
        it) runs on, so a move back to a unit on a day they were there continues that stint."""
        session = self._session
        rows = await self.memberships(person_id)
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

    async def product_line(self, product_line_id: str) -> ProductLine | None:
        return await self._session.get(ProductLine, product_line_id)

    async def product_lines(self) -> list[ProductLine]:
        rows = await self._session.execute(select(ProductLine).order_by(col(ProductLine.id)))
        return list(rows.scalars())

    async def calendar_settings(self) -> CalendarSettings | None:
        return await self._session.get(CalendarSettings, 1)

    async def calendar(self, default_timezone: str) -> FiscalCalendar:
        row = await self.calendar_settings()
        if row is None:
            return FiscalCalendar(timezone=default_timezone)
        return FiscalCalendar(
            row.timezone,
            row.fiscal_year_start_month,
            frozenset(row.holidays),
            frozenset(row.working_weekends),
        )

    async def snapshot(self) -> OrgSnapshot:
        session = self._session
        units = (await session.execute(select(OrgUnit).order_by(col(OrgUnit.id)))).scalars()
        people = (await session.execute(select(Person))).scalars()
        memberships = await session.execute(select(Membership).order_by(col(Membership.person_id)))
        lines = (await session.execute(select(ProductLine))).scalars()
        return OrgSnapshot(list(units), list(people), list(memberships.scalars()), list(lines))
