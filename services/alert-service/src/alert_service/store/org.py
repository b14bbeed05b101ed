"""Our copy of the org tree and the people in it (newest version only), and the
day each person last recorded something: who manages whom, where to e-mail."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from alert_service.store.tables import OrgUnit, Person
from servicekit.db import upsert_newer


class OrgCopy:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert_units(self, rows: list[dict[str, Any]]) -> None:
        await upsert_newer(self._session, OrgUnit, "id", rows, "version")

    async def upsert_people(self, rows: list[dict[str, Any]]) -> None:
        await upsert_newer(self._session, Person, "id", rows, "version")

    async def units(self, ids: Iterable[str] | None = None) -> dict[str, OrgUnit]:
        query = select(OrgUnit)
        if ids is not None:
            query = query.where(col(OrgUnit.id).in_(list(ids)))
        return {unit.id: unit for unit in (await self._session.execute(query)).scalars()}

    async def units_managed_by(self, person_id: str) -> list[str]:
        rows = await self._session.execute(
            select(OrgUnit.id).where(OrgUnit.manager_id == person_id)
        )
        return list(rows.scalars())

    async def people(self, ids: Iterable[str]) -> dict[str, Person]:
        rows = await self._session.execute(select(Person).where(col(Person.id).in_(list(ids))))
        return {person.id: person for person in rows.scalars()}

    async def mark_recorded(self, recorded: dict[str, date]) -> None:
        """Move each person's last recorded day forward (never back)."""
        for person_id, day in sorted(recorded.items()):
            await self._session.execute(
                insert(Person)
                .values(id=person_id, name=person_id, version=0, last_recorded_on=day)
                .on_conflict_do_update(
                    index_elements=[col(Person.id)],
                    set_={"last_recorded_on": func.greatest(Person.last_recorded_on, day)},
                )
            )
