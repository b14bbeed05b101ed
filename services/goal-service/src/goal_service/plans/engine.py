"""Turns a plan request into the goals it creates or changes, each with the
numbers behind it. Nothing is written here: the same result is a preview
(`dry_run`) or what `apply` writes, so a planner sees exactly what will happen.

Children are matched to the goals that already exist under the same parent by
scope, metric and period, so applying the same plan twice changes nothing."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar, year_before
from goal_service.domain import allocation, funnel, levers, reconcile, timesplit
from goal_service.domain.metrics import CATALOG
from goal_service.plans import requests as rq
from goal_service.plans.scopes import Scope, Scopes
from goal_service.store import queries
from goal_service.store.tables import Goal
from goal_service.tracking import Statistics, TrackingClient
from servicekit.problems import InvalidInput

Key = tuple[str | None, str, str, str | None, str | None, date, date]


@dataclass
class Node:
    """A goal as the plan wants it: new (`existing` None) or an existing one."""

    id: str
    parent_id: str | None
    metric: str
    org_unit_id: str
    person_id: str | None
    product_line: str | None
    owner_id: str
    period: Period
    target: Decimal
    unit: Decimal
    currency: str | None
    method: str
    explanation: str
    existing: Goal | None = None
    derived_from_id: str | None = None
    milestones: list[dict[str, str]] | None = None
    leaf: bool = True  # the next step applies to it

    @property
    def key(self) -> Key:
        return (
            self.parent_id or self.derived_from_id,
            self.metric,
            self.org_unit_id,
            self.person_id,
            self.product_line,
            self.period.start,
            self.period.end,
        )

    @property
    def changed(self) -> bool:
        if self.existing is None:
            return True
        return self.existing.target != self.target or (
            self.milestones is not None and self.existing.milestones != self.milestones
        )


@dataclass
class Computed:
    root: Node
    nodes: list[Node]
    notes: list[str] = field(default_factory=list)
    left_alone: int = 0


class Planner:
    def __init__(
        self,
        session: AsyncSession,
        calendar: FiscalCalendar,
        tracking: TrackingClient,
        *,
        base_currency: str,
        min_deals: int,
    ) -> None:
        self.session = session
        self.calendar = calendar
        self.tracking = tracking
        self.base_currency = base_currency
        self.min_deals = min_deals
        self.scopes = Scopes(session)
        self._existing: dict[Key, Goal] = {}
        self._statistics: dict[tuple[str, date, date, str], Statistics] = {}
        self._proposals: dict[str, dict[str, Decimal]] = {}

    async def compute(self, root: Goal, steps: Sequence[rq.PlanStep]) -> Computed:
        below = await queries.descendants(self.session, root.id)
        derived = await queries.derived_from(self.session, [root.id, *(g.id for g in below)])
        for goal in derived:
            below += [goal, *await queries.descendants(self.session, goal.id)]
        for goal in below:
            self._existing[_key(goal)] = goal
        start = node_of(root)
        computed = Computed(root=start, nodes=[])
        leaves = [start]
        steps_of: dict[str, Callable[..., Awaitable[list[Node]]]] = {
            "org": self._org,
            "product_line": self._product_line,
            "time": self._time,
            "reconcile": self._reconcile,
            "funnel": self._funnel,
            "levers": self._levers,
        }
        for index, step in enumerate(steps):
            produced: list[Node] = []
            for leaf in leaves:
                try:
                    produced += await steps_of[step.kind](leaf, step, computed.notes)
                except ValueError as error:  # the domain's errors name their field
                    where = getattr(error, "field", None)
                    field = f"steps.{index}.{where}" if where else f"steps.{index}"
                    raise InvalidInput(f"{leaf.id}: {error}", field=field) from error
            if not produced:
                raise InvalidInput(
                    f"step {index} ({step.kind}) produced no goals", field=f"steps.{index}"
                )
            computed.nodes += produced
            leaves = [node for node in produced if node.leaf]
        seen = {node.key for node in computed.nodes}
        computed.left_alone = sum(1 for key in self._existing if key not in seen)
        return computed

    # --- steps -------------------------------------------------------------------------

    async def _org(self, leaf: Node, step: rq.OrgStep, notes: list[str]) -> list[Node]:
        children = await self.scopes.children(
            leaf.org_unit_id, leaf.person_id, leaf.period, step.to
        )
        weights, targets = await self._top_down(leaf, children, step, notes)
        return self._children(leaf, children, targets, weights.values, step.method, step.stretch)

    async def _product_line(
        self, leaf: Node, step: rq.ProductLineStep, notes: list[str]
    ) -> list[Node]:
        if leaf.product_line is not None:
            raise ValueError("the goal is already for one product line")
        known = {line.id: line for line in await queries.product_lines(self.session)}
        ids = step.lines or sorted(known)
        if not ids:
            raise allocation.AllocationError("lines", "there are no product lines to split over")
        for line_id in ids:
            if line_id not in known:
                raise allocation.AllocationError("lines", f"no product line {line_id}")
        if step.method in ("capacity", "blend"):
            raise allocation.AllocationError(
                "method", "product lines split equally, by given weights, potential or history"
            )
        lines = [
            Scope(line_id, leaf.org_unit_id, leaf.person_id, leaf.owner_id, "line")
            for line_id in ids
        ]
        weights, targets = await self._top_down(leaf, lines, step, notes)
        return self._children(leaf, lines, targets, weights.values, step.method, step.stretch)

    async def _time(self, leaf: Node, step: rq.TimeStep, notes: list[str]) -> list[Node]:
        profile = await self._profile(leaf, step.profile)
        split = timesplit.split_time(
            leaf.target, leaf.period, step.grains, profile, self.calendar, leaf.unit
        )
        if split.fell_back:
            _note(notes, leaf, "no actuals last year: split by calendar days")
        leaf.milestones = _milestones(split.milestones)
        by_period: dict[tuple[date, date], Node] = {}
        cumulative: dict[str, list[tuple[date, Decimal]]] = {}
        made = []
        for piece in split.slices:
            parent = (
                leaf if piece.parent is None else by_period[(piece.parent.start, piece.parent.end)]
            )
            node = self._child(
                parent,
                period=piece.period,
                target=piece.target,
                method=f"time:{step.profile.kind}",
                explanation=f"{piece.grain} {piece.period.key or piece.period.start}: "
                f"{piece.target} of {parent.target} by {step.profile.kind}",
            )
            by_period[(piece.period.start, piece.period.end)] = node
            if parent is not leaf:
                done = cumulative.setdefault(parent.id, [])
                done.append((piece.period.end, (done[-1][1] if done else 0) + piece.target))
            made.append(node)
        for node in made:
            if node.id in cumulative:
                node.milestones = _milestones(cumulative[node.id])
        for node, piece in zip(made, split.slices, strict=True):
            node.leaf = piece.grain == step.grains[-1]
        return made

    async def _reconcile(self, leaf: Node, step: rq.ReconcileStep, notes: list[str]) -> list[Node]:
        children = await self.scopes.children(
            leaf.org_unit_id, leaf.person_id, leaf.period, step.to
        )
        _, top_down = await self._top_down(leaf, children, step.top_down, notes)
        proposed = await self._proposed(leaf)
        result = reconcile.reconcile(
            sum(top_down, Decimal(0)),  # the stretched target the shares add up to
            top_down,
            [proposed.get(c.id) for c in children],
            step.policy,
            unit=leaf.unit,
            threshold=step.threshold,
        )
        made = []
        for child, line in zip(children, result, strict=True):
            flag = "; NEGOTIATE" if line.negotiate else ""
            made.append(
                self._child(
                    leaf,
                    scope=child,
                    target=line.final,
                    method=f"reconcile:{step.policy}",
                    explanation=f"proposal {line.proposal}, top-down {line.top_down}, "
                    f"final {line.final}{flag}" + (f" ({line.note})" if line.note else ""),
                )
            )
        return [node for node in made if node.target > 0]

    async def _funnel(self, leaf: Node, step: rq.FunnelStep, notes: list[str]) -> list[Node]:
        if leaf.metric != "revenue":
            raise ValueError("a funnel is derived from a revenue goal")
        window = step.reference or year_before(leaf.period)
        chain = []
        for unit_id in reversed(await self.scopes.path(leaf.org_unit_id)):
            stats = await self._stats(unit_id, window.start, window.end, "revenue")
            chain.append(_rates(unit_id, stats))
        rates, fallback = funnel.choose_rates(chain, step.min_deals or self.min_deals)
        _note(notes, leaf, fallback)
        derived = funnel.derive(leaf.target, rates)
        explanation = (
            f"revenue {leaf.target} / avg deal {rates.avg_deal_size} → {derived.deals_won} won; "
            f"/ win rate {rates.win_rate} → {derived.opportunities} opportunities; "
            f"/ lead conversion {rates.lead_conversion} → {derived.leads} leads; "
            f"x {rates.activities_per_opportunity} activities per opportunity → "
            f"{derived.activities} activities; pipeline {derived.lead_days} days earlier "
            f"(rates of {rates.scope})"
        )
        wanted = step.process_goals == "always" or (
            step.process_goals == "auto"
            and funnel.process_goals_wanted(
                await self.scopes.maturity(leaf.person_id),
                await self.scopes.line_maturity(leaf.product_line),
                asked=False,
            )
        )
        if not wanted:
            _note(notes, leaf, f"outcome goal only: {explanation}")
            return []
        early = funnel.shift(leaf.period, derived.lead_days)
        goals = [
            ("deals_won", derived.deals_won, leaf.period),
            ("opportunities_created", derived.opportunities, early),
            ("leads_created", derived.leads, early),
            ("activities", derived.activities, early),
        ]
        made = []
        for metric, target, period in goals:
            node = self._child(
                leaf,
                metric=metric,
                period=Period(
                    key=self.calendar.key_of(period.start, period.end),
                    start=period.start,
                    end=period.end,
                ),
                target=Decimal(target),
                method="funnel",
                explanation=explanation,
                unit=Decimal(1),
                derived=True,
            )
            made.append(node)
            if step.grains:
                node.leaf = False
                made += await self._time(
                    node,
                    rq.TimeStep(
                        kind="time", grains=step.grains, profile=rq.Profile(kind="working_days")
                    ),
                    notes,
                )
        return made

    async def _levers(self, leaf: Node, step: rq.LeversStep, notes: list[str]) -> list[Node]:
        for index, driver in enumerate(step.drivers):
            if driver.metric not in CATALOG:
                raise allocation.AllocationError(
                    f"drivers.{index}.metric", f"unknown metric {driver.metric}"
                )
            if await queries.person(self.session, driver.owner_id) is None:
                raise allocation.AllocationError(
                    f"drivers.{index}.owner_id", f"no person {driver.owner_id}"
                )
        drivers = [
            levers.Driver(d.metric, d.baseline, d.target, d.weight, d.places) for d in step.drivers
        ]
        solve = levers.solve if step.mode == "solve" else levers.spread
        result = solve(leaf.target, drivers)
        _note(notes, leaf, f"the drivers' targets multiply to {result.implied_outcome}")
        return [
            self._child(
                leaf,
                metric=driver.metric,
                owner_id=driver.owner_id,
                target=target,
                unit=Decimal(1).scaleb(-driver.places),
                method=f"levers:{step.mode}",
                explanation=f"{driver.metric} from {driver.baseline} to {target}",
            )
            for driver, target in zip(step.drivers, result.targets, strict=True)
        ]

    # --- inputs ------------------------------------------------------------------------

    async def _top_down(
        self, leaf: Node, children: list[Scope], step: rq.Weighting, notes: list[str]
    ) -> tuple[allocation.Weights, list[Decimal]]:
        weights = await self._weights(leaf, children, step)
        targets = allocation.allocate(
            leaf.target,
            weights.values,
            unit=leaf.unit,
            stretch=step.stretch,
            floors=_per_child(step.floors, children, "floors"),
            caps=_per_child(step.caps, children, "caps"),
        )
        _note(notes, leaf, weights.note)
        return weights, targets

    async def _weights(
        self, leaf: Node, children: list[Scope], step: rq.Weighting
    ) -> allocation.Weights:
        if not children:
            raise allocation.AllocationError("to", f"{leaf.org_unit_id} has nothing to split to")
        if step.method == "equal":
            return allocation.equal(len(children))
        if step.method in ("given", "potential"):
            values = _per_child(step.weights or {}, children, "weights", required=True)
            build = allocation.given if step.method == "given" else allocation.potential
            return build([v or Decimal(0) for v in values])
        if step.method == "capacity":
            hires = [await self.scopes.hire_dates(child, leaf.period) for child in children]
            return allocation.capacity(hires, leaf.period)
        history = await self._history(leaf, children, step.reference)
        if step.method == "history":
            return allocation.history(history)
        if step.alpha is None:
            raise allocation.AllocationError("alpha", "a blend needs alpha, the weight of history")
        potentials = _per_child(step.weights or {}, children, "weights", required=True)
        return allocation.blend(history, [p or Decimal(0) for p in potentials], step.alpha)

    async def _history(
        self, leaf: Node, children: list[Scope], reference: rq.Window | None
    ) -> list[Decimal | None]:
        window = reference or year_before(leaf.period)
        stats = await self._stats(leaf.org_unit_id, window.start, window.end, leaf.metric)
        by_kind = {"person": stats.by_person, "unit": stats.by_child, "line": stats.by_product_line}
        return [by_kind[child.kind].get(child.id) for child in children]

    async def _profile(self, leaf: Node, profile: rq.Profile) -> timesplit.Profile:
        if profile.kind == "working_days":
            return timesplit.WorkingDays()
        if profile.kind == "calendar_days":
            return timesplit.CalendarDays()
        if profile.kind == "percentages":
            if profile.months is None or len(profile.months) != 12:
                raise ValueError("percentages need 12 numbers, from the fiscal year's first month")
            first = self.calendar.fiscal_year_start_month
            return timesplit.Percentages(
                {(first - 1 + i) % 12 + 1: share for i, share in enumerate(profile.months)}
            )
        last_year = year_before(leaf.period)
        stats = await self._stats(leaf.org_unit_id, last_year.start, last_year.end, leaf.metric)
        by_month: dict[int, Decimal] = {}
        for month, amount in stats.by_month.items():
            number = int(month[5:7])
            by_month[number] = by_month.get(number, Decimal(0)) + amount
        return timesplit.LastYearShares(by_month)

    async def _stats(self, unit_id: str, start: date, end: date, metric: str) -> Statistics:
        key = (unit_id, start, end, metric)
        if key not in self._statistics:
            self._statistics[key] = await self.tracking.statistics(unit_id, start, end, metric)
        return self._statistics[key]

    async def _proposed(self, leaf: Node) -> dict[str, Decimal]:
        if leaf.existing is None:
            return {}
        if leaf.id not in self._proposals:
            rows = await queries.proposals(self.session, leaf.id)
            self._proposals[leaf.id] = {row.scope: row.value for row in rows}
        return self._proposals[leaf.id]

    # --- nodes -------------------------------------------------------------------------

    def _children(
        self,
        leaf: Node,
        children: list[Scope],
        targets: list[Decimal],
        weights: list[Decimal],
        method: str,
        stretch: Decimal,
    ) -> list[Node]:
        whole = sum(weights, Decimal(0)) or Decimal(1)
        made = []
        for child, target, weight in zip(children, targets, weights, strict=True):
            stretched = f" x stretch {stretch}" if stretch != 1 else ""
            made.append(
                self._child(
                    leaf,
                    scope=child,
                    target=target,
                    method=method,
                    explanation=f"{method} weight {weight:.6g} = {weight / whole:.2%} of "
                    f"{leaf.target}{stretched} → {target}",
                )
            )
        return [node for node in made if node.target > 0]

    def _child(
        self,
        parent: Node,
        *,
        target: Decimal,
        method: str,
        explanation: str,
        scope: Scope | None = None,
        period: Period | None = None,
        metric: str | None = None,
        owner_id: str | None = None,
        unit: Decimal | None = None,
        derived: bool = False,
    ) -> Node:
        metric = metric or parent.metric
        money = CATALOG[metric].money
        node = Node(
            id="",
            parent_id=None if derived else parent.id,
            derived_from_id=parent.id if derived else None,
            metric=metric,
            org_unit_id=scope.org_unit_id if scope else parent.org_unit_id,
            person_id=scope.person_id if scope else parent.person_id,
            product_line=scope.id if scope and scope.kind == "line" else parent.product_line,
            owner_id=owner_id or (scope.owner_id if scope else parent.owner_id),
            period=period or parent.period,
            target=target,
            unit=unit or parent.unit,
            currency=(parent.currency or self.base_currency) if money else None,
            method=method,
            explanation=explanation,
        )
        existing = self._existing.get(node.key)
        if existing is not None:
            node.id, node.existing = existing.id, existing
        else:
            node.id = f"goal_{uuid4().hex[:16]}"
        return node


def node_of(goal: Goal) -> Node:
    return Node(
        id=goal.id,
        parent_id=goal.parent_id,
        metric=goal.metric,
        org_unit_id=goal.org_unit_id,
        person_id=goal.person_id,
        product_line=goal.product_line,
        owner_id=goal.owner_id,
        period=Period(key=goal.period_key, start=goal.period_start, end=goal.period_end),
        target=goal.target,
        unit=goal.unit,
        currency=goal.currency,
        method=goal.method,
        explanation="",
        existing=goal,
        derived_from_id=goal.derived_from_id,
    )


def _key(goal: Goal) -> Key:
    return (
        goal.parent_id or goal.derived_from_id,
        goal.metric,
        goal.org_unit_id,
        goal.person_id,
        goal.product_line,
        goal.period_start,
        goal.period_end,
    )


def _per_child(
    values: dict[str, Decimal], children: list[Scope], name: str, *, required: bool = False
) -> list[Decimal | None]:
    ids = {child.id for child in children}
    unknown = sorted(set(values) - ids)
    if unknown:
        raise allocation.AllocationError(
            f"{name}.{unknown[0]}", f"{unknown[0]} is not one of the children: {sorted(ids)}"
        )
    if required:
        missing = [child.id for child in children if child.id not in values]
        if missing:
            raise allocation.AllocationError(f"{name}.{missing[0]}", f"no {name} for {missing[0]}")
    return [values.get(child.id) for child in children]


def _rates(unit_id: str, stats: Statistics) -> funnel.Rates:
    def value(name: str) -> Decimal | None:
        rate = stats.rates.get(name)
        return rate.value if rate else None

    won = stats.rates.get("avg_deal_size")
    return funnel.Rates(
        avg_deal_size=value("avg_deal_size"),
        win_rate=value("win_rate"),
        lead_conversion=value("lead_conversion"),
        activities_per_opportunity=value("activities_per_opportunity"),
        sales_cycle_days=value("sales_cycle_days"),
        deals_sample=won.sample if won else 0,
        scope=unit_id,
    )


def _milestones(points: Sequence[tuple[date, Decimal]]) -> list[dict[str, str]]:
    return [{"on": on.isoformat(), "cumulative_target": str(total)} for on, total in points]


def _note(notes: list[str], leaf: Node, note: str | None) -> None:
    if note:
        notes.append(f"{leaf.id}: {note}")
