"""Who sees and acts on which alert (ARCHITECTURE.md Auth): admins, planners and
viewers see every alert; a manager sees their own and those of every goal in the
org units they manage; a rep sees their own. Anything else is answered as if it
did not exist. Acting (acknowledge, snooze) is for the owner, a manager above
the goal, or an admin. A delivery's target (an address, or a chat bot's URL that
is a credential to post into its channel) is for its recipient and admins only.
A goal's effective rules are for who sees the goal; a setting scoped to an org
unit for who manages a unit on its path or under it, one scoped to a goal for
who sees that goal."""

from collections.abc import Sequence

from alert_service.store import AlertStore
from alert_service.store.tables import Alert, Delivery, Goal, RuleSetting
from servicekit.auth import Principal, Role
from servicekit.errors import Missing
from servicekit.visibility import Visibility


def sees_alert(seen: Visibility, alert: Alert) -> bool:
    return seen.everything or seen.is_person(alert.owner_id) or seen.manages(alert.org_path)


def sees_goal(seen: Visibility, goal: Goal, path: Sequence[str]) -> bool:
    return (
        seen.everything
        or seen.is_person(goal.owner_id)
        or seen.is_person(goal.person_id)
        or seen.manages(path)
    )


async def visible_alert(
    store: AlertStore, principal: Principal, alert_id: str, *, for_update: bool = False
) -> tuple[Alert, Visibility]:
    alert = await store.alerts.one(alert_id, for_update=for_update)
    seen = await Visibility.of(principal, store.org)
    if alert is None or not sees_alert(seen, alert):
        raise Missing(f"no alert {alert_id}")
    return alert, seen


def may_act(principal: Principal, seen: Visibility, alert: Alert) -> bool:
    return (
        principal.has_any(Role.ADMIN)
        or seen.is_person(alert.owner_id)
        or seen.manages(alert.org_path)
    )


def sees_target(principal: Principal, delivery: Delivery) -> bool:
    return principal.has_any(Role.ADMIN) or principal.person_id == delivery.person_id


async def visible_goal(
    store: AlertStore, principal: Principal, goal_id: str
) -> tuple[Goal, tuple[str, ...]]:
    """The goal and its org path; 404 alike when it is missing and when it is not the caller's."""
    goal = await store.goals.one(goal_id)
    path: tuple[str, ...] = ()
    if goal is not None:
        unit = (await store.org.units([goal.org_unit_id])).get(goal.org_unit_id)
        path = tuple(unit.path) if unit else ()
    seen = await Visibility.of(principal, store.org)
    if goal is None or not sees_goal(seen, goal, path or (goal.org_unit_id,)):
        raise Missing(f"no goal {goal_id}")
    return goal, path


async def visible_settings(
    store: AlertStore, principal: Principal, settings: list[RuleSetting]
) -> list[RuleSetting]:
    seen = await Visibility.of(principal, store.org)
    if seen.everything:
        return settings
    units = await store.org.units({s.scope_id for s in settings if s.scope == "org_unit"})
    goal_ids = {s.scope_id for s in settings if s.scope == "goal"}
    goals = {g.goal_id: g for g in await store.goals.by_id(goal_ids)}
    goal_units = await store.org.units({g.org_unit_id for g in goals.values()})

    def sees(setting: RuleSetting) -> bool:
        if setting.scope == "org_unit":
            unit = units.get(setting.scope_id)
            return unit is not None and seen.sees_unit_or_above(unit.id, unit.path)
        if setting.scope == "goal":
            goal = goals.get(setting.scope_id)
            unit = goal_units.get(goal.org_unit_id) if goal else None
            return goal is not None and sees_goal(seen, goal, unit.path if unit else ())
        return True

    return [s for s in settings if sees(s)]


def actor(principal: Principal) -> str:
    """Who a change is recorded as made by."""
    return principal.person_id or principal.subject
