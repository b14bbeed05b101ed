"""Funnel reverse derivation (DOMAIN.md §5.6)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain_contracts import Period
from goal_service.domain.funnel import (
    Funnel,
    FunnelError,
    Rates,
    choose_rates,
    derive,
    process_goals_wanted,
    shift,
)

pytestmark = pytest.mark.unit

D = Decimal


def rates(scope: str = "team-a", deals: int = 40, **overrides: object) -> Rates:
    values: dict[str, object] = {
        "avg_deal_size": D(60_000),
        "win_rate": D("0.3"),
        "lead_conversion": D("0.25"),
        "activities_per_opportunity": D("4.5"),
        "sales_cycle_days": D("45.2"),
        "deals_sample": deals,
        "scope": scope,
    } | overrides
    return Rates(**values)  # type: ignore[arg-type]


def test_each_stage_is_the_ceiling_of_what_the_next_needs() -> None:
    # 200 deals; 666.7 opportunities; 2,668 leads; 3,001.5 activities.
    assert derive(D(12_000_000), rates()) == Funnel(
        deals_won=200, opportunities=667, leads=2668, activities=3002, lead_days=46
    )


def test_exact_quotients_are_not_rounded_up() -> None:
    funnel = derive(D(1_200_000), rates(win_rate=D("0.25"), activities_per_opportunity=D(3)))
    assert (funnel.deals_won, funnel.opportunities, funnel.leads, funnel.activities) == (
        20,
        80,
        320,
        240,
    )


def test_a_revenue_short_of_one_deal_still_needs_one() -> None:
    assert derive(D(1), rates()).deals_won == 1
    assert derive(D(0), rates()) == Funnel(0, 0, 0, 0, 46)


def test_without_a_sales_cycle_nothing_is_shifted() -> None:
    assert derive(D(60_000), rates(sales_cycle_days=None)).lead_days == 0
    assert derive(D(60_000), rates(sales_cycle_days=D(30))).lead_days == 30


def test_deriving_from_incomplete_rates_names_what_is_missing() -> None:
    with pytest.raises(FunnelError, match="team-a has no win rate, lead conversion"):
        derive(D(100), rates(win_rate=None, lead_conversion=D(0)))
    with pytest.raises(FunnelError) as error:
        derive(D(-1), rates())
    assert error.value.field == "revenue"


@given(
    revenue=st.integers(min_value=0, max_value=10**9).map(D),
    avg_deal_size=st.decimals("1", "1000000", places=2),
    win_rate=st.decimals("0.01", "1", places=2),
    lead_conversion=st.decimals("0.01", "1", places=2),
    per_opportunity=st.decimals("0.1", "50", places=1),
)
def test_every_stage_is_just_enough(
    revenue: Decimal,
    avg_deal_size: Decimal,
    win_rate: Decimal,
    lead_conversion: Decimal,
    per_opportunity: Decimal,
) -> None:
    funnel = derive(
        revenue,
        rates(
            avg_deal_size=avg_deal_size,
            win_rate=win_rate,
            lead_conversion=lead_conversion,
            activities_per_opportunity=per_opportunity,
        ),
    )
    assert funnel.deals_won * avg_deal_size >= revenue > (funnel.deals_won - 1) * avg_deal_size
    assert funnel.opportunities * win_rate >= funnel.deals_won
    assert (funnel.opportunities - 1) * win_rate < funnel.deals_won or funnel.opportunities == 0
    assert funnel.leads * lead_conversion >= funnel.opportunities
    assert (funnel.leads - 1) * lead_conversion < funnel.opportunities or funnel.leads == 0
    assert funnel.activities >= funnel.opportunities * per_opportunity > funnel.activities - 1


def test_a_scope_with_enough_deals_uses_its_own_rates() -> None:
    own = rates(deals=20)
    assert choose_rates([own, rates("region-1")]) == (own, None)


def test_a_scope_with_too_few_deals_falls_back_to_its_parent_and_says_so() -> None:
    parent = rates("region-1", deals=120)
    chosen, note = choose_rates([rates(deals=7), parent])
    assert chosen == parent
    assert note == "team-a has 7 won deals (< 20); used region-1's rates"


def test_the_fallback_climbs_as_far_as_it_must() -> None:
    company = rates("company", deals=5000)
    chosen, note = choose_rates(
        [rates(deals=3), rates("region-1", deals=80, win_rate=None), company], min_deals=10
    )
    assert chosen == company
    assert note == ("team-a has 3 won deals (< 10), region-1 has no win rate; used company's rates")


def test_without_usable_rates_anywhere_the_error_says_why() -> None:
    with pytest.raises(FunnelError) as error:
        choose_rates([rates(deals=7), rates("region-1", deals=90, avg_deal_size=D(0))])
    assert str(error.value).startswith(
        "no scope has usable rates: team-a has 7 won deals (< 20), region-1 has no avg deal size; "
    )
    assert error.value.field == "rates"
    with pytest.raises(FunnelError, match="no historical rates"):
        choose_rates([])


@pytest.mark.parametrize("chain", [[], [rates(deals=7), rates("region-1", deals=3)]])
def test_without_usable_rates_anywhere_the_error_says_how_to_give_them(chain: list[Rates]) -> None:
    with pytest.raises(FunnelError) as error:
        choose_rates(chain)
    for name in (
        "rates",
        "avg_deal_size",
        "win_rate",
        "lead_conversion",
        "activities_per_opportunity",
        "sales_cycle_days",
    ):
        assert f'"{name}"' in error.value.reason, error.value.reason


def test_rates_that_need_more_than_a_goal_holds_are_refused() -> None:
    with pytest.raises(FunnelError) as error:
        derive(D(10) ** 15, rates(avg_deal_size=D(1), win_rate=D("0.001")))
    assert error.value.field == "rates"


def test_shifting_a_period_moves_both_ends_earlier_and_drops_its_key() -> None:
    march = Period(key="2026-03", start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert shift(march, 30) == Period(key=None, start=date(2026, 1, 30), end=date(2026, 3, 1))
    assert shift(march, 0) == march
    with pytest.raises(FunnelError):
        shift(march, -1)


@pytest.mark.parametrize(
    ("person", "line", "asked", "wanted"),
    [
        ("new", "mature", False, True),
        ("new", None, False, True),
        ("experienced", "new", False, True),
        ("experienced", "mature", False, False),
        ("experienced", None, False, False),
        ("experienced", "mature", True, True),
        ("experienced", None, True, True),
        (None, None, False, True),
        (None, "mature", False, True),
    ],
)
def test_process_goals_go_to_new_reps_and_new_lines_or_when_asked(
    person: str, line: str | None, asked: bool, wanted: bool
) -> None:
    assert process_goals_wanted(person, line, asked) is wanted  # type: ignore[arg-type]
