"""Who may read what (ARCHITECTURE.md, Auth; servicekit.visibility): admins, planners
and viewers read everything; a manager the subtrees of the org units they manage
and their own goals; a rep their own. Anything else is answered as if it did not
exist. Here: tracking-service's own rules, for goals and CRM records."""

from servicekit.auth import Principal, Role
from servicekit.visibility import Visibility
from tracking_service.store import TrackingStore
from tracking_service.store.tables import CrmRecord, Goal, LedgerEntry


async def visibility(store: TrackingStore, principal: Principal) -> Visibility:
    return await Visibility.of(principal, store.org)


async def sees_goal(store: TrackingStore, seen: Visibility, goal: Goal) -> bool:
    if seen.everything or seen.sees_person(goal.owner_id) or seen.sees_person(goal.person_id):
        return True
    if not seen.managed:
        return False
    paths = await store.org.paths([goal.org_unit_id])
    return seen.sees_path(paths.get(goal.org_unit_id, (goal.org_unit_id,)))


def sees_record(
    principal: Principal, seen: Visibility, record: CrmRecord, entries: list[LedgerEntry]
) -> bool:
    """A record's history: for who reads everything and integrations, its owner, and
    who sees a person or a unit its ledger rows credit."""
    if seen.everything or principal.has_any(Role.INTEGRATION):
        return True
    return seen.sees_person(record.owner_id) or any(
        seen.sees_person(e.person_id) or seen.sees_path(e.org_path) for e in entries
    )
