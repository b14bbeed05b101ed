"""Who may read what (ARCHITECTURE.md, Auth): admins, planners and viewers read
everything; a manager reads the subtrees of the org units they manage and their
own goals; a rep reads their own. Anything else is answered as if it did not exist."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.auth import Principal, Role
from tracking_service.store import queries
from tracking_service.store.tables import Goal

READS_ALL = (Role.ADMIN, Role.PLANNER, Role.VIEWER)


@dataclass(frozen=True)
class Visibility:
    """`everything`, or the person's own and the subtrees of `managed` units."""

    everything: bool
    person_id: str | None
    managed: frozenset[str]

    def sees_path(self, path: Iterable[str]) -> bool:
        return self.everything or not self.managed.isdisjoint(path)

    def sees_person(self, person_id: str | None) -> bool:
        return self.everything or (person_id is not None and person_id == self.person_id)


async def visibility(session: AsyncSession, principal: Principal) -> Visibility:
    if principal.has_any(*READS_ALL):
        return Visibility(True, principal.person_id, frozenset())
    managed: frozenset[str] = frozenset()
    if principal.has_any(Role.MANAGER) and principal.person_id:
        managed = frozenset(await queries.managed_units(session, principal.person_id))
    person = principal.person_id if principal.has_any(Role.MANAGER, Role.REP) else None
    return Visibility(False, person, managed)


async def sees_goal(session: AsyncSession, seen: Visibility, goal: Goal) -> bool:
    if seen.everything or seen.sees_person(goal.owner_id) or seen.sees_person(goal.person_id):
        return True
    if not seen.managed:
        return False
    paths = await queries.unit_paths(session, [goal.org_unit_id])
    return seen.sees_path(paths.get(goal.org_unit_id, [goal.org_unit_id]))
