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
from dataclasses import dataclass

from alert_service.store import AlertStore
from alert_service.store.tables import Alert, Delivery, Goal, OrgUnit, RuleSetting
from servicekit.auth import Principal, Role
from servicekit.errors import Missing

READS_ALL = (Role.ADMIN, Role.PLANNER, Role.VIEWER)


@dataclass(frozen=True)
class Visibility:
    everything: bool
    person_id: str | None
    managed: frozenset[str]
    managed_paths: tuple[tuple[str, ...], ...] = ()

    def sees(self, alert: Alert) -> bool:
        return self.everything or self.owns(alert) or self.manages(alert)

    def owns(self, alert: Alert) -> bool:
        return self.person_id is not None and alert.owner_id == self.person_id

    def manages(self, alert: Alert) -> bool:
        return not self.managed.isdisjoint(alert.org_path)

    def sees_goal(self, goal: Goal, path: Sequence[str]) -> bool:
        return (
            self.everything
            or (self.person_id is not None and self.person_id in (goal.owner_id, goal.person_id))
            or not self.managed.isdisjoint(path)
        )

    def sees_unit(self, unit: OrgUnit) -> bool:
        """Its subtree, and the units above it whose settings it inherits."""
        return (
            self.everything
            or not self.managed.isdisjoint(unit.path)
            or any(unit.id in path for path in self.managed_paths)
        )


async def visibility(store: AlertStore, principal: Principal) -> Visibility:
    if principal.has_any(*READS_ALL):
        return Visibility(True, principal.person_id, frozenset())
    managed: frozenset[str] = frozenset()
    if principal.has_any(Role.MANAGER) and principal.person_id:
        managed = frozenset(await store.org.units_managed_by(principal.person_id))
    person = principal.person_id if principal.has_any(Role.MANAGER, Role.REP) else None
    paths = tuple(tuple(u.path) for u in (await store.org.units(managed)).values())
    return Visibility(False, person, managed, paths)


async def visible_alert(
    store: AlertStore, principal: Principal, alert_id: str, *, for_update: bool = False
) -> tuple[Alert, Visibility]:
    alert = await store.alerts.one(alert_id, for_update=for_update)
    seen = await visibility(store, principal)
    if alert is None or not seen.sees(alert):
        raise Missing(f"no alert {alert_id}")
    return alert, seen


def may_act(principal: Principal, seen: Visibility, alert: Alert) -> bool:
    return principal.has_any(Role.ADMIN) or seen.owns(alert) or seen.manages(alert)


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
    seen = await visibility(store, principal)
    if goal is None or not seen.sees_goal(goal, path or (goal.org_unit_id,)):
        raise Missing(f"no goal {goal_id}")
    return goal, path


async def visible_settings(
    store: AlertStore, principal: Principal, settings: list[RuleSetting]
) -> list[RuleSetting]:
    seen = await visibility(store, principal)
    if seen.everything:
        return settings
    units = await store.org.units({s.scope_id for s in settings if s.scope == "org_unit"})
    goal_ids = {s.scope_id for s in settings if s.scope == "goal"}
    goals = {g.goal_id: g for g in await store.goals.by_id(goal_ids)}
    goal_units = await store.org.units({g.org_unit_id for g in goals.values()})

    def sees(setting: RuleSetting) -> bool:
        if setting.scope == "org_unit":
            unit = units.get(setting.scope_id)
            return unit is not None and seen.sees_unit(unit)
        if setting.scope == "goal":
            goal = goals.get(setting.scope_id)
            unit = goal_units.get(goal.org_unit_id) if goal else None
            return goal is not None and seen.sees_goal(goal, unit.path if unit else ())
        return True

    return [s for s in settings if sees(s)]


def actor(principal: Principal) -> str:
    """Who a change is recorded as made by."""
    return principal.person_id or principal.subject
