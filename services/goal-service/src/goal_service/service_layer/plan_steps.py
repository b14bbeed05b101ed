"""The step strategies of a plan, one a kind: each takes a leaf of the tree so far
and the step, and returns the nodes it makes below the leaf. The math is in
`domain/`; what a step needs from outside comes through `PlanInputs`."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from attain_contracts import Period
from attain_contracts.calendar import FiscalCalendar, year_before
from goal_service.domain import allocation, funnel, levers, reconcile, timesplit
from goal_service.domain.errors import InputError
from goal_service.domain.metrics import CATALOG
from goal_service.service_layer import plan_requests as rq
from goal_service.service_layer.plan_inputs import PlanInputs
from goal_service.service_layer.plan_scopes import Scope
from goal_service.service_layer.plan_tree import Computed, Node, Tree, milestones, stretch_of


@dataclass
class Context:
    """What every step works with: the tree being built, the inputs, the calendar."""

    tree: Tree
    inputs: PlanInputs
    calendar: FiscalCalendar
    computed: Computed
    min_deals: int


Strategy = Callable[[Context, Node, Any], Awaitable[list[Node]]]


async def org(ctx: Context, leaf: Node, step: rq.OrgStep) -> list[Node]:
    children = await ctx.inputs.scopes.children(
        leaf.org_unit_id, leaf.person_id, leaf.period, step.to
    )
    return await _split(ctx, leaf, children, step)


async def product_line(ctx: Context, leaf: Node, step: rq.ProductLineStep) -> list[Node]:
    if leaf.product_line is not None:
        raise InputError(None, "the goal is already for one product line")
    known = await ctx.inputs.product_lines()
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
        Scope(line_id, leaf.org_unit_id, leaf.person_id, leaf.owner_id, "line") for line_id in ids
    ]
    return await _split(ctx, leaf, lines, step)


async def _split(ctx: Context, leaf: Node, children: list[Scope], step: rq.Weighting) -> list[Node]:
    names = [await ctx.inputs.scopes.name(child) for child in children]
    weights, targets = await _top_down(ctx, leaf, children, names, step)
    return ctx.tree.children(
        leaf,
        children,
        targets,
        weights.values,
        step.method,
        step.stretch,
        names=names,
        fallback=weights.note,
    )


async def time(ctx: Context, leaf: Node, step: rq.TimeStep) -> list[Node]:
    profile = await _profile(ctx, leaf, step.profile)
    split = timesplit.split_time(
        leaf.target, leaf.period, step.grains, profile, ctx.calendar, leaf.unit
    )
    fallback = "no actuals last year: split by calendar days" if split.fell_back else None
    await _note(ctx, leaf, fallback)
    leaf.milestones = milestones(split.milestones)
    by_period: dict[tuple[date, date], Node] = {}
    cumulative: dict[str, list[tuple[date, Decimal]]] = {}
    made = []
    for piece in split.slices:
        parent = leaf if piece.parent is None else by_period[(piece.parent.start, piece.parent.end)]
        node = ctx.tree.child(
            parent,
            period=piece.period,
            target=piece.target,
            method=f"time:{step.profile.kind}",
            explanation=f"{piece.grain} {_period_label(ctx, piece.period)}: "
            f"{piece.target} of {parent.target} by {step.profile.kind}"
            + (f" ({fallback})" if fallback else ""),
        )
        by_period[(piece.period.start, piece.period.end)] = node
        if parent is not leaf:
            done = cumulative.setdefault(parent.id, [])
            done.append((piece.period.end, (done[-1][1] if done else 0) + piece.target))
        made.append(node)
    for node in made:
        if node.id in cumulative:
            node.milestones = milestones(cumulative[node.id])
    for node, piece in zip(made, split.slices, strict=True):
        node.leaf = piece.grain == step.grains[-1]
    return made


def _period_label(ctx: Context, period: Period) -> str:
    """The key, with the dates when the piece is only part of what the key names
    (a week cut at a month end)."""
    if period.key and ctx.calendar.key_of(period.start, period.end) == period.key:
        return period.key
    dates = f"{period.start}..{period.end}"
    return f"{period.key} ({dates})" if period.key else dates


async def reconciled(ctx: Context, leaf: Node, step: rq.ReconcileStep) -> list[Node]:
    children = await ctx.inputs.scopes.children(
        leaf.org_unit_id, leaf.person_id, leaf.period, step.to
    )
    names = [await ctx.inputs.scopes.name(child) for child in children]
    weights, top_down = await _top_down(ctx, leaf, children, names, step.top_down)
    proposed = await ctx.inputs.proposed(leaf)
    result = reconcile.reconcile(
        sum(top_down, Decimal(0)),  # the stretched target the shares add up to
        top_down,
        [proposed.get(c.id) for c in children],
        step.policy,
        unit=leaf.unit,
        threshold=step.threshold,
    )
    made = []
    for child, name, line in zip(children, names, result, strict=True):
        flag = "; NEGOTIATE" if line.negotiate else ""
        notes = "; ".join(note for note in (line.note, weights.note) if note)
        node = ctx.tree.child(
            leaf,
            scope=child,
            target=line.final,
            method=f"reconcile:{step.policy}",
            explanation=f"{name}: proposal {line.proposal}, top-down {line.top_down}, "
            f"final {line.final}{flag}" + (f" ({notes})" if notes else ""),
        )
        node.stretch = stretch_of(step.top_down.stretch)
        node.reconciliation = {
            "proposal": None if line.proposal is None else str(line.proposal),
            "top_down": str(line.top_down),
            "final": str(line.final),
            "negotiate": line.negotiate,
        }
        made.append(node)
    return [node for node in made if node.target > 0]


async def funnel_of(ctx: Context, leaf: Node, step: rq.FunnelStep) -> list[Node]:
    if leaf.metric != "revenue":
        raise InputError(None, "a funnel is derived from a revenue goal")
    if step.rates is not None:
        given = step.rates
        rates = funnel.Rates(
            avg_deal_size=given.avg_deal_size,
            win_rate=given.win_rate,
            lead_conversion=given.lead_conversion,
            activities_per_opportunity=given.activities_per_opportunity,
            sales_cycle_days=given.sales_cycle_days,
            deals_sample=0,
            scope="the plan (rates given)",
        )
        fallback = None
    else:
        window = step.reference or year_before(leaf.period)
        chain = await ctx.inputs.rates_chain(leaf, window.start, window.end)
        rates, fallback = funnel.choose_rates(chain, step.min_deals or ctx.min_deals)
    await _note(ctx, leaf, fallback)
    derived = funnel.derive(leaf.target, rates)
    explanation = (
        f"revenue {leaf.target} / avg deal {rates.avg_deal_size} → {derived.deals_won} won; "
        f"/ win rate {rates.win_rate} → {derived.opportunities} opportunities; "
        f"/ lead conversion {rates.lead_conversion} → {derived.leads} leads; "
        f"x {rates.activities_per_opportunity} activities per opportunity → "
        f"{derived.activities} activities; pipeline {derived.lead_days} days earlier "
        f"(rates of {rates.scope})" + (f"; {fallback}" if fallback else "")
    )
    scopes = ctx.inputs.scopes
    wanted = step.process_goals == "always" or (
        step.process_goals == "auto"
        and funnel.process_goals_wanted(
            await scopes.maturity(leaf.person_id),
            await scopes.line_maturity(leaf.product_line),
            asked=False,
        )
    )
    if not wanted:
        await _note(ctx, leaf, f"outcome goal only: {explanation}")
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
        node = ctx.tree.child(
            leaf,
            metric=metric,
            period=Period(
                key=ctx.calendar.key_of(period.start, period.end),
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
            made += await time(
                ctx,
                node,
                rq.TimeStep(
                    kind="time", grains=step.grains, profile=rq.Profile(kind="working_days")
                ),
            )
    return made


async def levers_of(ctx: Context, leaf: Node, step: rq.LeversStep) -> list[Node]:
    for index, driver in enumerate(step.drivers):
        if driver.metric not in CATALOG:
            raise allocation.AllocationError(
                f"drivers.{index}.metric", f"unknown metric {driver.metric}"
            )
        if not await ctx.inputs.is_person(driver.owner_id):
            raise allocation.AllocationError(
                f"drivers.{index}.owner_id", f"no person {driver.owner_id}"
            )
    drivers = [
        levers.Driver(d.metric, d.baseline, d.target, d.weight, d.places) for d in step.drivers
    ]
    solve = levers.solve if step.mode == "solve" else levers.spread
    result = solve(leaf.target, drivers)
    await _note(ctx, leaf, f"the drivers' targets multiply to {result.implied_outcome}")
    return [
        ctx.tree.child(
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


STRATEGIES: dict[str, Strategy] = {
    "org": org,
    "product_line": product_line,
    "time": time,
    "reconcile": reconciled,
    "funnel": funnel_of,
    "levers": levers_of,
}
"""Each step kind of `plan_requests.PlanStep`, and what does it."""


async def _note(ctx: Context, leaf: Node, note: str | None) -> None:
    """A note on the plan about the leaf, which it names by its scope."""
    if note:
        scope = await ctx.inputs.scopes.name_of(leaf.org_unit_id, leaf.person_id, leaf.product_line)
        ctx.computed.note(leaf, note, scope)


async def _top_down(
    ctx: Context, leaf: Node, children: list[Scope], names: list[str], step: rq.Weighting
) -> tuple[allocation.Weights, list[Decimal]]:
    weights = await _weights(ctx, leaf, children, names, step)
    targets = allocation.allocate(
        leaf.target,
        weights.values,
        unit=leaf.unit,
        stretch=step.stretch,
        floors=_per_child(step.floors, children, "floors"),
        caps=_per_child(step.caps, children, "caps"),
    )
    await _note(ctx, leaf, weights.note)
    return weights, targets


async def _weights(
    ctx: Context, leaf: Node, children: list[Scope], names: list[str], step: rq.Weighting
) -> allocation.Weights:
    if not children:
        scope = await ctx.inputs.scopes.name_of(leaf.org_unit_id)
        raise allocation.AllocationError("to", f"{scope} has nothing to split to")
    if step.method == "equal":
        return allocation.equal(len(children))
    if step.method in ("given", "potential"):
        values = _per_child(step.weights or {}, children, "weights", required=True)
        build = allocation.given if step.method == "given" else allocation.potential
        return build([v or Decimal(0) for v in values])
    if step.method == "capacity":
        hires = [await ctx.inputs.scopes.hire_dates(child, leaf.period) for child in children]
        return allocation.capacity(hires, leaf.period)
    history = await ctx.inputs.history(leaf, children, step.reference)
    if step.method == "history":
        return allocation.history(history, names)
    if step.alpha is None:
        raise allocation.AllocationError("alpha", "a blend needs alpha, the weight of history")
    potentials = _per_child(step.weights or {}, children, "weights", required=True)
    return allocation.blend(history, [p or Decimal(0) for p in potentials], step.alpha, names)


async def _profile(ctx: Context, leaf: Node, profile: rq.Profile) -> timesplit.Profile:
    if profile.kind == "working_days":
        return timesplit.WorkingDays()
    if profile.kind == "calendar_days":
        return timesplit.CalendarDays()
    if profile.kind == "percentages":
        if profile.months is None or len(profile.months) != 12:
            raise InputError(
                None, "percentages need 12 numbers, from the fiscal year's first month"
            )
        first = ctx.calendar.fiscal_year_start_month
        return timesplit.Percentages(
            {(first - 1 + i) % 12 + 1: share for i, share in enumerate(profile.months)}
        )
    return timesplit.LastYearShares(await ctx.inputs.last_year_by_month(leaf))


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
