"""Who sees what, from the caller's roles and the units they manage."""

from collections.abc import Iterable

import pytest

from servicekit.auth import Principal, Role
from servicekit.visibility import Visibility

pytestmark = pytest.mark.unit

PATHS = {"hq": ("hq",), "south": ("hq", "south"), "sw": ("hq", "south", "sw")}


class Org:
    def __init__(self, managers: dict[str, list[str]]) -> None:
        self.managers = managers
        self.reads = 0

    async def managed_units(self, person_id: str) -> list[str]:
        self.reads += 1
        return self.managers.get(person_id, [])

    async def paths(self, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        return {i: PATHS[i] for i in ids if i in PATHS}


def caller(person_id: str | None, *roles: Role) -> Principal:
    return Principal(subject=person_id or "svc", person_id=person_id, roles=frozenset(roles))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PLANNER, Role.VIEWER])
async def test_readers_of_everything_see_everything_without_a_read(role: Role) -> None:
    org = Org({"pat": ["south"]})
    seen = await Visibility.of(caller("pat", role, Role.MANAGER), org)
    assert seen.everything and org.reads == 0
    assert seen.sees_path(["elsewhere"]) and seen.sees_person("anyone")
    assert not seen.is_person("anyone") and seen.is_person("pat")


async def test_a_manager_sees_their_subtrees_and_themself() -> None:
    seen = await Visibility.of(caller("mia", Role.MANAGER), Org({"mia": ["south"]}))
    assert not seen.everything
    assert seen.managed == {"south"} and seen.managed_paths == (("hq", "south"),)
    assert seen.sees_path(PATHS["sw"]) and seen.sees_path(PATHS["south"])
    assert not seen.sees_path(PATHS["hq"]) and not seen.manages(PATHS["hq"])
    assert seen.sees_unit_or_above("hq", PATHS["hq"])
    assert not seen.sees_unit_or_above("north", ("hq", "north"))
    assert seen.sees_person("mia") and not seen.sees_person("bob")


async def test_a_rep_sees_only_themself() -> None:
    org = Org({"bob": ["south"]})
    seen = await Visibility.of(caller("bob", Role.REP), org)
    assert org.reads == 0 and seen.managed == frozenset() and seen.managed_paths == ()
    assert seen.sees_person("bob") and not seen.sees_person("mia")
    assert not seen.sees_path(PATHS["sw"]) and not seen.sees_unit_or_above("hq", PATHS["hq"])
    assert not seen.sees_person(None)


async def test_an_integration_sees_nothing() -> None:
    seen = await Visibility.of(caller(None, Role.INTEGRATION), Org({}))
    assert not seen.everything and seen.person_id is None
    assert not seen.sees_person(None) and not seen.sees_path(PATHS["hq"])
