"""Our copy of goal-service's org tree and people (servicekit's org copy), with what
crediting needs of it: the lock that orders recording against directory changes,
and the directory of who belonged where when."""

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import text

from servicekit.orgcopy import OrgCopy
from tracking_service.domain.directory import Directory, Stint
from tracking_service.store.chunks import chunks
from tracking_service.store.tables import OrgUnit

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
