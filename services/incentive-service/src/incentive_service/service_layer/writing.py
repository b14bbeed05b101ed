"""Writing priced statements. An open statement is replaced and published
(`EarningsUpdated`) whenever its figures change. A closed one is never
rewritten: the difference of its restated total from what was paid becomes an
adjustment line in the next open period of the same kind."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from attain_contracts import EarningsUpdated, Money
from attain_contracts.calendar import FiscalCalendar
from incentive_service.domain import pricing
from incentive_service.service_layer import Uow
from incentive_service.service_layer.plan_periods import Key, plan_period, statement_id
from incentive_service.service_layer.pricing import (
    Corrections,
    Cutoff,
    Pricing,
    deals_json,
    digest,
    line_json,
)
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
    found: dict[Key, Corrections],
    cutoffs: dict[Key, Cutoff],
) -> None:
    """Each difference of a restated closed statement from what was paid (its
    total and what was carried out of it since) as an adjustment into the next
    open period of its kind, naming the deals whose corrections it is the first
    to count; each correction recorded after the clawback window as a zero
    adjustment saying so; and the statements they go to queued to be priced again."""
    store = uow.store
    keys = [p.key for p in restated]
    carried = await store.adjustments.carried_out(keys)
    named = await store.adjustments.named_entries(keys)
    now = uow.clock.now()
    adjustments, targets = [], []
    for pricing_ in restated:
        key = pricing_.key
        held = paid_before.get(key)
        paid = (held.total if held else Decimal("0.00")) + carried.get(key, Decimal(0))
        amount = pricing_.priced.total - paid
        after = found.get(key, Corrections([], []))
        behind = pricing.deal_changes(after.counted, named.get(key, set()))
        late = pricing.deal_changes(after.late, named.get(key, set()))
        if amount == 0 and not late:
            continue
        target = _next_open(calendar, key[1], closed)
        row: dict[str, Any] = {
            "person_id": key[0],
            "source_period_key": key[1],
            "target_period_key": target,
            "created_at": now,
        }
        if amount != 0:
            adjustments.append(
                Adjustment(
                    **row,
                    restated=pricing_.priced.total,
                    paid=paid,
                    amount=amount,
                    deals=deals_json(behind),
                )
            )
        if late:
            adjustments.append(
                Adjustment(
                    **row,
                    restated=pricing_.priced.total,
                    paid=pricing_.priced.total,
                    amount=Decimal("0.00"),
                    kind="outside_window",
                    deals=deals_json(late),
                    window_end=cutoffs[key].window_end,
                )
            )
        targets.append((key[0], target))
    await store.adjustments.add(adjustments)
    await store.queue.enqueue(targets)


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
