"""Who sees whose figures, on servicekit's `Visibility` (ARCHITECTURE.md Auth): a
manager sees the people who are or were in the org units they manage (and their
subtrees); a rep sees themself. Anyone else is answered as if the person did not
exist. A plan assigned to a role is general terms, read by everyone; one assigned
to people only (their own terms and target incentive) by those people, the
managers above them, and who sees everyone."""

from collections.abc import Collection, Iterable, Mapping

from incentive_service.store import IncentiveStore
from servicekit.auth import Principal, Role
from servicekit.errors import Missing
from servicekit.visibility import Visibility


async def visibility(store: IncentiveStore, principal: Principal) -> Visibility:
    return await Visibility.of(principal, store.org)


async def sees_person(store: IncentiveStore, seen: Visibility, person_id: str) -> bool:
    return seen.sees_person(person_id) or await _ever_under(store, seen.managed, person_id)


async def require_person(store: IncentiveStore, principal: Principal, person_id: str) -> None:
    if not await sees_person(store, await visibility(store, principal), person_id):
        raise Missing(f"no person {person_id}")


async def manages_person(store: IncentiveStore, principal: Principal, person_id: str) -> bool:
    """A manager above the person, not the person themself."""
    if principal.person_id in (None, person_id) or not principal.has_any(Role.MANAGER):
        return False
    managed = await store.org.managed_units(principal.person_id or "")
    return await _ever_under(store, managed, person_id)


async def sees_unit(store: IncentiveStore, seen: Visibility, unit_id: str) -> bool:
    """Everyone sees the boards of the units on their own path; managers also their subtree."""
    path = (await store.org.paths([unit_id])).get(unit_id, ())
    if seen.sees_path(path):
        return True
    if seen.person_id is None:
        return False
    held = await store.org.memberships([seen.person_id])
    paths = await store.org.paths({m.org_unit_id for m in held.get(seen.person_id, [])})
    return any(unit_id in own for own in paths.values())


async def sees_plan(
    store: IncentiveStore, seen: Visibility, assignments: Iterable[Mapping[str, object]]
) -> bool:
    if seen.everything:
        return True
    for assignment in assignments:
        person_id = assignment.get("person_id")
        if not isinstance(person_id, str) or await sees_person(store, seen, person_id):
            return True
    return False


async def _ever_under(store: IncentiveStore, managed: Collection[str], person_id: str) -> bool:
    """Whether the person is or was in a unit at or under one of `managed`."""
    if not managed:
        return False
    held = await store.org.memberships([person_id])
    paths = await store.org.paths({m.org_unit_id for m in held.get(person_id, [])})
    return any(not set(managed).isdisjoint(path) for path in paths.values())
