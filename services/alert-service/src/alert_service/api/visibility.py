"""Who sees and acts on which alert (ARCHITECTURE.md Auth): admins, planners and
viewers see every alert; a manager sees their own and those of every goal in the
org units they manage; a rep sees their own. Anything else is answered as if it
did not exist. Acting (acknowledge, snooze) is for the owner, a manager above
the goal, or an admin. A delivery's target (an address, or a chat bot's URL that
is a credential to post into its channel) is for its recipient and admins only."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from alert_service.store import queries
from alert_service.store.tables import Alert, Delivery
from servicekit.auth import Principal, Role
from servicekit.problems import NotFound

READS_ALL = (Role.ADMIN, Role.PLANNER, Role.VIEWER)


@dataclass(frozen=True)
class Visibility:
    everything: bool
    person_id: str | None
    managed: frozenset[str]

    def sees(self, alert: Alert) -> bool:
        return self.everything or self.owns(alert) or self.manages(alert)

    def owns(self, alert: Alert) -> bool:
        return self.person_id is not None and alert.owner_id == self.person_id

    def manages(self, alert: Alert) -> bool:
        return not self.managed.isdisjoint(alert.org_path)


async def visibility(session: AsyncSession, principal: Principal) -> Visibility:
    if principal.has_any(*READS_ALL):
        return Visibility(True, principal.person_id, frozenset())
    managed: frozenset[str] = frozenset()
    if principal.has_any(Role.MANAGER) and principal.person_id:
        managed = frozenset(await queries.units_managed_by(session, principal.person_id))
    person = principal.person_id if principal.has_any(Role.MANAGER, Role.REP) else None
    return Visibility(False, person, managed)


async def visible_alert(
    session: AsyncSession, principal: Principal, alert_id: str, *, for_update: bool = False
) -> tuple[Alert, Visibility]:
    alert = await queries.alert(session, alert_id, for_update=for_update)
    seen = await visibility(session, principal)
    if alert is None or not seen.sees(alert):
        raise NotFound(f"no alert {alert_id}")
    return alert, seen


def may_act(principal: Principal, seen: Visibility, alert: Alert) -> bool:
    return principal.has_any(Role.ADMIN) or seen.owns(alert) or seen.manages(alert)


def sees_target(principal: Principal, delivery: Delivery) -> bool:
    return principal.has_any(Role.ADMIN) or principal.person_id == delivery.person_id
