"""Pricing one person's statement for one period against a plan's terms
(DOMAIN.md §7): one line per amount earned, each naming its source and how it
was computed, each rounded to the cent half-up; the total is their sum."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from itertools import groupby

from incentive_service.domain.plans import (
    AttainmentBonus,
    Commission,
    CurvePoint,
    PlanTerms,
    Spiff,
    TeamBonus,
    ThresholdBonus,
    Tier,
    percent,
)
from servicekit.money import CENT, largest_remainder, round_half_up, round_to

# Written as escapes: these read as the typography of a statement, and the
# linter would otherwise take them for look-alikes of x and -.
TIMES = "\u00d7"
MINUS = "\u2212"
EN_DASH = "\u2013"
AT_LEAST = "\u2265"

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Credit:
    """One ledger row credited to this person in this period (a signed delta)."""

    entry_id: str
    deal_id: str
    credited_on: date
    amount: Decimal
    product_line: str | None


@dataclass(frozen=True)
class Quota:
    """The person's goal for the period; a target of 0 or less measures nothing."""

    goal_id: str
    target: Decimal


@dataclass(frozen=True)
class TeamStanding:
    """The team's goal and how far it got, computed by the caller from the ledger."""

    unit_id: str
    goal_id: str
    target: Decimal
    actual: Decimal
    members: tuple[str, ...]
    contributions: tuple[Decimal, ...]
    # Members who carry no quota (a manager in the unit they manage, unless
    # marked): they share no team bonus, though their deals count for the team.
    without_quota: tuple[str, ...] = ()


@dataclass(frozen=True)
class DealChange:
    """How much one deal's credits in a closed period changed after it closed
    (the corrections an adjustment is the first to count), and which ledger rows."""

    deal_id: str
    amount: Decimal
    entries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Adjustment:
    """A closed period's correction carried into this one: the line is
    `restated - paid`, a clawback when negative, naming the deals behind it.
    With `window_closed` (the last day of the source period's clawback window)
    it is a correction recorded after that: a zero line saying so."""

    source_period: str
    restated: Decimal
    paid: Decimal
    deals: tuple[DealChange, ...] = ()
    window_closed: date | None = None


@dataclass(frozen=True)
class Line:
    kind: str
    component_id: str | None
    source: str
    basis: Decimal
    rate: Decimal | None
    amount: Decimal
    formula: str
    # An adjustment's deals, each with the period it came from.
    deals: tuple[tuple[DealChange, str], ...] = ()


@dataclass(frozen=True)
class Priced:
    revenue: Decimal
    attainment: Decimal | None
    lines: tuple[Line, ...]
    total: Decimal
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class NextStep:
    component_id: str
    kind: str
    attainment: Decimal
    revenue_needed: Decimal
    description: str


@dataclass(frozen=True)
class Deal:
    """A deal as this statement sees it: its credits netted, on the day first credited."""

    deal_id: str
    day: date
    net: Decimal
    product_line: str | None


def price_statement(
    terms: PlanTerms,
    *,
    quota: Quota | None,
    credits: Sequence[Credit],
    person_id: str,
    team: TeamStanding | None = None,
    adjustments: Sequence[Adjustment] = (),
) -> Priced:
    revenue = sum((credit.amount for credit in credits), Decimal(0))
    goal = quota if quota is not None and quota.target > 0 else None
    components = terms.components
    warnings: list[str] = []
    if goal is None and any(
        isinstance(c, Commission | AttainmentBonus | ThresholdBonus) for c in components
    ):
        warnings.append(_no_quota_warning(quota))

    commission = [
        line
        for c in components
        if isinstance(c, Commission)
        for line in commission_lines(c, revenue, goal)
    ]
    commission_sum = sum((line.amount for line in commission), ZERO)
    lines = [
        *commission,
        *(
            attainment_bonus_line(c, revenue, goal)
            for c in components
            if isinstance(c, AttainmentBonus)
        ),
        *(
            line
            for c in components
            if isinstance(c, ThresholdBonus)
            and (line := threshold_bonus_line(c, revenue, goal, commission_sum)) is not None
        ),
    ]
    deals = deals_of(credits)
    lines += [line for c in components if isinstance(c, Spiff) for line in spiff_lines(c, deals)]
    for c in components:
        if isinstance(c, TeamBonus):
            team_line, warning = team_bonus_line(c, team, person_id)
            if team_line is not None:
                lines.append(team_line)
            if warning is not None:
                warnings.append(warning)
    lines += [
        line
        for adjustment in sorted(adjustments, key=lambda a: a.source_period)
        if (line := adjustment_line(adjustment)) is not None
    ]
    return Priced(
        revenue=revenue,
        attainment=None if goal is None else revenue / goal.target,
        lines=tuple(lines),
        total=sum((line.amount for line in lines), ZERO),
        warnings=tuple(warnings),
    )


def commission_lines(component: Commission, revenue: Decimal, goal: Quota | None) -> list[Line]:
    """Negative revenue earns no commission: the reversals behind it are settled
    against the periods they were paid in, as adjustments."""
    earning = max(revenue, Decimal(0))
    tiers = component.tiers
    if goal is None:
        rate = tiers[0].rate
        amount = round_half_up(earning * rate)
        return [
            Line(
                "commission",
                component.id,
                "revenue",
                earning,
                rate,
                amount,
                f"{money(earning)} of revenue without a quota at the first tier's rate"
                f" {TIMES} {percent(rate)} = {money(amount)}",
            )
        ]
    source = f"goal:{goal.goal_id}"
    if component.method == "retroactive":
        return [_retroactive_line(component, revenue, earning, goal.target, source)]
    lines = [
        _commission_line(component, source, tier, revenue_slice, "")
        for tier in tiers
        if (revenue_slice := tier_slice(tier, earning, goal.target)) > 0
    ]
    return lines or [_commission_line(component, source, tiers[0], ZERO, _negative(revenue))]


def tier_slice(tier: Tier, revenue: Decimal, target: Decimal) -> Decimal:
    """The part of `revenue` that falls in the tier, in revenue rather than
    attainment so that no division rounds an edge."""
    low = tier.floor * target
    top = revenue if tier.ceiling is None else min(revenue, tier.ceiling * target)
    return max(top - low, Decimal(0))


def _retroactive_line(
    component: Commission, revenue: Decimal, earning: Decimal, target: Decimal, source: str
) -> Line:
    # The tier reached is the highest whose floor the revenue meets; above a
    # closed last tier nothing more is earned, as with marginal tiers.
    tiers = component.tiers
    reached = [tier for tier in tiers if tier.floor * target <= earning]
    tier = reached[-1] if reached else tiers[0]
    end = tiers[-1].ceiling
    basis, capped = earning, ""
    if end is not None and earning > end * target:
        basis, capped = end * target, f" (the tiers end at {percent(end)})"
    at = f" at {attainment_percent(revenue / target)} attainment{capped}"
    return _commission_line(component, source, tier, basis, _negative(revenue), at)


def _commission_line(
    component: Commission, source: str, tier: Tier, basis: Decimal, prefix: str, at: str = ""
) -> Line:
    amount = round_half_up(basis * tier.rate)
    return Line(
        "commission",
        component.id,
        source,
        basis,
        tier.rate,
        amount,
        f"{prefix}{money(basis)} of revenue{at} in tier {tier_label(tier)}"
        f" {TIMES} {percent(tier.rate)} = {money(amount)}",
    )


def _negative(revenue: Decimal) -> str:
    return f"revenue {money(revenue)} counts as 0.00: " if revenue < 0 else ""


def attainment_bonus_line(component: AttainmentBonus, revenue: Decimal, goal: Quota | None) -> Line:
    target_incentive = component.target_incentive
    if goal is None:
        return Line(
            "attainment_bonus",
            component.id,
            "revenue",
            target_incentive,
            None,
            ZERO,
            "no quota to measure attainment against: 0.00",
        )
    source = f"goal:{goal.goal_id}"
    attainment = revenue / goal.target
    reached = f"attainment {attainment_percent(attainment)}"
    if revenue < component.gate * goal.target:
        return Line(
            "attainment_bonus",
            component.id,
            source,
            target_incentive,
            None,
            ZERO,
            f"{reached} is below the gate {percent(component.gate)}: 0.00",
        )
    cap = component.cap
    if cap is not None and attainment > cap:
        attainment = cap
        reached += f" counts as the cap {percent(cap)}"
    multiplier = curve_payout(component.curve, attainment)
    amount = round_half_up(target_incentive * multiplier)
    return Line(
        "attainment_bonus",
        component.id,
        source,
        target_incentive,
        multiplier,
        amount,
        f"{reached}: target incentive {money(target_incentive)} {TIMES} curve"
        f" {percent(round_half_up(multiplier, Decimal('0.0001')))} = {money(amount)}",
    )


def curve_payout(curve: Sequence[CurvePoint], attainment: Decimal) -> Decimal:
    """The multiplier of the target incentive at `attainment`: linear between
    points, from (0, 0) up to the first point, flat after the last."""
    attainment = max(attainment, Decimal(0))
    low, paid = Decimal(0), Decimal(0)
    for point in curve:
        if attainment <= point.attainment:
            if point.attainment == low:
                return point.payout
            return paid + (point.payout - paid) * (attainment - low) / (point.attainment - low)
        low, paid = point.attainment, point.payout
    return curve[-1].payout


def threshold_bonus_line(
    component: ThresholdBonus, revenue: Decimal, goal: Quota | None, commission: Decimal
) -> Line | None:
    if goal is None or revenue < component.threshold * goal.target:
        return None
    source = f"goal:{goal.goal_id}"
    reached = (
        f"attainment {attainment_percent(revenue / goal.target)}"
        f" {AT_LEAST} {percent(component.threshold)}"
    )
    if component.percent_of_commission is not None:
        rate = component.percent_of_commission
        amount = round_half_up(commission * rate)
        formula = f"{money(commission)} of commission {TIMES} {percent(rate)} = {money(amount)}"
        return Line(
            "threshold_bonus",
            component.id,
            source,
            commission,
            rate,
            amount,
            f"{reached}: {formula}",
        )
    if component.amount is not None:
        amount = round_half_up(component.amount)
        return Line(
            "threshold_bonus",
            component.id,
            source,
            amount,
            None,
            amount,
            f"{reached}: fixed {money(amount)}",
        )
    return None


def deals_of(credits: Sequence[Credit]) -> list[Deal]:
    """The deals behind the credits in (day, deal id) order. A deal's product
    line is that of its first credit, so that the answer never depends on the
    order the credits came in."""
    ordered = sorted(credits, key=lambda c: (c.deal_id, c.credited_on, c.entry_id))
    deals = []
    for deal_id, group in groupby(ordered, key=lambda c: c.deal_id):
        rows = list(group)
        net = sum((row.amount for row in rows), Decimal(0))
        deals.append(Deal(deal_id, rows[0].credited_on, net, rows[0].product_line))
    return sorted(deals, key=lambda deal: (deal.day, deal.deal_id))


def spiff_qualifies(component: Spiff, deal: Deal) -> bool:
    return (
        deal.net > 0
        and (component.min_amount is None or deal.net >= component.min_amount)
        and (component.product_line is None or deal.product_line == component.product_line)
        and component.window_from <= deal.day < component.window_to
    )


def spiff_lines(component: Spiff, deals: Sequence[Deal]) -> list[Line]:
    lines = []
    for deal in deals:
        if not spiff_qualifies(component, deal):
            continue
        about = f"deal {deal.deal_id} on {deal.day.isoformat()}"
        if component.rate is not None:
            amount = round_half_up(deal.net * component.rate)
            formula = (
                f"{about}: {money(deal.net)} {TIMES} {percent(component.rate)} = {money(amount)}"
            )
        elif component.amount is not None:
            amount = round_half_up(component.amount)
            formula = f"{about} ({money(deal.net)}): fixed {money(amount)}"
        else:
            continue
        lines.append(
            Line(
                "spiff",
                component.id,
                f"deal:{deal.deal_id}",
                deal.net,
                component.rate,
                amount,
                formula,
            )
        )
    return lines


def team_bonus_line(
    component: TeamBonus, team: TeamStanding | None, person_id: str
) -> tuple[Line | None, str | None]:
    """This person's share of the pool, or why there is none when that needs saying."""
    unpaid = f"team bonus {component.id} is not paid"
    if team is None:
        return None, f"no team goal: {unpaid}"
    if team.target <= 0:
        return None, f"team goal {team.goal_id} has a target of {money(team.target)}: {unpaid}"
    if team.actual < component.threshold * team.target:
        return None, None
    if person_id in team.without_quota:
        return None, f"{person_id} carries no quota in team {team.unit_id}: {unpaid} to them"
    if person_id not in team.members:
        return None, f"{person_id} is not a member of team {team.unit_id}: {unpaid}"
    shares = team_shares(component.pool, component.split, team.members, team.contributions)
    share = round_half_up(shares[person_id])
    weights = [max(c, Decimal(0)) for c in team.contributions]
    if component.split == "contribution" and any(weights):
        mine = weights[team.members.index(person_id)]
        how = f"split by contribution, {money(mine)} of {money(sum(weights, Decimal(0)))}"
    elif component.split == "contribution":
        how = f"split equally among {len(team.members)}, as no one contributed"
    else:
        how = f"split equally among {len(team.members)}"
    formula = (
        f"team attainment {attainment_percent(team.actual / team.target)}"
        f" {AT_LEAST} {percent(component.threshold)}: pool {money(component.pool)} {how}"
        f" = {money(share)}"
    )
    line = Line(
        "team_bonus",
        component.id,
        f"team goal:{team.goal_id}",
        component.pool,
        None,
        share,
        formula,
    )
    return line, None


def team_shares(
    pool: Decimal, split: str, members: Sequence[str], contributions: Sequence[Decimal]
) -> dict[str, Decimal]:
    """Every member's share of the pool, in cents that add up to the pool exactly.
    A contribution below zero weighs nothing; with no positive contribution
    at all, the pool is split equally."""
    if split not in ("equal", "contribution"):
        raise ValueError(f"unknown split {split!r}")
    weights = [max(c, Decimal(0)) for c in contributions] if split == "contribution" else []
    if not any(weights):
        weights = [Decimal(1)] * len(members)
    return dict(zip(members, largest_remainder(pool, weights), strict=True))


def adjustment_line(adjustment: Adjustment) -> Line | None:
    source = adjustment.source_period
    deals = tuple((deal, source) for deal in adjustment.deals)
    named = ", ".join(f"deal {deal.deal_id} {signed(deal.amount)}" for deal in adjustment.deals)
    if adjustment.window_closed is not None:
        return Line(
            "late_correction",
            None,
            f"statement:{source}",
            ZERO,
            None,
            ZERO,
            f"{named or 'a deal'} changed in {source} after its clawback window closed on"
            f" {adjustment.window_closed.isoformat()}: not clawed back = {money(ZERO)}",
            deals,
        )
    amount = round_half_up(adjustment.restated - adjustment.paid)
    if amount == 0:
        return None
    behind = f" ({named} from {source})" if named else ""
    return Line(
        "clawback" if amount < 0 else "adjustment",
        None,
        f"statement:{source}",
        adjustment.restated,
        None,
        amount,
        f"{source} restated {money(adjustment.restated)}"
        f" {MINUS} paid {money(adjustment.paid)} = {money(amount)}{behind}",
        deals,
    )


def deal_changes(credits: Sequence[Credit], named: Collection[str] = ()) -> tuple[DealChange, ...]:
    """The corrections in `credits` not yet named by an earlier adjustment
    (`named` entry ids), netted per deal in (first day, deal id) order; a deal
    whose corrections net to nothing changed nothing and is left out."""
    fresh = [credit for credit in credits if credit.entry_id not in named]
    by_deal = {deal.deal_id: deal for deal in deals_of(fresh)}
    return tuple(
        DealChange(
            deal.deal_id,
            deal.net,
            tuple(sorted(c.entry_id for c in fresh if c.deal_id == deal.deal_id)),
        )
        for deal in by_deal.values()
        if deal.net != 0
    )


def signed(amount: Decimal) -> str:
    """A change with its sign: `+1,000.00`, or a minus sign before a fall."""
    return money(amount) if amount < 0 else f"+{money(amount)}"


def next_steps(terms: PlanTerms, *, quota: Quota | None, revenue: Decimal) -> list[NextStep]:
    """What more revenue reaches the next tier, gate or threshold, nearest first."""
    if quota is None or quota.target <= 0:
        return []
    target = quota.target
    steps = []
    for component in terms.components:
        match component:
            case Commission():
                ahead = (tier for tier in component.tiers if tier.floor * target > revenue)
                if (tier := next(ahead, None)) is not None:
                    steps.append(
                        _step(
                            component.id,
                            "tier",
                            tier.floor,
                            tier.floor * target - revenue,
                            f"reaches tier {tier_label(tier)} at {percent(tier.rate)}",
                        )
                    )
            case AttainmentBonus() if component.gate * target > revenue:
                steps.append(
                    _step(
                        component.id,
                        "gate",
                        component.gate,
                        component.gate * target - revenue,
                        f"reaches the gate {percent(component.gate)}"
                        f" of attainment bonus {component.id}",
                    )
                )
            case ThresholdBonus() if component.threshold * target > revenue:
                pays = (
                    f"{percent(component.percent_of_commission)} of commission"
                    if component.percent_of_commission is not None
                    else money(component.amount or ZERO)
                )
                steps.append(
                    _step(
                        component.id,
                        "threshold",
                        component.threshold,
                        component.threshold * target - revenue,
                        f"reaches {percent(component.threshold)},"
                        f" where threshold bonus {component.id} pays {pays}",
                    )
                )
    # sorted() is stable, so steps needing the same revenue keep the plan's order.
    return sorted(steps, key=lambda step: step.revenue_needed)


def _step(component_id: str, kind: str, attainment: Decimal, short: Decimal, what: str) -> NextStep:
    # Revenue is counted in cents: the step is reached by the first whole cent at or past it.
    needed = round_to(short, CENT, ROUND_UP)
    return NextStep(component_id, kind, attainment, needed, f"{money(needed)} more revenue {what}")


def _no_quota_warning(quota: Quota | None) -> str:
    why = (
        "no quota"
        if quota is None
        else f"no quota (goal {quota.goal_id} has a target of {money(quota.target)})"
    )
    return (
        f"{why}: commission is paid at the first tier's rate on all revenue,"
        " and bonuses on attainment pay nothing"
    )


def tier_label(tier: Tier) -> str:
    if tier.ceiling is None:
        return f"{percent(tier.floor)}+"
    return f"{percent(tier.floor)}{EN_DASH}{percent(tier.ceiling)}"


def money(amount: Decimal) -> str:
    """`12,000.00`, and a negative amount with a minus sign rather than a hyphen."""
    rounded = round_half_up(amount)
    shown = f"{abs(rounded):,.2f}"
    return MINUS + shown if rounded < 0 else shown


def attainment_percent(attainment: Decimal) -> str:
    """`120.0%`. Cut, not rounded, to a tenth of a percent: 99.99% must not read
    as the 100.0% that a threshold asks for."""
    return f"{round_to(attainment * 100, Decimal('0.1'), ROUND_DOWN):.1f}%"
