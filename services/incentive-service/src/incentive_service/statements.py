"""Pricing statements (DOMAIN.md §7): gather what a (person, period) is priced
from — the plan in force, the quota, the ledger's credits, the team's standing,
adjustments carried in — price it, and keep the statement if anything changed.

An open statement is replaced and published (`EarningsUpdated`) whenever its
figures change. A closed one is never rewritten: pricing it again (a late
credit or reversal) gives its restated total, and the difference from what was
paid becomes an adjustment line in the next open period of the same kind."""

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.dialects.postgresql import insert

from attain_contracts import EarningsUpdated, Money, Period
from attain_contracts.calendar import FiscalCalendar, Grain
from incentive_service.domain import pricing
from incentive_service.domain.assignment import Assignee, PlanChoice, plan_for
from incentive_service.domain.plans import PlanTerms, TeamBonus
from incentive_service.store import queries
from incentive_service.store.tables import (
    Adjustment,
    ClosedPeriod,
    Membership,
    OrgUnit,
    Plan,
    PlanVersion,
    Statement,
)
from servicekit.uow import UnitOfWork

PLAN_GRAINS: tuple[Grain, ...] = ("month", "quarter", "year")
# The metrics a plan can pay on (DOMAIN.md §2): money credited to a person.
PRICED_METRICS = ("revenue", "collections")
Key = tuple[str, str]  # (person_id, period_key)


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


@dataclass
class Directory:
    """What a batch needs of the org: every unit, and the batch's people."""

    units: dict[str, OrgUnit]
    memberships: dict[str, list[Membership]]
    managers: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.managers = frozenset(u.manager_id for u in self.units.values() if u.manager_id)

    def unit_of(self, person_id: str, on: date) -> str | None:
        """Their unit on `on`, else the last one they joined before it."""
        held = [m for m in self.memberships.get(person_id, []) if m.valid_from <= on]
        current = [m for m in held if m.valid_to is None or m.valid_to > on]
        chosen = current or held
        return (
            max(chosen, key=lambda m: (m.valid_from, m.org_unit_id)).org_unit_id if chosen else None
        )

    def assignee(self, person_id: str, on: date) -> Assignee:
        unit = self.unit_of(person_id, on)
        path = tuple(self.units[unit].path) if unit in self.units else ()
        return Assignee(person_id, "manager" if person_id in self.managers else "rep", path)


@dataclass
class Plans:
    rows: dict[str, Plan]
    terms: dict[tuple[str, date], PlanTerms]
    choices: list[PlanChoice]

    @classmethod
    def of(cls, plans: list[Plan], versions: list[PlanVersion]) -> "Plans":
        by_plan: dict[str, list[date]] = defaultdict(list)
        terms = {}
        for version in versions:
            by_plan[version.plan_id].append(version.effective_from)
            terms[(version.plan_id, version.effective_from)] = PlanTerms.model_validate(
                version.terms
            )
        choices = [
            PlanChoice(plan.id, plan.period_kind, plan.assignments, tuple(sorted(by_plan[plan.id])))
            for plan in plans
        ]
        return cls({plan.id: plan for plan in plans}, terms, choices)

    def for_(self, who: Assignee, period: Period, grain: Grain) -> tuple[Plan, date] | None:
        chosen = plan_for(self.choices, who, grain, period.start)
        return (self.rows[chosen[0].plan_id], chosen[1]) if chosen else None


class StatementEngine:
    def __init__(self, uow: UnitOfWork, calendar: FiscalCalendar) -> None:
        self.uow = uow
        self.session = uow.session
        self.calendar = calendar

    def period(self, period_key: str) -> tuple[Period, Grain] | None:
        period = self.calendar.period(period_key)
        grain = self.calendar.grain_of(period)
        return (period, grain) if grain in PLAN_GRAINS else None

    async def reprice(self, keys: Collection[Key], *, period_held: bool = False) -> int:
        """Price the given statements; how many changed. `period_held`: the caller
        holds their period exclusively (a payout run, a close), so nobody else
        prices them and no lock per statement is needed."""
        periods = {key: found for key in keys if (found := self.period(key[1])) is not None}
        if not periods:
            return 0
        if not period_held:
            await queries.lock_periods(self.session, {key[1] for key in periods}, shared=True)
            await queries.lock_statements(self.session, periods)
        closed = await queries.closed_periods(self.session)
        plans = Plans.of(
            await queries.plans(self.session), await queries.plan_versions(self.session)
        )
        directory = Directory(
            await queries.org_units(self.session),
            await queries.memberships(self.session, {person for person, _ in periods}),
        )
        open_keys = {key: p for key, p in periods.items() if key[1] not in closed}
        closed_keys = {key: p for key, p in periods.items() if key[1] in closed}
        changed = 0
        if open_keys:
            priced = await self._price(open_keys, plans, directory, cutoffs={})
            changed += await self._keep(priced)
        if closed_keys:
            await self._restate(closed_keys, closed, plans, directory)
        return changed

    async def _price(
        self,
        keys: dict[Key, tuple[Period, Grain]],
        plans: Plans,
        directory: Directory,
        cutoffs: dict[Key, "Cutoff"],
        extra: dict[Key, list[pricing.Credit]] | None = None,
    ) -> list[Pricing]:
        chosen = {
            key: plans.for_(directory.assignee(key[0], period.end), period, grain)
            for key, (period, grain) in keys.items()
        }
        carried = await queries.adjustments_into(self.session, keys)
        existing = await queries.statements(self.session, keys)
        # Only statements a plan prices need the ledger: the others carry adjustments at most.
        with_plan = [key for key, found in chosen.items() if found is not None]
        people = {person for person, _ in with_plan}
        metrics = {found[0].metric for found in chosen.values() if found is not None}
        first = min((keys[key][0].start for key in with_plan), default=date.max)
        last = max((keys[key][0].end for key in with_plan), default=date.min)
        quotas: dict[tuple[str, str, date, date], pricing.Quota] = {}
        credited: dict[tuple[str, str], list[Any]] = {}
        if with_plan:
            goals = await queries.person_goals(self.session, people, metrics, first, last)
            quotas = _quotas(goals)
            credited = _by_person(await queries.credits(self.session, people, metrics, first, last))
        teams = await self._teams(keys, chosen, plans, directory)
        results = []
        for key, (period, _) in sorted(keys.items()):
            found = chosen[key]
            adjustments = [_carried(a) for a in carried.get(key, [])]
            if found is None:
                # Without a plan a statement is only kept to carry adjustments
                # (or to show it no longer applies, if one was priced before).
                if not adjustments and key not in existing:
                    continue
                priced = _adjustments_only(adjustments)
                currency = existing[key].currency if key in existing else "XXX"
                results.append(Pricing(key, period, None, None, None, priced, currency))
                continue
            plan, effective_from = found
            terms = plans.terms[(plan.id, effective_from)]
            quota = quotas.get((key[0], plan.metric, period.start, period.end))
            cutoff = cutoffs.get(key)
            credits = [
                c
                for c in credited.get((key[0], plan.metric), [])
                if period.start <= c.credited_on <= period.end
                and (cutoff is None or cutoff.counts(c.seq, c.recorded_at))
            ]
            priced = pricing.price_statement(
                terms,
                quota=quota,
                credits=[_credit(c) for c in credits] + (extra or {}).get(key, []),
                person_id=key[0],
                team=teams.get(key),
                adjustments=adjustments,
            )
            results.append(Pricing(key, period, plan, effective_from, quota, priced, plan.currency))
        return results

    async def estimate(
        self, key: Key, deals: list[pricing.Credit]
    ) -> tuple[Pricing, Pricing, PlanTerms | None]:
        """The statement as it stands and as it would with `deals` credited, and
        the terms that price it: nothing is stored."""
        found = self.period(key[1])
        if found is None:
            raise ValueError(f"{key[1]} is not a month, quarter or year")
        plans = Plans.of(
            await queries.plans(self.session), await queries.plan_versions(self.session)
        )
        directory = Directory(
            await queries.org_units(self.session), await queries.memberships(self.session, [key[0]])
        )
        now, then = [
            next(iter(await self._price({key: found}, plans, directory, {}, extra)), None)
            for extra in ({}, {key: deals})
        ]
        if now is None or then is None or now.plan is None or now.effective_from is None:
            raise LookupError(f"no plan applies to {key[0]} in {key[1]}")
        return now, then, plans.terms[(now.plan.id, now.effective_from)]

    async def _teams(
        self,
        keys: dict[Key, tuple[Period, Grain]],
        chosen: dict[Key, tuple[Plan, date] | None],
        plans: Plans,
        directory: Directory,
    ) -> dict[Key, pricing.TeamStanding]:
        """The standing of each person's team (the unit they belong to at the
        period's end) on its own goal, for plans with a team bonus."""
        wanted: dict[tuple[Period, str], dict[Key, str]] = defaultdict(dict)
        for key, found in chosen.items():
            if found is None:
                continue
            plan, effective_from = found
            terms = plans.terms[(plan.id, effective_from)]
            if not any(isinstance(c, TeamBonus) for c in terms.components):
                continue
            period = keys[key][0]
            unit = directory.unit_of(key[0], period.end)
            if unit is not None:
                wanted[(period, plan.metric)][key] = unit
        standings: dict[Key, pricing.TeamStanding] = {}
        for (period, metric), units_by_key in wanted.items():
            units = set(units_by_key.values())
            goals = await queries.unit_goals(self.session, units, metric, period.start, period.end)
            sums = await queries.contributions(
                self.session, units, metric, period.start, period.end
            )
            members = await queries.members_of(self.session, units, period.end)
            for key, unit in units_by_key.items():
                goal = goals.get(unit)
                if goal is None:
                    continue
                team = members.get(unit, [])
                by_person = sums.get(unit, {})
                standings[key] = pricing.TeamStanding(
                    unit_id=unit,
                    goal_id=goal.goal_id,
                    target=goal.target,
                    actual=sum(by_person.values(), Decimal(0)),
                    members=tuple(team),
                    contributions=tuple(by_person.get(person, Decimal(0)) for person in team),
                )
        return standings

    async def _keep(self, priced: list[Pricing]) -> int:
        """Store the statements whose figures changed and publish them."""
        existing = await queries.statements(self.session, [p.key for p in priced])
        now = self.uow.clock.now()
        rows = []
        for pricing_ in priced:
            digest = _digest(pricing_)
            held = existing.get(pricing_.key)
            if held is not None and held.digest == digest:
                continue
            row = _statement_row(pricing_, digest, (held.version if held else 0) + 1, now)
            rows.append(row)
            self.uow.publish(
                EarningsUpdated(
                    statement_id=statement_id(*pricing_.key),
                    person_id=pricing_.key[0],
                    period_key=pricing_.key[1],
                    total=Money(amount=pricing_.priced.total, currency=pricing_.currency),
                    version=row["version"],
                    updated_at=now,
                )
            )
        for start in range(0, len(rows), 1_000):
            stmt = insert(Statement).values(rows[start : start + 1_000])
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["person_id", "period_key"],
                    set_={
                        name: stmt.excluded[name]
                        for name in rows[0]
                        if name not in ("person_id", "period_key")
                    },
                )
            )
        return len(rows)

    async def _restate(
        self,
        keys: dict[Key, tuple[Period, Grain]],
        closed: dict[str, ClosedPeriod],
        plans: Plans,
        directory: Directory,
    ) -> None:
        """Price closed statements again, and carry any difference from what was
        paid into the next open period, within the plan's clawback window."""
        existing = await queries.statements(self.session, keys)
        cutoffs = {}
        for key, (period, _) in keys.items():
            days = _clawback_days(plans, directory, key, period, keys[key][1])
            window_end = datetime.combine(period.end + timedelta(days=1 + days), time(), UTC)
            cutoffs[key] = Cutoff(closed[key[1]].last_credit_seq, window_end)
        restated = await self._price(keys, plans, directory, cutoffs)
        carried = await queries.adjusted_since_close(self.session, keys)
        now = self.uow.clock.now()
        targets = []
        for pricing_ in restated:
            held = existing.get(pricing_.key)
            paid = (held.total if held else Decimal("0.00")) + carried.get(pricing_.key, Decimal(0))
            amount = pricing_.priced.total - paid
            if amount == 0:
                continue
            target = self._next_open(pricing_.key[1], closed)
            self.session.add(
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
        await self.session.flush()
        await queries.enqueue(self.session, targets)

    def _next_open(self, period_key: str, closed: dict[str, ClosedPeriod]) -> str:
        period, grain = self.period(period_key) or (None, None)
        assert period is not None and grain is not None
        while True:
            period = self.calendar.containing(period.end + timedelta(days=1), grain)
            if period.key not in closed:
                return period.key or ""


def statement_periods(calendar: FiscalCalendar, day: date) -> list[Period]:
    """The month, quarter and year `day` falls in: the statements a credit on it may change."""
    return [calendar.containing(day, grain) for grain in PLAN_GRAINS]


def statement_id(person_id: str, period_key: str) -> str:
    return f"{person_id}:{period_key}"


def _clawback_days(
    plans: Plans, directory: Directory, key: Key, period: Period, grain: Grain
) -> int:
    found = plans.for_(directory.assignee(key[0], period.end), period, grain)
    return plans.terms[(found[0].id, found[1])].clawback_days if found else 90


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


def _quotas(goals: Iterable[Any]) -> dict[tuple[str, str, date, date], pricing.Quota]:
    quotas: dict[tuple[str, str, date, date], pricing.Quota] = {}
    for goal in sorted(goals, key=lambda g: g.goal_id):
        quotas.setdefault(
            (goal.person_id, goal.metric, goal.period_start, goal.period_end),
            pricing.Quota(goal_id=goal.goal_id, target=goal.target),
        )
    return quotas


def _by_person(rows: Iterable[Any]) -> dict[tuple[str, str], list[Any]]:
    grouped: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        grouped[(row.person_id, row.metric)].append(row)
    return grouped


def _credit(row: Any) -> pricing.Credit:
    return pricing.Credit(
        entry_id=row.entry_id,
        deal_id=row.deal_id,
        credited_on=row.credited_on,
        amount=row.amount,
        product_line=row.product_line,
    )


def _carried(adjustment: Adjustment) -> pricing.Adjustment:
    return pricing.Adjustment(
        source_period=adjustment.source_period_key,
        restated=adjustment.restated,
        paid=adjustment.paid,
    )


def line_json(line: pricing.Line) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "component_id": line.component_id,
        "source": line.source,
        "basis": format(line.basis, "f"),
        "rate": None if line.rate is None else format(line.rate, "f"),
        "amount": format(line.amount, "f"),
        "formula": line.formula,
    }


def _digest(p: Pricing) -> str:
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


def _statement_row(p: Pricing, digest: str, version: int, now: datetime) -> dict[str, Any]:
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
        "digest": digest,
        "version": version,
        "priced_at": now,
        "closed_at": None,
    }


async def reprice_plan(uow: UnitOfWork, calendar: FiscalCalendar, plan: Plan) -> None:
    """After a plan or its terms changed: its open statements, and those of
    everyone it now applies to, for the current period of its kind too."""
    session = uow.session
    plans = Plans.of(await queries.plans(session), await queries.plan_versions(session))
    directory = Directory(await queries.org_units(session), await queries.memberships(session))
    today = uow.clock.now().date()
    grain = cast(Grain, plan.period_kind)
    current = calendar.containing(today, grain)
    applies = [
        person.id
        for person in await queries.people(session)
        if (found := plans.for_(directory.assignee(person.id, current.end), current, grain))
        and found[0].id == plan.id
    ]
    keys = set(await queries.open_statement_keys(session, plan.id, applies))
    keys.update((person, current.key or "") for person in applies)
    await queries.enqueue(session, keys)
