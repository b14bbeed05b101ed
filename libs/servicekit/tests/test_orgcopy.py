"""The shared org copy against PostgreSQL, in both shapes the services keep: with a
person table and its own columns (alert, incentive), and with memberships that
hold the person's version (tracking). Newer versions apply, equal and older ones
change nothing, the newest of a batch wins."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from attain_contracts import GoalArchived, OrgUnitUpserted, PersonUpserted
from attain_contracts.types import Membership
from servicekit.auth import Principal, Role
from servicekit.db import create_engine, create_sessionmaker
from servicekit.orgcopy import (
    MembershipColumns,
    OrgCopy,
    OrgTables,
    OrgUnitColumns,
    PersonColumns,
    archive_goals,
)
from servicekit.visibility import Visibility

pytestmark = pytest.mark.integration

METADATA = MetaData()
NOW = datetime(2026, 3, 1, tzinfo=UTC)


class NamedUnit(OrgUnitColumns, table=True):
    metadata = METADATA
    __tablename__ = "org_unit"
    __table_args__ = {"schema": "kit_named"}
    name: str
    parent_id: str | None = None


class NamedPerson(PersonColumns, table=True):
    metadata = METADATA
    __tablename__ = "person"
    __table_args__ = {"schema": "kit_named"}
    name: str
    email: str | None = None
    last_recorded_on: date | None = None


class UnitMembership(MembershipColumns, table=True):
    metadata = METADATA
    __tablename__ = "membership"
    __table_args__ = {"schema": "kit_named"}
    org_unit_id: str = Field(primary_key=True)


class Goal(SQLModel, table=True):
    metadata = METADATA
    __tablename__ = "goal"
    __table_args__ = {"schema": "kit_named"}
    goal_id: str = Field(primary_key=True)
    status: str
    version: int


class BareUnit(OrgUnitColumns, table=True):
    metadata = METADATA
    __tablename__ = "org_unit"
    __table_args__ = {"schema": "kit_bare"}


class VersionedMembership(MembershipColumns, table=True):
    metadata = METADATA
    __tablename__ = "membership"
    __table_args__ = {"schema": "kit_bare"}
    person_version: int


NAMED = OrgTables(units=NamedUnit, people=NamedPerson, memberships=UnitMembership)
BARE = OrgTables(units=BareUnit, memberships=VersionedMembership)


@pytest.fixture(scope="module")
async def sessions(module_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(module_database)
    async with engine.begin() as conn:
        for schema in ("kit_named", "kit_bare"):
            await conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        await conn.run_sync(METADATA.create_all)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session
        await session.rollback()


def unit(
    unit_id: str, version: int, path: list[str], manager: str | None = None
) -> OrgUnitUpserted:
    return OrgUnitUpserted(
        org_unit_id=unit_id,
        name=f"{unit_id} v{version}",
        kind="team",
        parent_id=path[-2] if len(path) > 1 else None,
        manager_id=manager,
        path=path,
        version=version,
        updated_at=NOW,
    )


def person(person_id: str, version: int, *stints: tuple[str, date, date | None]) -> PersonUpserted:
    return PersonUpserted(
        person_id=person_id,
        name=f"{person_id} v{version}",
        email=f"{person_id}@example.com",
        maturity="experienced",
        memberships=[
            Membership(org_unit_id=u, valid_from=start, valid_to=end) for u, start, end in stints
        ],
        version=version,
        updated_at=NOW,
    )


@pytest.mark.parametrize("tables", [NAMED, BARE], ids=["named", "bare"])
async def test_units_apply_newer_versions_only(session: AsyncSession, tables: OrgTables) -> None:
    org = OrgCopy(session, tables)
    first = await org.apply_units(
        [
            unit("root", 1, ["root"]),
            unit("east", 2, ["root", "east"], "ann"),
            unit("east", 1, ["east"]),
        ]
    )
    assert first.changed == ("east", "root") and first.first_heard == ("east", "root")
    assert (await org.paths(["east", "nowhere"])) == {"east": ("root", "east")}

    again = await org.apply_units([unit("east", 2, ["x"], "bob"), unit("east", 1, ["y"])])
    assert again.changed == () and again.first_heard == ()
    assert (await org.units(["east"]))["east"].manager_id == "ann"

    moved = await org.apply_units([unit("east", 3, ["root", "east"], "bob")])
    assert moved.changed == ("east",) and moved.first_heard == ()
    assert await org.managed_units("bob") == ["east"]
    assert await org.subtree({"root"}) == {"root", "east"}
    if tables is NAMED:
        assert (await org.units(["east"]))["east"].name == "east v3"


@pytest.mark.parametrize("tables", [NAMED, BARE], ids=["named", "bare"])
async def test_people_replace_memberships_from_newer_versions(
    session: AsyncSession,
    tables: OrgTables,
) -> None:
    org = OrgCopy(session, tables)
    jan, apr = date(2026, 1, 1), date(2026, 4, 1)
    first = await org.apply_people(
        [
            person("ann", 1, ("east", jan, None)),
            person("ann", 2, ("east", jan, apr), ("west", apr, None)),
        ]
    )
    assert first.changed == ("ann",) and first.first_heard == ("ann",)
    held = (await org.memberships(["ann"]))["ann"]
    assert [(m.org_unit_id, m.valid_to) for m in held] == [("east", apr), ("west", None)]

    stale = await org.apply_people([person("ann", 2, ("north", jan, None)), person("ann", 1)])
    assert stale.changed == ()
    assert len((await org.memberships(["ann"]))["ann"]) == 2

    assert await org.members_of(["east", "west"]) == {"east": ["ann"], "west": ["ann"]}
    assert await org.members_of(["east", "west"], date(2026, 5, 1)) == {"west": ["ann"]}

    newer = await org.apply_people([person("ann", 3, ("north", jan, None))])
    assert newer.changed == ("ann",) and newer.first_heard == ()
    assert [m.org_unit_id for m in (await org.memberships(["ann"]))["ann"]] == ["north"]
    if tables is NAMED:
        found = await session.get(NamedPerson, "ann")
        assert found is not None and found.email == "ann@example.com" and found.version == 3


async def test_person_columns_of_the_service_survive_an_upsert(session: AsyncSession) -> None:
    org = OrgCopy(session, NAMED)
    await org.apply_people([person("cy", 1)])
    found = await session.get(NamedPerson, "cy")
    assert found is not None
    found.last_recorded_on = date(2026, 2, 2)
    await session.flush()
    await org.apply_people([person("cy", 2)])
    session.expire_all()
    found = await session.get(NamedPerson, "cy")
    assert found is not None and found.version == 2 and found.last_recorded_on == date(2026, 2, 2)


def archived(goal_id: str, version: int, status: str = "closed") -> GoalArchived:
    return GoalArchived(goal_id=goal_id, status=status, version=version, archived_at=NOW)


async def test_an_archive_applies_when_newer_than_the_goal(session: AsyncSession) -> None:
    """An archive is a version of its own: an equal version is it redelivered (or a
    change the copy already has), an older one late."""
    session.add_all(
        [
            Goal(goal_id="g1", status="active", version=4),
            Goal(goal_id="g2", status="active", version=4),
        ]
    )
    await session.flush()
    held = await archive_goals(
        session,
        Goal,
        [archived("g1", 5), archived("g1", 6, "cancelled"), archived("g2", 4), archived("g9", 1)],
    )
    assert sorted(held) == ["g1", "g2"]
    assert (held["g1"].status, held["g1"].version) == ("cancelled", 6)
    assert (held["g2"].status, held["g2"].version) == ("active", 4)


async def test_visibility_reads_the_managed_subtrees_from_the_copy(session: AsyncSession) -> None:
    org = OrgCopy(session, BARE)
    await org.apply_units(
        [
            unit("hq", 1, ["hq"]),
            unit("south", 1, ["hq", "south"], "mia"),
            unit("sw", 1, ["hq", "south", "sw"]),
        ]
    )
    seen = await Visibility.of(Principal("m", "mia", frozenset({Role.MANAGER})), org)
    assert seen.managed == {"south"} and seen.managed_paths == (("hq", "south"),)
    assert seen.sees_path(["hq", "south", "sw"]) and not seen.sees_path(["hq"])
    assert seen.sees_unit_or_above("hq", ["hq"])
