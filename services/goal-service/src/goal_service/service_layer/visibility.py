"""Who may see and shape what (issue 4, ARCHITECTURE.md Auth): planners and
admins shape plans; viewers read everything; a manager reads and proposes within
the subtrees of the units they manage; a rep reads their own goals and proposes
their own share. A person's record (e-mail, memberships) is read by the person,
the managers of any unit they belong or belonged to, and who reads everything.
Anything else is answered as if it did not exist."""

from dataclasses import dataclass

from goal_service.store import GoalStore
from goal_service.store.tables import Goal, Membership
from servicekit.auth import Principal, Role
from servicekit.errors import Missing

SHAPES = (Role.ADMIN, Role.PLANNER)
READS_ALL = (Role.ADMIN, Role.PLANNER, Role.VIEWER)


@dataclass(frozen=True)
class Visibility:
    everything: bool
    shapes: bool
    person_id: str | None
    managed: frozenset[str]

    def sees_unit(self, path: list[str]) -> bool:
        return self.everything or not self.managed.isdisjoint(path)

    def is_person(self, person_id: str | None) -> bool:
        return person_id is not None and person_id == self.person_id


async def visibility(store: GoalStore, principal: Principal) -> Visibility:
    if principal.has_any(*READS_ALL):
        return Visibility(True, principal.has_any(*SHAPES), principal.person_id, frozenset())
    managed: frozenset[str] = frozenset()
    if principal.has_any(Role.MANAGER) and principal.person_id:
        managed = frozenset(u.id for u in await store.org.managed_units(principal.person_id))
    person = principal.person_id if principal.has_any(Role.MANAGER, Role.REP) else None
    return Visibility(False, False, person, managed)


async def sees_goal(store: GoalStore, seen: Visibility, goal: Goal) -> bool:
    if seen.everything or seen.is_person(goal.owner_id) or seen.is_person(goal.person_id):
        return True
    if not seen.managed:
        return False
    unit = await store.org.unit(goal.org_unit_id)
    return unit is not None and seen.sees_unit(unit.path)


async def visible_goal(store: GoalStore, principal: Principal, goal_id: str) -> Goal:
    """The goal, or Missing when it does not exist or the caller may not see it."""
    goal = await store.goals.goal(goal_id)
    if goal is None or not await sees_goal(store, await visibility(store, principal), goal):
        raise Missing(f"no goal {goal_id}")
    return goal


async def sees_person(
    store: GoalStore, seen: Visibility, person_id: str, memberships: list[Membership]
) -> bool:
    if seen.everything or seen.is_person(person_id):
        return True
    for membership in memberships if seen.managed else []:
        unit = await store.org.unit(membership.org_unit_id)
        if unit is not None and seen.sees_unit(unit.path):
            return True
    return False
