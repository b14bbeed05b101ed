"""Credits from the actuals ledger. Each ledger row of a metric a plan can price
is kept once (by its entry id) and marks the statements it changes: the
person's month, quarter and year, and, where a plan pays a team bonus, their
teammates' (a teammate's deal moves the team's attainment)."""

from collections import defaultdict
from typing import Any

from attain_contracts import ActualRecorded, Period
from incentive_service.settings import IncentiveSettings
from incentive_service.statements import PRICED_METRICS, statement_periods
from incentive_service.store import queries
from servicekit.uow import UnitOfWork


async def record_credits(
    uow: UnitOfWork, actuals: list[ActualRecorded], *, settings: IncentiveSettings
) -> None:
    # The inbox drops a redelivered event, but the tracking-service may publish
    # the same ledger row again under a new event id; the entry id catches that.
    rows: dict[str, dict[str, Any]] = {}
    for actual in actuals:
        if actual.metric in PRICED_METRICS:
            rows.setdefault(
                actual.entry_id,
                {
                    "entry_id": actual.entry_id,
                    "person_id": actual.person_id,
                    "deal_id": actual.deal_id,
                    "metric": actual.metric,
                    "org_path": actual.org_path,
                    "product_line": actual.product_line,
                    "credited_on": actual.credited_on,
                    "amount": actual.amount,
                    "currency": actual.currency,
                    "reason": actual.reason,
                    "recorded_at": actual.recorded_at,
                },
            )
    inserted = await queries.add_credits(uow.session, list(rows.values()))
    if not inserted:
        return
    calendar = settings.calendar()
    keys: set[tuple[str, str]] = set()
    teams: dict[Period, set[str]] = defaultdict(set)
    for person_id, credited_on, org_path in inserted:
        for period in statement_periods(calendar, credited_on):
            keys.add((person_id, period.key or ""))
            if org_path:
                teams[period].add(org_path[-1])
    if teams and await queries.any_team_bonus(uow.session):
        for period, units in teams.items():
            members = await queries.members_of(uow.session, units, period.end)
            keys.update(
                (person, period.key or "") for people in members.values() for person in people
            )
    await queries.enqueue(uow.session, keys)
