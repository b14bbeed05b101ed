"""Our copy of goal-service's org tree and people (servicekit's org copy), with what
crediting needs of it: the lock that orders recording against directory changes,
and the directory of who belonged where when."""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from servicekit.orgcopy import OrgCopy
from tracking_service.domain.directory import Directory, Stint
from tracking_service.store.chunks import chunks
from tracking_service.store.tables import OrgUnit, PersonAlias

ANY_SOURCE = ""

# Recording takes it shared, a directory change exclusive: a person heard of (and
# re-pathed) while a record crediting them is being written would otherwise miss
# that record's rows, and they would keep the path of a person not known yet.
DIRECTORY_LOCK = 0x7472_6163_6B00_0002


class Org(OrgCopy[OrgUnit]):
    async def lock(self, *, exclusive: bool) -> None:
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await self.session.execute(text(f"SELECT {function}(:key)"), {"key": DIRECTORY_LOCK})

    async def directory(self, person_ids: Iterable[str]) -> Directory:
        stints: dict[str, list[Stint]] = defaultdict(list)
        units: set[str] = set()
        for chunk in chunks(sorted(set(person_ids))):
            for person_id, held in (await self.memberships(chunk)).items():
                for m in held:
                    stints[person_id].append(Stint(m.org_unit_id, m.valid_from, m.valid_to))
                    units.add(m.org_unit_id)
        paths: dict[str, tuple[str, ...]] = {}
        for chunk in chunks(sorted(units)):
            paths.update(await self.paths(chunk))
        return Directory(dict(stints), paths)

    async def people_named(self, source_id: str, owners: Iterable[str]) -> dict[str, str]:
        """The person each of these owner ids of a source names: by the person's owner id
        in that source, else by their e-mail; owner ids naming no one are left out."""
        wanted = sorted(set(owners))
        by_id: dict[str, str] = {}
        by_mail: dict[str, str] = {}
        for chunk in chunks(wanted):
            rows = await self.session.execute(
                select(PersonAlias).where(
                    or_(
                        tuple_(col(PersonAlias.source_id), col(PersonAlias.alias)).in_(
                            [(source_id, owner) for owner in chunk]
                        ),
                        tuple_(col(PersonAlias.source_id), col(PersonAlias.alias)).in_(
                            [(ANY_SOURCE, owner.lower()) for owner in chunk if "@" in owner]
                        ),
                    )
                )
            )
            for row in rows.scalars():
                (by_mail if row.source_id == ANY_SOURCE else by_id)[row.alias] = row.person_id
        found = {}
        for owner in wanted:
            person = by_id.get(owner) or by_mail.get(owner.lower())
            if person is not None and person != owner:
                found[owner] = person
        return found

    async def rename_people(
        self, people: Sequence[str], aliases: Sequence[tuple[str, str, str]]
    ) -> None:
        """These people's aliases replaced by `aliases`: (source id or `ANY_SOURCE`,
        alias, person id). An alias two people claim names the one given last."""
        await self.session.execute(
            delete(PersonAlias).where(col(PersonAlias.person_id).in_(sorted(people)))
        )
        unique = {(source, alias): person for source, alias, person in aliases}
        if unique:
            statement = insert(PersonAlias).values(
                [{"source_id": s, "alias": a, "person_id": p} for (s, a), p in unique.items()]
            )
            await self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["source_id", "alias"],
                    set_={"person_id": statement.excluded.person_id},
                )
            )
