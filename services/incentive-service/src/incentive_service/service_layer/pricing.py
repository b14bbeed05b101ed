"""Pricing loaded statements: each (person, period) through `domain.pricing` with
the plan in force, its quota, the credits that count, its team's standing and the
adjustments carried in. No I/O: what it prices from is loaded before
(`loading`), what changed is written after (`writing`)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from attain_contracts import Period
from attain_contracts.calendar import Grain
from incentive_service.domain import pricing
from incentive_service.service_layer.loading import Directory, Inputs, Periods, Plans
from incentive_service.service_layer.plan_periods import Key
from incentive_service.store.tables import Adjustment, Plan


@dataclass(frozen=True)
class Pricing:
    """A statement as priced now, before it is compared with the stored one."""

    key: Key
    period: Period
    plan: Plan | None
    effective_from: date | None
    quota: pricing.Quota | None
    priced: pricing.Priced
    currency: str


@dataclass(frozen=True)
class Cutoff:
    """Which credits a closed period's restatement counts: all it was paid on
    (up to the last credit when it closed), and later corrections recorded in
    the ledger before the clawback window ended. Both are the ledger's order
    and time, never compared with this service's clock."""

    last_seq: int
    window_end: datetime

    def counts(self, seq: int, recorded_at: datetime) -> bool:
        return seq <= self.last_seq or recorded_at < self.window_end

    @property
    def last_day(self) -> date:
        """The last day a correction is counted on."""
        return (self.window_end - timedelta(days=1)).date()


@dataclass(frozen=True)
class Corrections:
    """A closed statement's credits that came after it closed: those its
    restatement counts, and those recorded after the clawback window."""

    counted: list[pricing.Credit]
    late: list[pricing.Credit]


def corrections(
    keys: Periods, inputs: Inputs, cutoffs: dict[Key, Cutoff]
) -> dict[Key, Corrections]:
    found = {}
    for key, (period, _) in keys.items():
        chosen, cutoff = inputs.chosen.get(key), cutoffs.get(key)
        if chosen is None or cutoff is None:
            continue
        after = [
            c
            for c in inputs.credited.get((key[0], chosen[0].metric), [])
            if period.start <= c.credited_on <= period.end and c.seq > cutoff.last_seq
        ]
        found[key] = Corrections(
            counted=[_credit(c) for c in after if cutoff.counts(c.seq, c.recorded_at)],
            late=[_credit(c) for c in after if not cutoff.counts(c.seq, c.recorded_at)],
        )
    return found


def price(
    keys: Periods,
    inputs: Inputs,
    plans: Plans,
    cutoffs: dict[Key, Cutoff],
    extra: dict[Key, list[pricing.Credit]] | None = None,
) -> list[Pricing]:
    """The statements of `keys` as priced now, in key order; `extra` credits
    (what-if deals) are added to the ledger's."""
    results = []
    for key, (period, _) in sorted(keys.items()):
        found = inputs.chosen[key]
        adjustments = [_carried(a) for a in inputs.carried.get(key, [])]
        if found is None:
            # Without a plan a statement is only kept to carry adjustments
            # (or to show it no longer applies, if one was priced before).
            if not adjustments and key not in inputs.existing:
                continue
            priced = _adjustments_only(adjustments)
            currency = inputs.existing[key].currency if key in inputs.existing else "XXX"
            results.append(Pricing(key, period, None, None, None, priced, currency))
            continue
        plan, effective_from = found
        terms = plans.terms[(plan.id, effective_from)]
        quota = inputs.quotas.get((key[0], plan.metric, period.start, period.end))
        cutoff = cutoffs.get(key)
        credits = [
            c
            for c in inputs.credited.get((key[0], plan.metric), [])
            if period.start <= c.credited_on <= period.end
            and (cutoff is None or cutoff.counts(c.seq, c.recorded_at))
        ]
        priced = pricing.price_statement(
            terms,
            quota=quota,
            credits=[_credit(c) for c in credits] + (extra or {}).get(key, []),
            person_id=key[0],
            team=inputs.teams.get(key),
            adjustments=adjustments,
        )
        results.append(Pricing(key, period, plan, effective_from, quota, priced, plan.currency))
    return results


def clawback_days(
    plans: Plans, directory: Directory, key: Key, period: Period, grain: Grain
) -> int:
    found = plans.for_(directory.assignee(key[0], period.end), period, grain)
    return plans.terms[(found[0].id, found[1])].clawback_days if found else 90


def line_json(line: pricing.Line) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "kind": line.kind,
        "component_id": line.component_id,
        "source": line.source,
        "basis": format(line.basis, "f"),
        "rate": None if line.rate is None else format(line.rate, "f"),
        "amount": format(line.amount, "f"),
        "formula": line.formula,
    }
    # Only an adjustment names deals: other lines read (and digest) as before.
    if line.deals:
        shown["deals"] = [
            {"deal_id": deal.deal_id, "amount": format(deal.amount, "f"), "period_key": period}
            for deal, period in line.deals
        ]
    return shown


def deals_json(deals: tuple[pricing.DealChange, ...]) -> list[dict[str, Any]]:
    return [
        {"deal_id": d.deal_id, "amount": format(d.amount, "f"), "entries": list(d.entries)}
        for d in deals
    ]


def digest(p: Pricing) -> str:
    """Equal for equal figures, so pricing again with nothing new publishes nothing."""
    content = {
        "plan": p.plan.id if p.plan else None,
        "effective_from": str(p.effective_from),
        "quota": [p.quota.goal_id, format(p.quota.target, "f")] if p.quota else None,
        "lines": [line_json(line) for line in p.priced.lines],
        "warnings": list(p.priced.warnings),
        "total": format(p.priced.total, "f"),
        "currency": p.currency,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _adjustments_only(adjustments: list[pricing.Adjustment]) -> pricing.Priced:
    lines = tuple(
        line
        for adjustment in sorted(adjustments, key=lambda a: a.source_period)
        if (line := pricing.adjustment_line(adjustment)) is not None
    )
    return pricing.Priced(
        revenue=Decimal(0),
        attainment=None,
        lines=lines,
        total=sum((line.amount for line in lines), Decimal("0.00")),
        warnings=("no plan applies to this period",),
    )


def _credit(row: Any) -> pricing.Credit:
    return pricing.Credit(
        entry_id=row.entry_id,
        deal_id=row.deal_id,
        credited_on=row.credited_on,
        amount=row.amount,
        product_line=row.product_line,
    )


def _carried(adjustment: Adjustment) -> pricing.Adjustment:
    window = adjustment.window_end
    return pricing.Adjustment(
        source_period=adjustment.source_period_key,
        restated=adjustment.restated,
        paid=adjustment.paid,
        deals=tuple(
            pricing.DealChange(d["deal_id"], Decimal(d["amount"]), tuple(d.get("entries", ())))
            for d in adjustment.deals
        ),
        window_closed=(
            (window.astimezone(UTC) - timedelta(days=1)).date()
            if adjustment.kind == "outside_window" and window is not None
            else None
        ),
    )
