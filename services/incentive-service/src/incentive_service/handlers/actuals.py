"""Credits from the actuals ledger, priced under the flat-rate plan in force on
the credit date, and the statement totals they change."""

from typing import Any

import structlog

from attain_contracts import ActualRecorded
from incentive_service.domain.flat_rate import earning, period_key, plan_in_force
from incentive_service.store import events, queries
from servicekit.uow import UnitOfWork

log = structlog.get_logger()

PRICED_METRIC = "revenue"


async def record_earnings(uow: UnitOfWork, actuals: list[ActualRecorded]) -> None:
    # The inbox drops a redelivered event, but the tracking-service may publish
    # the same ledger row again under a new event id; the entry id catches that.
    by_entry: dict[str, ActualRecorded] = {}
    for actual in actuals:
        if actual.metric == PRICED_METRIC:
            by_entry.setdefault(actual.entry_id, actual)
    credits = list(by_entry.values())
    if not credits:
        return
    session = uow.session
    days = [credit.credited_on for credit in credits]
    plans = await queries.plans_overlapping(session, PRICED_METRIC, min(days), max(days))
    now = uow.clock.now()
    rows: list[dict[str, Any]] = []
    for credit in credits:
        plan = plan_in_force(plans, credit.credited_on)
        if plan is None:
            log.warning(
                "incentive.no_plan",
                entry_id=credit.entry_id,
                person_id=credit.person_id,
                credited_on=credit.credited_on.isoformat(),
            )
            continue
        if credit.currency is not None and credit.currency != plan.currency:
            log.warning(
                "incentive.currency_mismatch",
                entry_id=credit.entry_id,
                plan_id=plan.id,
                credit_currency=credit.currency,
                plan_currency=plan.currency,
            )
            continue
        rows.append(
            {
                "entry_id": credit.entry_id,
                "person_id": credit.person_id,
                "deal_id": credit.deal_id,
                "plan_id": plan.id,
                "credited_on": credit.credited_on,
                "period_key": period_key(credit.credited_on),
                "base_amount": credit.amount,
                "rate": plan.rate,
                "amount": earning(credit.amount, plan.rate),
                "currency": plan.currency,
                "recorded_at": now,
            }
        )
    if not rows:
        return
    await queries.lock_periods(session, [(row["person_id"], row["period_key"]) for row in rows])
    touched = await queries.add_earnings(session, rows)
    if not touched:
        return
    for total in await queries.period_totals(session, touched):
        uow.publish(events.earnings_updated(total, now))
