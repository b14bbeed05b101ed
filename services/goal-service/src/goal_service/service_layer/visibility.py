"""Who may see and shape what (issue 4, ARCHITECTURE.md Auth): planners and
admins shape plans; viewers read everything; a manager reads and proposes within
the subtrees of the units they manage; a rep reads their own goals and proposes
their own share. A person's record (e-mail, memberships) is read by the person,
the managers of any unit they belong or belonged to, and who reads everything.
Anything else is answered as if it did not exist. The value is servicekit's
`Visibility`; the `sees_*` rules here are goal-service's own."""

from goal_service.store import GoalStore
from goal_service.store.tables import Goal, Membership
from servicekit.auth import Principal, Role
from servicekit.errors import Missing
from servicekit.visibility import Visibility


async def visibility(store: GoalStore, principal: Principal) -> Visibility:
    return await Visibility.of(principal, store.org)


def shapes(principal: Principal) -> bool:
    """Planners and admins shape plans (apply them, propose for any child)."""
    return principal.has_any(Role.ADMIN, Role.PLANNER)


async def sees_goal(store: GoalStore, seen: Visibility, goal: Goal) -> bool:
    if seen.sees_person(goal.owner_id) or seen.sees_person(goal.person_id):
        return True
    if not seen.managed:
        return False
    unit = await store.org.unit(goal.org_unit_id)
    return unit is not None and seen.sees_path(unit.path)


async def visible_goal(store: GoalStore, principal: Principal, goal_id: str) -> Goal:
    """The goal, or Missing when it does not exist or the caller may not see it."""
    goal = await store.goals.goal(goal_id)
    if goal is None or not await sees_goal(store, await visibility(store, principal), goal):
        raise Missing(f"no goal {goal_id}")
    return goal


async def sees_person(
    store: GoalStore, seen: Visibility, person_id: str, memberships: list[Membership]
) -> bool:
    if seen.sees_person(person_id):
        return True
    for membership in memberships if seen.managed else []:
        unit = await store.org.unit(membership.org_unit_id)
        if unit is not None and seen.sees_path(unit.path):
            return True
    return False
