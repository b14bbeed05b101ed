"""The manager page's pure figures: pace bands, the gap, the funnel,
pipeline coverage, the grid's columns and the wall board's cycle."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain_contracts.calendar import FiscalCalendar
from dashboard_service.domain.team import (
    Band,
    Figures,
    age,
    coverage,
    funnel,
    gap,
    grid_columns,
    pace_band,
    roll_up,
    span_of,
    wall_cycle,
)

pytestmark = pytest.mark.unit

D = Decimal
WORST_FIRST = [Band.BEHIND, Band.AT_RISK, Band.ON_TRACK, Band.AHEAD]
paces = st.decimals(min_value=0, max_value=5, places=4)
amounts = st.decimals(min_value=0, max_value=10**9, places=2)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2027, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@pytest.mark.parametrize(
    ("pace", "band"),
    [
        (D("0.75"), Band.BEHIND),
        (D("0.7501"), Band.AT_RISK),
        (D("0.90"), Band.AT_RISK),
        (D("0.9001"), Band.ON_TRACK),
        (D("1.1999"), Band.ON_TRACK),
        (D("1.20"), Band.AHEAD),
        (None, Band.NOT_STARTED),
    ],
)
def test_bands_match_the_alert_rules_defaults(pace: Decimal | None, band: Band) -> None:
    assert pace_band(pace) == band


@given(paces, paces)
def test_a_better_pace_never_gets_a_worse_band(low: Decimal, high: Decimal) -> None:
    low, high = sorted((low, high))
    assert WORST_FIRST.index(pace_band(low)) <= WORST_FIRST.index(pace_band(high))


@given(amounts, amounts)
def test_the_gap_closes_once_the_actual_reaches_the_expected(
    actual: Decimal, expected: Decimal
) -> None:
    assert gap(actual, expected) == (expected - actual if actual < expected else D(0))


@given(instants, instants)
def test_an_alerts_age_is_never_negative(opened_at: datetime, now: datetime) -> None:
    assert age(opened_at, now) >= timedelta(0)


def test_the_funnel_converts_stage_to_stage_and_averages_the_won_deals() -> None:
    result = funnel(
        {
            "leads_created": D(200),
            "opportunities_created": D(50),
            "deals_won": D(10),
            "revenue": D("123456.78"),
        }
    )
    assert [(s.name, s.count, s.conversion) for s in result.stages] == [
        ("leads_created", D(200), None),
        ("opportunities_created", D(50), D("0.25")),
        ("deals_won", D(10), D("0.2")),
    ]
    assert result.overall == D("0.05")
    assert result.average_deal_size == D("12345.678")


def test_an_empty_funnel_has_no_rates_rather_than_a_division_by_zero() -> None:
    result = funnel({})
    assert [s.conversion for s in result.stages] == [None, None, None]
    assert result.overall is None and result.average_deal_size is None


@given(amounts, amounts, st.decimals(min_value=1, max_value=10**9, places=2))
def test_coverage_is_the_pipeline_over_what_is_left(
    pipeline: Decimal, actual: Decimal, target: Decimal
) -> None:
    result = coverage(pipeline, actual, target)
    if actual >= target:
        assert result is None
    else:
        assert result is not None
        assert abs(result * (target - actual) - pipeline) <= (target - actual) * D("0.0001")


def test_the_grid_of_a_quarter_shows_its_months_and_every_week_that_touches_it() -> None:
    calendar = FiscalCalendar()
    quarter = span_of(calendar, date(2026, 2, 14))
    assert quarter.key == "FY2026-Q1"
    assert [c.key for c in grid_columns(calendar, quarter, "month")] == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    weeks = grid_columns(calendar, quarter, "week")
    # 2026-01-01 is a Thursday: week 1 starts on 29 December, and is the quarter's first column.
    assert weeks[0].key == "2026-W01" and weeks[0].start == date(2025, 12, 29)
    assert weeks[-1].key == "2026-W14" and weeks[-1].end == date(2026, 4, 5)


def test_a_fiscal_year_from_april_puts_april_first() -> None:
    calendar = FiscalCalendar(fiscal_year_start_month=4)
    quarter = span_of(calendar, date(2026, 5, 2))
    assert quarter.key == "FY2026-Q1"
    assert grid_columns(calendar, quarter, "month")[0].key == "2026-04"


@given(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=120))
def test_the_wall_board_shows_one_panel_at_a_time_in_turn(count: int, seconds: int) -> None:
    timings = wall_cycle([f"p{i}" for i in range(count)], seconds)
    delays = sorted(t.delay_seconds for t in timings.values())
    assert delays == [i * seconds for i in range(count)]
    assert {t.cycle_seconds for t in timings.values()} == {count * seconds}


figures = st.builds(Figures, amounts, amounts, amounts)


@given(st.lists(figures, max_size=12))
def test_a_roll_up_is_the_sum_of_its_parts(parts: list[Figures]) -> None:
    total = roll_up(parts)
    assert total.actual == sum((p.actual for p in parts), D(0))
    assert total.expected == sum((p.expected for p in parts), D(0))
    assert total.target == sum((p.target for p in parts), D(0))


def test_a_roll_up_weighs_a_big_quota_more_than_a_small_one() -> None:
    big_behind = Figures(actual=D(50), target=D(1000), expected=D(100))  # pace 0.5
    small_ahead = Figures(actual=D(20), target=D(100), expected=D(10))  # pace 2
    assert roll_up([big_behind, small_ahead]).pace == D("0.6364")
