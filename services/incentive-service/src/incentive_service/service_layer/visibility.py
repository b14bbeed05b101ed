"""Who sees whose figures (ARCHITECTURE.md Auth): admins, planners and viewers
see everyone; a manager sees the people who are or were in the org units they
manage (and their subtrees); a rep sees themself. Anyone else is answered as
if the person did not exist. A plan assigned to a role is general terms, read by
everyone; one assigned to people only (their own terms and target incentive) by
those people, the managers above them, and who sees everyone."""

from collections.abc import Iterable, Mapping

from incentive_service.store import IncentiveStore
from servicekit.auth import Principal, Role
from servicekit.errors import Missing

READS_ALL = (Role.ADMIN, Role.PLANNER, Role.VIEWER)


async def managed_subtree(store: IncentiveStore, principal: Principal) -> set[str]:
    """The org units under every unit the principal manages."""
    if not principal.has_any(Role.MANAGER) or principal.person_id is None:
        return set()
    managed = set(await store.org.managed_units(principal.person_id))
    if not managed:
        return set()
    units = await store.org.units()
    return {unit.id for unit in units.values() if not managed.isdisjoint(unit.path)}


async def sees_person(store: IncentiveStore, principal: Principal, person_id: str) -> bool:
    if principal.has_any(*READS_ALL):
        return True
    if principal.person_id == person_id and principal.has_any(Role.MANAGER, Role.REP):
        return True
    return await _in_subtree(store, principal, person_id)


async def require_person(store: IncentiveStore, principal: Principal, person_id: str) -> None:
    if not await sees_person(store, principal, person_id):
        raise Missing(f"no person {person_id}")


async def manages_person(store: IncentiveStore, principal: Principal, person_id: str) -> bool:
    """A manager above the person, not the person themself."""
    if principal.person_id == person_id:
        return False
    return await _in_subtree(store, principal, person_id)


async def sees_unit(store: IncentiveStore, principal: Principal, unit_id: str) -> bool:
    """Everyone sees the boards of the units on their own path; managers also their subtree."""
    if principal.has_any(*READS_ALL):
        return True
    if unit_id in await managed_subtree(store, principal):
        return True
    if principal.person_id is None:
        return False
    units = await store.org.units()
    held = await store.org.memberships([principal.person_id])
    return any(
        unit_id in units[m.org_unit_id].path
        for m in held.get(principal.person_id, [])
        if m.org_unit_id in units
    )


async def sees_plan(
    store: IncentiveStore, principal: Principal, assignments: Iterable[Mapping[str, object]]
) -> bool:
    if principal.has_any(*READS_ALL):
        return True
    for assignment in assignments:
        person_id = assignment.get("person_id")
        if not isinstance(person_id, str) or await sees_person(store, principal, person_id):
            return True
    return False


async def _in_subtree(store: IncentiveStore, principal: Principal, person_id: str) -> bool:
    """Whether the person is or was in a unit under one the principal manages."""
    subtree = await managed_subtree(store, principal)
    held = await store.org.memberships([person_id])
    return any(m.org_unit_id in subtree for m in held.get(person_id, []))
