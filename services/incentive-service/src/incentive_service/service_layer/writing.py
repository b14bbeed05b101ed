"""Writing priced statements. An open statement is replaced and published
(`EarningsUpdated`) whenever its figures change. A closed one is never
rewritten: the difference of its restated total from what was paid becomes an
adjustment line in the next open period of the same kind."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from attain_contracts import EarningsUpdated, Money
from attain_contracts.calendar import FiscalCalendar
from incentive_service.service_layer import Uow
from incentive_service.service_layer.plan_periods import Key, plan_period, statement_id
from incentive_service.service_layer.pricing import Pricing, digest, line_json
from incentive_service.store.tables import Adjustment, ClosedPeriod, Statement


async def keep(uow: Uow, priced: list[Pricing]) -> int:
    """Store the statements whose figures changed and publish them; how many changed."""
    existing = await uow.store.statements.by_keys([p.key for p in priced])
    now = uow.clock.now()
    rows = []
    for pricing_ in priced:
        figures = digest(pricing_)
        held = existing.get(pricing_.key)
        if held is not None and held.digest == figures:
            continue
        row = _statement_row(pricing_, figures, (held.version if held else 0) + 1, now)
        rows.append(row)
        uow.publish(
            EarningsUpdated(
                statement_id=statement_id(*pricing_.key),
                person_id=pricing_.key[0],
                period_key=pricing_.key[1],
                total=Money(amount=pricing_.priced.total, currency=pricing_.currency),
                version=row["version"],
                updated_at=now,
            )
        )
    await uow.store.statements.upsert(rows)
    return len(rows)


async def carry_forward(
    uow: Uow,
    calendar: FiscalCalendar,
    restated: list[Pricing],
    paid_before: dict[Key, Statement],
    closed: dict[str, ClosedPeriod],
) -> None:
    """Each difference of a restated closed statement from what was paid (its
    total and what was carried out of it since) as an adjustment into the next
    open period of its kind, and that statement queued to be priced again."""
    carried = await uow.store.adjustments.carried_out([p.key for p in restated])
    now = uow.clock.now()
    adjustments, targets = [], []
    for pricing_ in restated:
        held = paid_before.get(pricing_.key)
        paid = (held.total if held else Decimal("0.00")) + carried.get(pricing_.key, Decimal(0))
        amount = pricing_.priced.total - paid
        if amount == 0:
            continue
        target = _next_open(calendar, pricing_.key[1], closed)
        adjustments.append(
            Adjustment(
                person_id=pricing_.key[0],
                source_period_key=pricing_.key[1],
                target_period_key=target,
                restated=pricing_.priced.total,
                paid=paid,
                amount=amount,
                created_at=now,
            )
        )
        targets.append((pricing_.key[0], target))
    await uow.store.adjustments.add(adjustments)
    await uow.store.queue.enqueue(targets)


def _next_open(calendar: FiscalCalendar, period_key: str, closed: dict[str, ClosedPeriod]) -> str:
    period, grain = plan_period(calendar, period_key) or (None, None)
    assert period is not None and grain is not None
    while True:
        period = calendar.containing(period.end + timedelta(days=1), grain)
        if period.key not in closed:
            return period.key or ""


def _statement_row(p: Pricing, figures: str, version: int, now: datetime) -> dict[str, Any]:
    return {
        "person_id": p.key[0],
        "period_key": p.key[1],
        "period_start": p.period.start,
        "period_end": p.period.end,
        "plan_id": p.plan.id if p.plan else None,
        "plan_effective_from": p.effective_from,
        "status": "open",
        "currency": p.currency,
        "quota_goal_id": p.quota.goal_id if p.quota else None,
        "quota": p.quota.target if p.quota else None,
        "revenue": p.priced.revenue,
        "attainment": p.priced.attainment,
        "total": p.priced.total,
        "lines": [line_json(line) for line in p.priced.lines],
        "warnings": list(p.priced.warnings),
        "digest": figures,
        "version": version,
        "priced_at": now,
        "closed_at": None,
    }
