"""Who sees whose figures (ARCHITECTURE.md Auth): admins, planners and viewers
see everyone; a manager sees the people who are or were in the org units they
manage (and their subtrees); a rep sees themself. Anyone else is answered as
if the person did not exist. A plan assigned to a role is general terms, read by
everyone; one assigned to people only (their own terms and target incentive) by
those people, the managers above them, and who sees everyone."""

from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from incentive_service.store import queries
from servicekit.auth import Principal, Role
from servicekit.problems import NotFound

READS_ALL = (Role.ADMIN, Role.PLANNER, Role.VIEWER)


async def managed_subtree(session: AsyncSession, principal: Principal) -> set[str]:
    """The org units under every unit the principal manages."""
    if not principal.has_any(Role.MANAGER) or principal.person_id is None:
        return set()
    managed = set(await queries.managed_units(session, principal.person_id))
    if not managed:
        return set()
    units = await queries.org_units(session)
    return {unit.id for unit in units.values() if not managed.isdisjoint(unit.path)}


async def may_see_person(session: AsyncSession, principal: Principal, person_id: str) -> bool:
    if principal.has_any(*READS_ALL):
        return True
    if principal.person_id == person_id and principal.has_any(Role.MANAGER, Role.REP):
        return True
    subtree = await managed_subtree(session, principal)
    held = await queries.memberships(session, [person_id])
    return any(m.org_unit_id in subtree for m in held.get(person_id, []))


async def require_person(session: AsyncSession, principal: Principal, person_id: str) -> None:
    if not await may_see_person(session, principal, person_id):
        raise NotFound(f"no person {person_id}")


async def manages_person(session: AsyncSession, principal: Principal, person_id: str) -> bool:
    """A manager above the person, not the person themself."""
    if principal.person_id == person_id:
        return False
    subtree = await managed_subtree(session, principal)
    held = await queries.memberships(session, [person_id])
    return any(m.org_unit_id in subtree for m in held.get(person_id, []))


async def may_see_unit(session: AsyncSession, principal: Principal, unit_id: str) -> bool:
    """Everyone sees the boards of the units on their own path; managers also their subtree."""
    if principal.has_any(*READS_ALL):
        return True
    if unit_id in await managed_subtree(session, principal):
        return True
    if principal.person_id is None:
        return False
    units = await queries.org_units(session)
    held = await queries.memberships(session, [principal.person_id])
    return any(
        unit_id in units[m.org_unit_id].path
        for m in held.get(principal.person_id, [])
        if m.org_unit_id in units
    )


async def may_see_plan(
    session: AsyncSession, principal: Principal, assignments: Iterable[Mapping[str, object]]
) -> bool:
    if principal.has_any(*READS_ALL):
        return True
    for assignment in assignments:
        person_id = assignment.get("person_id")
        if not isinstance(person_id, str) or await may_see_person(session, principal, person_id):
            return True
    return False
