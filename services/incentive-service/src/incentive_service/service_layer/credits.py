"""Credits from the actuals ledger. Each ledger row of a metric a plan can price
is kept once (by its entry id) and marks the statements it changes: the
person's month, quarter and year, and, where a plan pays a team bonus, their
teammates' (a teammate's deal moves the team's attainment)."""

from collections import defaultdict
from typing import Any

from attain_contracts import ActualRecorded, Period
from attain_contracts.calendar import FiscalCalendar
from incentive_service.service_layer import Uow
from incentive_service.service_layer.plan_periods import statement_periods

# The metrics a plan can pay on (DOMAIN.md §2): money credited to a person.
PRICED_METRICS = ("revenue", "collections")


async def record_credits(uow: Uow, calendar: FiscalCalendar, actuals: list[ActualRecorded]) -> None:
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
    store = uow.store
    inserted = await store.credits.add(list(rows.values()))
    if not inserted:
        return
    keys: set[tuple[str, str]] = set()
    teams: dict[Period, set[str]] = defaultdict(set)
    for person_id, credited_on, org_path in inserted:
        for period in statement_periods(calendar, credited_on):
            keys.add((person_id, period.key or ""))
            if org_path:
                teams[period].add(org_path[-1])
    if teams and await store.plans.any_team_bonus():
        for period, units in teams.items():
            members = await store.org.members_of(units, period.end)
            keys.update(
                (person, period.key or "") for people in members.values() for person in people
            )
    await store.queue.enqueue(keys)
