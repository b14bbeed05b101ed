"""The copy of goal-service's org tree and people that tracking, alert and incentive
keep in their own schemas, from `OrgUnitUpserted` and `PersonUpserted`, the queries
visibility needs of it, and `GoalArchived` applied to a service's copy of its goals.

One rule for what is newer, everywhere: an event is applied when its `version` is
greater than the version the copy holds. goal-service gives every change of a unit,
a person or a goal a version of its own and publishes it once (an archive is a
change: it raises the goal's version and is published as `GoalArchived` alone), so
an equal version is that change redelivered and changes nothing; an older one
arrived late. In one batch the newest event per key wins.

A service declares its tables on the column sets below, in its own schema and with
any column of its own (a unit's `name`, a person's `email`, tracking's
`person_version`), and names them in `OrgTables`. The event fields a service
keeps are the ones its tables have columns for. Without a person table (tracking)
the version held for a person is the `person_version` of their memberships."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Table, delete, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Text
from sqlmodel import Field, SQLModel

from attain_contracts import GoalArchived, OrgUnitUpserted, PersonUpserted
from servicekit.newest import newest_by


class OrgUnitColumns(SQLModel):
    """What every copy keeps of an org unit. `path` runs from the root down to the unit."""

    id: str = Field(primary_key=True)
    path: list[str] = Field(sa_type=ARRAY(Text))
    manager_id: str | None = None
    version: int


class PersonColumns(SQLModel):
    id: str = Field(primary_key=True)
    version: int


class MembershipColumns(SQLModel):
    """A person's membership of one org unit, `valid_to` exclusive (open when None)."""

    person_id: str = Field(primary_key=True)
    valid_from: date = Field(primary_key=True)
    org_unit_id: str
    valid_to: date | None = None


UnitT = TypeVar("UnitT", bound=OrgUnitColumns)


@dataclass(frozen=True)
class OrgTables(Generic[UnitT]):
    """A service's org copy tables: units always, people and memberships if it keeps them."""

    units: type[UnitT]
    people: type[PersonColumns] | None = None
    memberships: type[MembershipColumns] | None = None


@dataclass(frozen=True)
class Applied:
    """The keys whose copy an upsert changed, and among them the ones first heard of."""

    changed: tuple[str, ...] = ()
    first_heard: tuple[str, ...] = ()


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined]


def _kept(model: type[SQLModel], row: dict[str, Any]) -> dict[str, Any]:
    columns = _table(model).columns
    return {name: value for name, value in row.items() if name in columns}


def _newest(events: Iterable[Any], key: str) -> dict[Any, Any]:
    """The newest event per `key` attribute in one batch."""
    return newest_by(events, lambda event: getattr(event, key), lambda event: event.version)


async def _upsert_newer(
    session: AsyncSession, model: type[SQLModel], rows: list[dict[str, Any]]
) -> Applied:
    if not rows:
        return Applied()
    table = _table(model)
    stmt = insert(table).values(sorted(rows, key=lambda row: row["id"]))
    upsert = stmt.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={name: stmt.excluded[name] for name in rows[0] if name != "id"},
        where=table.c.version < stmt.excluded.version,
    ).returning(table.c.id, literal_column("xmax = 0"))  # a row just inserted has no xmax
    written = (await session.execute(upsert)).all()
    return Applied(
        changed=tuple(sorted(key for key, _ in written)),
        first_heard=tuple(sorted(key for key, inserted in written if inserted)),
    )


class OrgCopy(Generic[UnitT]):
    """The org copy on one session: applying goal-service's events, and reading it.
    Writes go by SQL statements; the reads here refresh what the session had loaded."""

    def __init__(self, session: AsyncSession, tables: OrgTables[UnitT]) -> None:
        self.session = session
        self.tables = tables

    @property
    def _units(self) -> Table:
        return _table(self.tables.units)

    @property
    def _memberships(self) -> Table:
        if self.tables.memberships is None:
            raise RuntimeError("this org copy keeps no memberships")
        return _table(self.tables.memberships)

    # Applying events

    async def apply_units(self, events: Sequence[OrgUnitUpserted]) -> Applied:
        rows = [
            _kept(
                self.tables.units,
                {
                    "id": e.org_unit_id,
                    "name": e.name,
                    "kind": e.kind,
                    "parent_id": e.parent_id,
                    "manager_id": e.manager_id,
                    "path": e.path,
                    "version": e.version,
                },
            )
            for e in _newest(events, "org_unit_id").values()
        ]
        return await _upsert_newer(self.session, self.tables.units, rows)

    async def apply_people(self, events: Sequence[PersonUpserted]) -> Applied:
        """The person rows, and each changed person's memberships replaced by the
        history their newest event carries."""
        latest: dict[str, PersonUpserted] = _newest(events, "person_id")
        if self.tables.people is not None:
            people = self.tables.people
            applied = await _upsert_newer(
                self.session,
                people,
                [
                    _kept(
                        people,
                        {
                            "id": e.person_id,
                            "name": e.name,
                            "email": e.email,
                            "maturity": e.maturity,
                            "carries_quota": e.carries_quota,
                            "version": e.version,
                        },
                    )
                    for e in latest.values()
                ],
            )
        else:
            applied = await self._newer_by_memberships(latest)
        if self.tables.memberships is not None and applied.changed:
            await self._replace_memberships([latest[p] for p in applied.changed])
        return applied

    async def _newer_by_memberships(self, latest: dict[str, PersonUpserted]) -> Applied:
        table = self._memberships
        held = dict(
            (
                await self.session.execute(
                    select(table.c.person_id, func.max(table.c.person_version))
                    .where(table.c.person_id.in_(list(latest)))
                    .group_by(table.c.person_id)
                )
            ).all()
        )
        changed = sorted(p for p, e in latest.items() if p not in held or e.version > held[p])
        return Applied(tuple(changed), tuple(p for p in changed if p not in held))

    async def _replace_memberships(self, events: Sequence[PersonUpserted]) -> None:
        model, table = self.tables.memberships, self._memberships
        assert model is not None
        key = [c.name for c in table.primary_key.columns]
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        for event in events:
            for m in event.memberships:
                row = _kept(
                    model,
                    {
                        "person_id": event.person_id,
                        "org_unit_id": m.org_unit_id,
                        "valid_from": m.valid_from,
                        "valid_to": m.valid_to,
                        "person_version": event.version,
                    },
                )
                rows[tuple(row[k] for k in key)] = row
        # Through the model, so the session forgets the rows it had loaded.
        await self.session.execute(
            delete(model)
            .where(table.c.person_id.in_([e.person_id for e in events]))
            .execution_options(synchronize_session="fetch")
        )
        if rows:
            await self.session.execute(insert(table).values(list(rows.values())))

    # Reading

    async def units(self, ids: Iterable[str] | None = None) -> dict[str, UnitT]:
        """The units named, or every unit: an org tree is hundreds of units, not millions."""
        model = self.tables.units
        query = select(model).execution_options(populate_existing=True)
        if ids is not None:
            query = query.where(self._units.c.id.in_(list(ids)))
        return {unit.id: unit for unit in (await self.session.execute(query)).scalars()}

    async def paths(self, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Each known unit's path from the root; a unit not heard of yet is left out."""
        table = self._units
        rows = await self.session.execute(
            select(table.c.id, table.c.path).where(table.c.id.in_(list(ids)))
        )
        return {unit_id: tuple(path) for unit_id, path in rows.all()}

    async def managed_units(self, person_id: str) -> list[str]:
        table = self._units
        rows = await self.session.execute(
            select(table.c.id).where(table.c.manager_id == person_id).order_by(table.c.id)
        )
        return list(rows.scalars())

    async def subtree(self, unit_ids: Collection[str]) -> set[str]:
        """The units at or under any of `unit_ids`."""
        if not unit_ids:
            return set()
        table = self._units
        rows = await self.session.execute(
            select(table.c.id).where(table.c.path.overlap(list(unit_ids)))
        )
        return set(rows.scalars())

    async def memberships(
        self, person_ids: Collection[str] | None = None
    ) -> dict[str, list[MembershipColumns]]:
        """Each person's memberships, oldest first."""
        model = self.tables.memberships
        table = self._memberships
        assert model is not None
        query = (
            select(model)
            .order_by(table.c.person_id, table.c.valid_from)
            .execution_options(populate_existing=True)
        )
        if person_ids is not None:
            query = query.where(table.c.person_id.in_(list(person_ids)))
        held: dict[str, list[MembershipColumns]] = defaultdict(list)
        for membership in (await self.session.execute(query)).scalars():
            held[membership.person_id].append(membership)
        return held

    async def members_of(
        self, unit_ids: Collection[str], on: date | None = None
    ) -> dict[str, list[str]]:
        """The people in each unit on the day `on`, or ever when it is None; sorted."""
        table = self._memberships
        query = select(table.c.org_unit_id, table.c.person_id).where(
            table.c.org_unit_id.in_(list(unit_ids))
        )
        if on is not None:
            query = query.where(
                table.c.valid_from <= on, or_(table.c.valid_to.is_(None), table.c.valid_to > on)
            )
        rows = await self.session.execute(
            query.distinct().order_by(table.c.org_unit_id, table.c.person_id)
        )
        members: dict[str, list[str]] = defaultdict(list)
        for unit_id, person_id in rows:
            members[unit_id].append(person_id)
        return members


class ArchivableGoal(Protocol):
    status: str
    version: int


GoalT = TypeVar("GoalT", bound=ArchivableGoal)


async def archive_goals(
    session: AsyncSession, model: type[GoalT], events: Sequence[GoalArchived]
) -> dict[str, GoalT]:
    """Each goal's newest `GoalArchived` applied to the service's copy of the goal
    (`model`, keyed by the goal id) where it is newer than the copy. Answers the
    goals the copy holds among the events', archived now or before."""
    held: dict[str, GoalT] = {}
    for goal_id, event in sorted(_newest(events, "goal_id").items()):
        goal = await session.get(model, goal_id)
        if goal is None:
            continue
        if event.version > goal.version:
            goal.status, goal.version = event.status, event.version
        held[goal_id] = goal
    await session.flush()
    return held
