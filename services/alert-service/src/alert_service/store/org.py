"""Our copy of the org tree and the people in it (servicekit's org copy): who
manages whom, where to e-mail; and the day each person last recorded something."""

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from alert_service.store.tables import ORG, OrgUnit, Person
from servicekit.orgcopy import OrgCopy


class AlertOrg(OrgCopy[OrgUnit]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, ORG)

    async def people(self, ids: Iterable[str]) -> dict[str, Person]:
        rows = await self.session.execute(select(Person).where(col(Person.id).in_(list(ids))))
        return {person.id: person for person in rows.scalars()}

    async def mark_recorded(self, recorded: dict[str, date]) -> None:
        """Move each person's last recorded day forward (never back)."""
        for person_id, day in sorted(recorded.items()):
            await self.session.execute(
                insert(Person)
                .values(id=person_id, name=person_id, version=0, last_recorded_on=day)
                .on_conflict_do_update(
                    index_elements=[col(Person.id)],
                    set_={"last_recorded_on": func.greatest(Person.last_recorded_on, day)},
                )
            )
