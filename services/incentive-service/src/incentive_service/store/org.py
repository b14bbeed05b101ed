"""Our copy of goal-service's org tree and people (newest version only)."""

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from incentive_service.store.base import Queries
from incentive_service.store.tables import Membership, OrgUnit, Person
from servicekit.db import upsert_newer


class OrgQueries(Queries):
    async def upsert_units(self, rows: Sequence[dict[str, Any]]) -> None:
        """Newer versions only."""
        await upsert_newer(self.session, OrgUnit, "id", rows, "version")

    async def upsert_people(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Newer versions only; the ids whose row changed, so their memberships follow."""
        if not rows:
            return set()
        stmt = insert(Person).values(sorted(rows, key=lambda row: row["id"]))
        upsert = stmt.on_conflict_do_update(
            index_elements=[col(Person.id)],
            set_={"name": stmt.excluded.name, "version": stmt.excluded.version},
            where=col(Person.version) < stmt.excluded.version,
        ).returning(col(Person.id))
        return set((await self.session.execute(upsert)).scalars())

    async def replace_memberships(
        self, person_ids: Collection[str], rows: Sequence[dict[str, Any]]
    ) -> None:
        await self.session.execute(
            delete(Membership).where(col(Membership.person_id).in_(person_ids))
        )
        if rows:
            await self.session.execute(insert(Membership).values(list(rows)))

    async def units(self) -> dict[str, OrgUnit]:
        """Every unit: an org tree is hundreds of units, not millions."""
        return {unit.id: unit for unit in (await self.session.execute(select(OrgUnit))).scalars()}

    async def people(self, person_ids: Collection[str] | None = None) -> list[Person]:
        query = select(Person).order_by(col(Person.id))
        if person_ids is not None:
            query = query.where(col(Person.id).in_(person_ids))
        return list((await self.session.execute(query)).scalars())

    async def memberships(
        self, person_ids: Collection[str] | None = None
    ) -> dict[str, list[Membership]]:
        query = select(Membership).order_by(col(Membership.person_id), col(Membership.valid_from))
        if person_ids is not None:
            query = query.where(col(Membership.person_id).in_(person_ids))
        held: dict[str, list[Membership]] = defaultdict(list)
        for membership in (await self.session.execute(query)).scalars():
            held[membership.person_id].append(membership)
        return held

    async def members_of(self, unit_ids: Collection[str], on: date) -> dict[str, list[str]]:
        """The people in each unit on `on`, sorted."""
        rows = await self.session.execute(
            select(col(Membership.org_unit_id), col(Membership.person_id))
            .where(
                col(Membership.org_unit_id).in_(unit_ids),
                col(Membership.valid_from) <= on,
                or_(col(Membership.valid_to).is_(None), col(Membership.valid_to) > on),
            )
            .order_by(col(Membership.org_unit_id), col(Membership.person_id))
        )
        members: dict[str, list[str]] = defaultdict(list)
        for unit_id, person_id in rows:
            members[unit_id].append(person_id)
        return members

    async def managed_units(self, person_id: str) -> list[str]:
        rows = await self.session.execute(
            select(col(OrgUnit.id)).where(col(OrgUnit.manager_id) == person_id)
        )
        return list(rows.scalars())
