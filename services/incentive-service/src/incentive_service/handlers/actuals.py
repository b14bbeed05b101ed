"""Credits from the actuals ledger. Each ledger row of a metric a plan can price
is kept once (by its entry id) and marks the statements it changes: the
person's month, quarter and year, and, where a plan pays a team bonus, their
teammates' (a teammate's deal moves the team's attainment)."""

from typing import Any

from attain_contracts import ActualRecorded
from attain_contracts.calendar import FiscalCalendar
from incentive_service.settings import IncentiveSettings
from incentive_service.statements import PLAN_GRAINS, PRICED_METRICS
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
    calendar = FiscalCalendar(fiscal_year_start_month=settings.fiscal_year_start_month)
    keys: set[tuple[str, str]] = set()
    teams: set[tuple[str, str]] = set()
    for person_id, credited_on, org_path in inserted:
        for grain in PLAN_GRAINS:
            period = calendar.containing(credited_on, grain)
            keys.add((person_id, period.key or ""))
            if org_path:
                teams.add((org_path[-1], period.key or ""))
    if teams and await queries.any_team_bonus(uow.session):
        for unit_id, period_key in sorted(teams):
            period = calendar.period(period_key)
            members = await queries.members_of(uow.session, [unit_id], period.end)
            keys.update((person_id, period_key) for person_id in members.get(unit_id, []))
    await queries.enqueue(uow.session, keys)
