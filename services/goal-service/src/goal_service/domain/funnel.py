"""Funnel reverse derivation (DOMAIN.md §5.6): from a revenue target and a
scope's historical rates, the deals, opportunities, leads and activities it
takes, and how much earlier the pipeline has to be built."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from attain_contracts import Period
from goal_service.domain.errors import InputError

MIN_DEALS = 20
# What a planner does when no scope has the history: the step takes the rates.
HOW_TO_GIVE_RATES = (
    'give the step its rates instead: "rates": {"avg_deal_size", "win_rate", '
    '"lead_conversion", "activities_per_opportunity", "sales_cycle_days"}'
)
# A goal's target column holds less than this (numeric(20, 4)).
MAX_COUNT = 10**16


class FunnelError(InputError):
    """A funnel that cannot be derived."""


@dataclass(frozen=True)
class Rates:
    """A scope's historical rates (from the tracking service) and how many won
    deals they rest on."""

    avg_deal_size: Decimal | None
    win_rate: Decimal | None
    lead_conversion: Decimal | None
    activities_per_opportunity: Decimal | None
    sales_cycle_days: Decimal | None
    deals_sample: int
    scope: str

    def missing(self) -> list[str]:
        """The ratios the derivation needs that are absent or not positive."""
        ratios = {
            "avg deal size": self.avg_deal_size,
            "win rate": self.win_rate,
            "lead conversion": self.lead_conversion,
            "activities per opportunity": self.activities_per_opportunity,
        }
        return [name for name, value in ratios.items() if value is None or value <= 0]


@dataclass(frozen=True)
class Funnel:
    """What a revenue target takes; `lead_days` is how many days earlier than
    the revenue the opportunity and lead targets fall (the sales cycle)."""

    deals_won: int
    opportunities: int
    leads: int
    activities: int
    lead_days: int


def choose_rates(chain: Sequence[Rates], min_deals: int = MIN_DEALS) -> tuple[Rates, str | None]:
    """The first rates in `chain` (the scope's own, then its parent's, then its
    grandparent's...) that rest on at least `min_deals` won deals and have every
    ratio; the note says which scopes were passed over and why."""
    passed_over: list[str] = []
    for rates in chain:
        reason = _unusable(rates, min_deals)
        if reason is None:
            note = f"{', '.join(passed_over)}; used {rates.scope}'s rates" if passed_over else None
            return rates, note
        passed_over.append(reason)
    if not chain:
        raise FunnelError("rates", f"no historical rates for the scope; {HOW_TO_GIVE_RATES}")
    raise FunnelError(
        "rates", f"no scope has usable rates: {', '.join(passed_over)}; {HOW_TO_GIVE_RATES}"
    )


def _unusable(rates: Rates, min_deals: int) -> str | None:
    if rates.deals_sample < min_deals:
        return f"{rates.scope} has {rates.deals_sample} won deals (< {min_deals})"
    if missing := rates.missing():
        return f"{rates.scope} has no {', '.join(missing)}"
    return None


def derive(revenue: Decimal, rates: Rates) -> Funnel:
    """Each count is the ceiling of what the one after it in the funnel needs:
    won deals = ceil(revenue / avg deal size), opportunities = ceil(won / win
    rate), leads = ceil(opportunities / lead conversion), activities =
    ceil(opportunities * activities per opportunity)."""
    if revenue < 0:
        raise FunnelError("revenue", f"the revenue target must not be negative, not {revenue}")
    ratios = [
        ratio
        for ratio in (
            rates.avg_deal_size,
            rates.win_rate,
            rates.lead_conversion,
            rates.activities_per_opportunity,
        )
        if ratio is not None and ratio > 0
    ]
    if len(ratios) < 4:
        raise FunnelError("rates", f"{rates.scope} has no {', '.join(rates.missing())}")
    avg_deal_size, win_rate, lead_conversion, activities_per_opportunity = ratios
    deals_won = math.ceil(revenue / avg_deal_size)
    opportunities = math.ceil(deals_won / win_rate)
    derived = Funnel(
        deals_won=deals_won,
        opportunities=opportunities,
        leads=math.ceil(opportunities / lead_conversion),
        activities=math.ceil(opportunities * activities_per_opportunity),
        lead_days=_lead_days(rates.sales_cycle_days),
    )
    largest = max(derived.opportunities, derived.leads, derived.activities, deals_won)
    if largest >= MAX_COUNT:
        raise FunnelError("rates", f"{rates.scope}'s rates need {largest} of a stage; too many")
    return derived


def _lead_days(sales_cycle_days: Decimal | None) -> int:
    if sales_cycle_days is None:
        return 0
    return max(math.ceil(sales_cycle_days), 0)


def shift(period: Period, days: int) -> Period:
    """`period` moved `days` earlier; it no longer has a calendar key then."""
    if days < 0:
        raise FunnelError("days", f"a period is shifted earlier, by 0 days or more, not {days}")
    if days == 0:
        return period
    offset = timedelta(days=days)
    return Period(key=None, start=period.start - offset, end=period.end - offset)


def process_goals_wanted(
    person_maturity: Literal["new", "experienced"] | None,
    product_line_maturity: Literal["new", "mature"] | None,
    asked: bool,
) -> bool:
    """New reps and new product lines get the process goals (leads,
    opportunities, activities); experienced reps on mature lines (or on no
    particular line) get the outcome goal only, unless asked. A unit's goal
    (`person_maturity` None: a team has no maturity of its own) gets them: the
    team's process goals are what its manager steers by."""
    return (
        person_maturity is None
        or person_maturity == "new"
        or product_line_maturity == "new"
        or asked
    )
