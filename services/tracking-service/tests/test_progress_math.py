"""Progress at a day (DOMAIN.md §4): expected to date from milestones, child
periods or working days; ratios from numerator and denominator; direction."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain_contracts.progress import (
    Calendar,
    ChildTarget,
    GoalTerms,
    Milestone,
    expected_to_date,
)
from tracking_service.domain.progress import Pipeline, contributions, progress_at
from tracking_service.domain.statistics import funnel_rates

pytestmark = pytest.mark.unit

MARCH = GoalTerms("revenue", "higher_is_better", date(2026, 3, 1), date(2026, 3, 31), Decimal(2200))


def test_working_days_skip_weekends_and_holidays() -> None:
    assert Calendar().working_days(date(2026, 3, 1), date(2026, 3, 31)) == 22
    assert (
        Calendar(frozenset({date(2026, 3, 2)})).working_days(date(2026, 3, 1), date(2026, 3, 31))
        == 21
    )
    assert Calendar().working_days(date(2026, 3, 7), date(2026, 3, 8)) == 0


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    days=st.integers(min_value=0, max_value=800),
)
def test_working_days_match_counting_one_by_one(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    counted = sum(1 for i in range(days + 1) if (start + timedelta(i)).weekday() < 5)
    assert Calendar().working_days(start, end) == counted


exception_days = st.frozensets(
    st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 2, 1)), max_size=40
)


@given(
    start=st.dates(min_value=date(2025, 11, 1), max_value=date(2027, 3, 1)),
    days=st.integers(min_value=-3, max_value=500),
    holidays=exception_days,
    working_weekends=exception_days,
)
def test_working_days_with_exceptions_match_counting_one_by_one(
    start: date, days: int, holidays: frozenset[date], working_weekends: frozenset[date]
) -> None:
    calendar = Calendar(holidays, working_weekends)
    end = start + timedelta(days=days)
    counted = sum(1 for i in range(days + 1) if calendar.is_working_day(start + timedelta(i)))
    assert calendar.working_days(start, end) == counted
    assert calendar.working_days(start, end) == counted  # the second time, from what it kept


def test_expected_is_linear_in_working_days() -> None:
    # 10 of March's 22 working days are done by Friday the 13th.
    assert expected_to_date(MARCH, date(2026, 3, 13)) == Decimal(1000)
    assert expected_to_date(MARCH, date(2026, 2, 28)) == 0
    assert expected_to_date(MARCH, date(2026, 4, 2)) == Decimal(2200)


def test_the_seed_case_monthly_goal_ten_percent_behind() -> None:
    progress = progress_at(MARCH, Decimal(900), Decimal(0), date(2026, 3, 13))
    assert progress.expected_to_date == Decimal(1000)
    assert progress.pace == Decimal("0.9")
    assert progress.attainment == Decimal("0.4091")
    # 900 over 10 working days, 12 left: 900 + 90 x 12.
    assert progress.projection == Decimal(1980)


def test_expected_follows_milestones_when_set() -> None:
    terms = GoalTerms(
        "revenue",
        "higher_is_better",
        date(2026, 1, 1),
        date(2026, 12, 31),
        Decimal(1200),
        milestones=(Milestone(date(2026, 6, 30), Decimal(200)),),
    )
    assert expected_to_date(terms, date(2026, 6, 30)) == Decimal(200)
    assert expected_to_date(terms, date(2026, 12, 31)) == Decimal(1200)
    assert Decimal(0) < expected_to_date(terms, date(2026, 3, 31)) < Decimal(200)


def test_expected_follows_the_childrens_seasonal_targets() -> None:
    # Q1 split 6/6/8 of 100 x 20: by the end of February, January and February are due.
    quarter = GoalTerms(
        "revenue",
        "higher_is_better",
        date(2026, 1, 1),
        date(2026, 3, 31),
        Decimal(2000),
        children=(
            ChildTarget(date(2026, 1, 1), date(2026, 1, 31), Decimal(600)),
            ChildTarget(date(2026, 2, 1), date(2026, 2, 28), Decimal(600)),
            ChildTarget(date(2026, 3, 1), date(2026, 3, 31), Decimal(800)),
        ),
    )
    assert expected_to_date(quarter, date(2026, 2, 28)) == Decimal(1200)
    assert expected_to_date(quarter, date(2026, 3, 13)) == Decimal(1200) + Decimal(800) * 10 / 22


def test_a_ratio_is_its_numerator_over_denominator_and_expected_at_target() -> None:
    win_rate = GoalTerms(
        "win_rate", "higher_is_better", date(2026, 3, 1), date(2026, 3, 31), Decimal("0.4")
    )
    progress = progress_at(win_rate, Decimal(3), Decimal(10), date(2026, 3, 13))
    assert progress.actual == Decimal("0.3")
    assert progress.expected_to_date == Decimal("0.4")
    assert progress.pace == Decimal("0.75")
    assert (progress.numerator, progress.denominator) == (Decimal(3), Decimal(10))
    empty = progress_at(win_rate, Decimal(0), Decimal(0), date(2026, 3, 13))
    assert (empty.actual, empty.pace) == (Decimal(0), None)


def test_lower_is_better_reads_above_one_as_ahead() -> None:
    cycle = GoalTerms(
        "sales_cycle_days", "lower_is_better", date(2026, 3, 1), date(2026, 3, 31), Decimal(30)
    )
    fast = progress_at(cycle, Decimal(200), Decimal(10), date(2026, 3, 13))  # 20 days on average
    slow = progress_at(cycle, Decimal(400), Decimal(10), date(2026, 3, 13))  # 40 days
    assert fast.pace == Decimal("1.5")
    assert slow.pace == Decimal("0.75")


def test_pipeline_projection_adds_open_deals_times_win_rate() -> None:
    progress = progress_at(
        MARCH,
        Decimal(900),
        Decimal(0),
        date(2026, 3, 13),
        pipeline=Pipeline(Decimal(1000), Decimal("0.25")),
    )
    assert progress.pipeline_projection == progress.projection + Decimal(250)
    assert progress.open_pipeline == Decimal(1000)


def test_every_catalog_ratio_reads_its_numerator_and_denominator() -> None:
    pairs = {(ledger, goal): (num, den) for ledger, goal, num, den in contributions()}
    assert pairs[("deals_won", "win_rate")] == (1, 1)
    assert pairs[("deals_lost", "win_rate")] == (0, 1)
    assert pairs[("revenue", "avg_deal_size")] == (1, 0)
    assert pairs[("deals_won", "avg_deal_size")] == (0, 1)
    assert pairs[("revenue", "revenue")] == (1, 0)


def test_funnel_rates_name_their_samples() -> None:
    rates = funnel_rates(
        {
            "revenue": Decimal(100000),
            "deals_won": Decimal(4),
            "deals_lost": Decimal(6),
            "leads_created": Decimal(50),
            "opportunities_created": Decimal(10),
            "activities": Decimal(80),
            "sales_cycle_days": Decimal(120),
        }
    )
    assert rates["avg_deal_size"].value == Decimal(25000)
    assert (rates["win_rate"].value, rates["win_rate"].sample) == (Decimal("0.4"), 10)
    assert rates["lead_conversion"].value == Decimal("0.2")
    assert rates["activities_per_opportunity"].value == Decimal(8)
    assert rates["sales_cycle_days"].value == Decimal(30)
    assert funnel_rates({})["win_rate"].value is None
