from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain_contracts import Period
from attain_contracts.calendar import (
    GRAINS,
    FiscalCalendar,
    Grain,
    UnknownPeriodKey,
    days_of,
    period_from_key,
    within,
)

pytestmark = pytest.mark.unit

JANUARY = FiscalCalendar()
APRIL = FiscalCalendar(fiscal_year_start_month=4)


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
        ("FY2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("FY2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("FY2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("FY2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_period_keys_name_their_dates(key: str, start: date, end: date) -> None:
    period = period_from_key(key)
    assert (period.key, period.start, period.end) == (key, start, end)


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("FY2026", date(2026, 4, 1), date(2027, 3, 31)),
        ("FY2026-H1", date(2026, 4, 1), date(2026, 9, 30)),
        ("FY2026-H2", date(2026, 10, 1), date(2027, 3, 31)),
        ("FY2026-Q1", date(2026, 4, 1), date(2026, 6, 30)),
        ("FY2026-Q4", date(2027, 1, 1), date(2027, 3, 31)),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026-W09", date(2026, 2, 23), date(2026, 3, 1)),
    ],
)
def test_a_fiscal_year_is_named_by_the_year_it_starts_in(key: str, start: date, end: date) -> None:
    period = APRIL.period(key)
    assert (period.key, period.start, period.end) == (key, start, end)


@pytest.mark.parametrize(
    "key",
    [
        *("2026-13", "2026-00", "2025-W53", "2026-W00", "March", "2026-3", "FY2026-Q5"),
        *("FY2026-H3", "FY26", "fy2026", "FY2026-M1", "FY0000", "FY9999-Q4", "9999-W52"),
        *(" 2026-03", ""),
    ],
)
def test_unknown_period_keys_are_refused(key: str) -> None:
    with pytest.raises(UnknownPeriodKey, match=r"expected|out of range|must be|week"):
        APRIL.period(key)


def test_a_refused_key_says_what_was_expected() -> None:
    with pytest.raises(UnknownPeriodKey, match=r"expected FY2026, FY2026-H1, .*2026-W09"):
        period_from_key("Q1 2026")


def test_the_fiscal_start_month_must_be_a_month() -> None:
    with pytest.raises(ValueError, match="1 to 12"):
        FiscalCalendar(fiscal_year_start_month=13)


@pytest.mark.parametrize(
    ("start", "end", "key", "grain"),
    [
        (date(2026, 4, 1), date(2027, 3, 31), "FY2026", "year"),
        (date(2026, 10, 1), date(2027, 3, 31), "FY2026-H2", "half"),
        (date(2027, 1, 1), date(2027, 3, 31), "FY2026-Q4", "quarter"),
        (date(2027, 1, 1), date(2027, 1, 31), "2027-01", "month"),
        (date(2026, 12, 28), date(2027, 1, 3), "2026-W53", "week"),
        (date(2026, 1, 1), date(2026, 12, 31), None, None),
        (date(2026, 3, 2), date(2026, 3, 9), None, None),
        (date(2026, 3, 3), date(2026, 3, 9), None, None),
    ],
)
def test_dates_that_are_one_calendar_period_have_its_key(
    start: date, end: date, key: str | None, grain: Grain | None
) -> None:
    assert APRIL.key_of(start, end) == key
    assert APRIL.grain_of(Period(start=start, end=end)) == grain


calendars = st.builds(FiscalCalendar, fiscal_year_start_month=st.integers(1, 12))
days = st.dates(date(1990, 1, 1), date(2100, 12, 31))


@given(calendar=calendars, day=days, grain=st.sampled_from(GRAINS))
def test_key_of_and_period_round_trip(calendar: FiscalCalendar, day: date, grain: Grain) -> None:
    (containing,) = calendar.periods(Period(start=day, end=day), grain)
    assert containing.key is None  # one day is a clipped piece of any grain
    whole = next(p for p in calendar.periods(_wide(day), grain) if p.start <= day <= p.end)
    assert whole.key is not None
    assert calendar.key_of(whole.start, whole.end) == whole.key
    assert calendar.period(whole.key) == whole
    assert calendar.grain_of(whole) == grain


def _wide(day: date) -> Period:
    return Period(start=day - timedelta(days=400), end=day + timedelta(days=400))


@given(calendar=calendars, start=days, length=st.integers(0, 800), grain=st.sampled_from(GRAINS))
def test_periods_tile_the_span_clipped_to_it(
    calendar: FiscalCalendar, start: date, length: int, grain: Grain
) -> None:
    span = Period(start=start, end=start + timedelta(days=length))
    pieces = calendar.periods(span, grain)
    assert pieces[0].start == span.start
    assert pieces[-1].end == span.end
    for before, after in pairwise(pieces):
        assert after.start == before.end + timedelta(days=1)
    for piece in pieces:
        assert within(piece, span)
        if piece.key is None:  # clipped, though it may be a whole period of a finer grain
            assert calendar.grain_of(piece) != grain
        else:
            assert calendar.period(piece.key) == piece


def test_a_month_split_into_weeks_clips_the_weeks_at_its_ends() -> None:
    pieces = JANUARY.periods(period_from_key("2026-03"), "week")
    assert [(p.key, p.start, p.end) for p in pieces] == [
        (None, date(2026, 3, 1), date(2026, 3, 1)),
        ("2026-W10", date(2026, 3, 2), date(2026, 3, 8)),
        ("2026-W11", date(2026, 3, 9), date(2026, 3, 15)),
        ("2026-W12", date(2026, 3, 16), date(2026, 3, 22)),
        ("2026-W13", date(2026, 3, 23), date(2026, 3, 29)),
        (None, date(2026, 3, 30), date(2026, 3, 31)),
    ]


def test_a_fiscal_year_splits_into_its_quarters() -> None:
    quarters = APRIL.periods(APRIL.period("FY2026"), "quarter")
    assert [q.key for q in quarters] == ["FY2026-Q1", "FY2026-Q2", "FY2026-Q3", "FY2026-Q4"]


def test_working_days_skip_weekends_and_holidays() -> None:
    march = period_from_key("2026-03")
    assert JANUARY.working_days(march) == 22
    easter = FiscalCalendar(holidays=frozenset({date(2026, 4, 3), date(2026, 4, 6)}))
    assert not easter.is_working_day(date(2026, 4, 3))
    assert not easter.is_working_day(date(2026, 4, 4))
    assert easter.is_working_day(date(2026, 4, 7))
    assert easter.working_days(period_from_key("2026-04")) == 22 - 2
    assert easter.working_days(period_from_key("2026-W15")) == 4


def test_a_holiday_on_a_weekend_costs_no_working_day() -> None:
    calendar = FiscalCalendar(holidays=frozenset({date(2026, 3, 7)}))
    assert calendar.working_days(period_from_key("2026-03")) == 22


def test_within_is_containment_of_both_ends() -> None:
    year = period_from_key("FY2026")
    assert within(period_from_key("2026-03"), year)
    assert within(year, year)
    assert not within(period_from_key("2026-W01"), year)


# The Spring Festival of 2026 in China: 15 to 23 February off, Saturdays 14 and
# 28 February worked in exchange (调休).
SPRING_FESTIVAL = frozenset(date(2026, 2, day) for day in range(15, 24))
MAKE_UP_DAYS = frozenset({date(2026, 2, 14), date(2026, 2, 28)})
CHINA = FiscalCalendar(
    timezone="Asia/Shanghai", holidays=SPRING_FESTIVAL, working_weekends=MAKE_UP_DAYS
)


def test_a_weekend_day_worked_in_exchange_for_a_holiday_is_a_working_day() -> None:
    assert CHINA.is_working_day(date(2026, 2, 14))
    assert CHINA.is_working_day(date(2026, 2, 28))
    assert not CHINA.is_working_day(date(2026, 2, 17))
    assert not CHINA.is_working_day(date(2026, 2, 21))  # a Saturday of the holiday
    assert CHINA.is_working_day(date(2026, 2, 24))
    # February's 20 weekdays, 6 of them holidays, and the 2 Saturdays worked.
    assert CHINA.working_days(period_from_key("2026-02")) == 16
    assert CHINA.working_days(period_from_key("2026-W07")) == 6  # 9 to 15 February


def test_the_progress_calendar_is_the_organisation_calendar() -> None:
    days = CHINA.working_week
    assert days.is_working_day(date(2026, 2, 14))
    assert days.working_days(date(2026, 2, 1), date(2026, 2, 28)) == 16
    assert days.working_days(date(2026, 2, 14), date(2026, 2, 14)) == 1


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    length=st.integers(min_value=0, max_value=400),
    off=st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2031, 2, 1)), max_size=20),
    worked=st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2031, 2, 1)), max_size=20),
)
def test_working_days_between_two_days_count_them_one_by_one(
    start: date, length: int, off: set[date], worked: set[date]
) -> None:
    calendar = FiscalCalendar(
        holidays=frozenset(off),
        working_weekends=frozenset(day for day in worked if day.weekday() >= 5),
    )
    end = start + timedelta(days=length)
    period = Period(start=start, end=end)
    counted = sum(1 for day in days_of(period) if calendar.is_working_day(day))
    assert calendar.working_days(period) == counted
