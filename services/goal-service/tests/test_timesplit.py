from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from attain_contracts import Period
from attain_contracts.calendar import GRAINS, FiscalCalendar, Grain, days_of, within
from goal_service.domain.timesplit import (
    CalendarDays,
    LastYearShares,
    Percentages,
    Profile,
    TimeSlice,
    TimeSplit,
    WorkingDays,
    day_weights,
    split_time,
)

pytestmark = pytest.mark.unit

CALENDAR = FiscalCalendar()
SEASONALITY = Percentages(
    {m: Decimal(p) for m, p in enumerate([6, 6, 8, 8, 8, 10, 8, 8, 8, 10, 10, 10], start=1)}
)


def _targets(split: TimeSplit, grain: Grain) -> dict[str | None, Decimal]:
    return {s.period.key: s.target for s in split.slices if s.grain == grain}


def test_the_worked_example_of_the_domain() -> None:
    """DOMAIN.md §5: team A's 6,000,000 with months weighted 6/6/8/8/8/10/8/8/8/10/10/10 %."""
    split = split_time(
        Decimal(6_000_000), CALENDAR.period("FY2026"), ["quarter", "month"], SEASONALITY, CALENDAR
    )
    quarters, months = _targets(split, "quarter"), _targets(split, "month")
    assert quarters["FY2026-Q1"] == 1_200_000
    assert months["2026-03"] == 480_000
    assert list(quarters.values()) == [1_200_000, 1_560_000, 1_440_000, 1_800_000]
    assert split.milestones == [
        (date(2026, 3, 31), 1_200_000),
        (date(2026, 6, 30), 2_760_000),
        (date(2026, 9, 30), 4_200_000),
        (date(2026, 12, 31), 6_000_000),
    ]
    march = next(s for s in split.slices if s.period.key == "2026-03")
    assert march.parent == CALENDAR.period("FY2026-Q1")
    assert not split.fell_back


def test_a_week_across_a_month_end_is_split_by_days_under_each_month() -> None:
    spring = Period(start=date(2026, 3, 1), end=date(2026, 4, 30))
    split = split_time(Decimal(61), spring, ["month", "week"], CalendarDays(), CALENDAR)
    week_14 = [(s.period.start, s.period.end, s.target, s.parent) for s in split.slices]
    assert (date(2026, 3, 30), date(2026, 3, 31), 2, CALENDAR.period("2026-03")) in week_14
    assert (date(2026, 4, 1), date(2026, 4, 5), 5, CALENDAR.period("2026-04")) in week_14


def test_both_parts_of_a_week_cut_at_a_month_end_keep_the_iso_week_key() -> None:
    """2026-W05 runs from Monday 26 January to Sunday 1 February: cut at the
    month end, each part is still that ISO week, so a query by its key finds both."""
    winter = Period(start=date(2026, 1, 1), end=date(2026, 2, 28))
    split = split_time(Decimal(59), winter, ["month", "week"], CalendarDays(), CALENDAR)
    parts = [s for s in split.slices if s.grain == "week" and s.period.key == "2026-W05"]
    assert [(p.period.start, p.period.end, p.target) for p in parts] == [
        (date(2026, 1, 26), date(2026, 1, 31), 6),
        (date(2026, 2, 1), date(2026, 2, 1), 1),
    ]
    assert [p.parent for p in parts] == [CALENDAR.period("2026-01"), CALENDAR.period("2026-02")]
    # The year's first days are the end of 2026-W01, which began in 2025.
    first = next(s for s in split.slices if s.grain == "week")
    assert (first.period.key, first.period.start) == ("2026-W01", date(2026, 1, 1))
    # A month cut into weeks is no week: months keep their own keys.
    assert all(
        s.period.key == f"{s.period.start:%Y-%m}" for s in split.slices if s.grain == "month"
    )


def test_working_days_leave_weekends_and_holidays_out() -> None:
    calendar = FiscalCalendar(holidays=frozenset({date(2026, 3, 10)}))
    split = split_time(Decimal(2100), CALENDAR.period("2026-03"), ["week"], WorkingDays(), calendar)
    # Sunday 1 March has no working day and gets no slice; 21 working days at 100.
    assert [(s.period.start, s.target) for s in split.slices] == [
        (date(2026, 3, 2), 500),
        (date(2026, 3, 9), 400),
        (date(2026, 3, 16), 500),
        (date(2026, 3, 23), 500),
        (date(2026, 3, 30), 200),
    ]
    assert split.milestones[0] == (date(2026, 3, 1), 0)


def test_a_month_at_zero_percent_gets_no_slice_but_a_milestone() -> None:
    profile = Percentages({1: Decimal(0), 2: Decimal(40), 3: Decimal(60)})
    split = split_time(Decimal(1000), CALENDAR.period("FY2026-Q1"), ["month"], profile, CALENDAR)
    assert _targets(split, "month") == {"2026-02": 400, "2026-03": 600}
    assert split.milestones == [
        (date(2026, 1, 31), 0),
        (date(2026, 2, 28), 400),
        (date(2026, 3, 31), 1000),
    ]


def test_slices_rounded_to_nothing_are_left_out_and_the_rest_still_add_up() -> None:
    split = split_time(Decimal(3), CALENDAR.period("FY2026"), ["month"], CalendarDays(), CALENDAR)
    assert sum(s.target for s in split.slices) == 3
    assert len(split.slices) == 3


def test_last_year_shares_follow_last_year() -> None:
    profile = LastYearShares({1: Decimal(100), 2: Decimal(300)})
    split = split_time(Decimal(80), CALENDAR.period("FY2026-Q1"), ["month"], profile, CALENDAR)
    assert _targets(split, "month") == {"2026-01": 20, "2026-02": 60}
    assert not split.fell_back


def test_last_year_with_no_actuals_falls_back_to_calendar_days_and_says_so() -> None:
    quarter = CALENDAR.period("FY2026-Q1")
    nothing = split_time(Decimal(90), quarter, ["month"], LastYearShares({1: Decimal(0)}), CALENDAR)
    by_days = split_time(Decimal(90), quarter, ["month"], CalendarDays(), CALENDAR)
    assert nothing.fell_back
    assert nothing.slices == by_days.slices


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Percentages({1: Decimal(50), 2: Decimal(49)}), "sum to 100, not 99"),
        (lambda: Percentages({1: Decimal(101), 2: Decimal(-1)}), "negative"),
        (lambda: Percentages({0: Decimal(100)}), "1 to 12"),
        (lambda: LastYearShares({3: Decimal(-5)}), r"month\(s\) \[3\] is negative"),
    ],
)
def test_bad_profiles_are_refused(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_percentages_must_cover_every_month_of_the_period() -> None:
    profile = Percentages({1: Decimal(50), 2: Decimal(50)})
    with pytest.raises(ValueError, match=r"month\(s\) \[3\]"):
        split_time(Decimal(10), CALENDAR.period("FY2026-Q1"), ["month"], profile, CALENDAR)


@pytest.mark.parametrize(
    "grains", [[], ["year"], ["month", "quarter"], ["month", "month"], ["fortnight"]]
)
def test_grains_must_be_coarse_to_fine_below_the_year(grains: list[Grain]) -> None:
    with pytest.raises(ValueError, match="coarse to fine"):
        split_time(Decimal(10), CALENDAR.period("FY2026"), grains, CalendarDays(), CALENDAR)


def test_a_target_must_be_whole_units() -> None:
    with pytest.raises(ValueError, match=r"target 10.5 is not a multiple of the unit 1"):
        split_time(Decimal("10.5"), CALENDAR.period("FY2026"), ["month"], CalendarDays(), CALENDAR)


def test_a_period_without_a_working_day_cannot_be_split_by_working_days() -> None:
    weekend = Period(start=date(2026, 3, 7), end=date(2026, 3, 8))
    with pytest.raises(ValueError, match="no weight"):
        split_time(Decimal(10), weekend, ["week"], WorkingDays(), CALENDAR)


@st.composite
def percentages(draw: st.DrawFn) -> Percentages:
    cuts = sorted(draw(st.lists(st.integers(0, 1000), min_size=11, max_size=11)))
    tenths = [b - a for a, b in zip([0, *cuts], [*cuts, 1000], strict=True)]
    return Percentages({m: Decimal(t) / 10 for m, t in enumerate(tenths, start=1)})


profiles = st.one_of(
    percentages(),
    st.builds(
        LastYearShares,
        st.dictionaries(st.integers(1, 12), st.integers(0, 10_000).map(Decimal), max_size=12),
    ),
    st.just(WorkingDays()),
    st.just(CalendarDays()),
)
calendars = st.builds(
    FiscalCalendar,
    fiscal_year_start_month=st.integers(1, 12),
    holidays=st.frozensets(st.dates(date(2025, 1, 1), date(2027, 12, 31)), max_size=20),
)
grain_lists = st.sets(st.sampled_from(GRAINS[1:]), min_size=1).map(
    lambda chosen: [g for g in GRAINS if g in chosen]
)
# largest_remainder rounds to the unit's exponent: a unit of a thousand must be
# written 1E3, since Decimal(1000) has exponent 0 and would round to ones.
units = st.sampled_from([Decimal(1), Decimal("0.01"), Decimal("1E3")])


class Case(NamedTuple):
    target: Decimal
    period: Period
    grains: list[Grain]
    profile: Profile
    calendar: FiscalCalendar
    unit: Decimal
    split: TimeSplit

    def parent_of(self, child: TimeSlice) -> tuple[Period, Decimal]:
        """The period and target `child` was cut from. Matched by grain as well
        as dates: a period shorter than a half is cut into a half and a quarter
        with the same dates."""
        level = self.grains.index(child.grain)
        if level == 0:
            return self.period, self.target
        coarser = self.grains[level - 1]
        (parent,) = (
            s for s in self.split.slices if s.grain == coarser and s.period == child.parent
        )
        return parent.period, parent.target


@st.composite
def splits(draw: st.DrawFn) -> Case:
    unit = draw(units)
    target = draw(st.integers(0, 10**9)) * unit
    start = draw(st.dates(date(2025, 1, 1), date(2026, 12, 31)))
    period = Period(start=start, end=start + timedelta(days=draw(st.integers(0, 400))))
    grains, profile, calendar = draw(grain_lists), draw(profiles), draw(calendars)
    try:
        split = split_time(target, period, grains, profile, calendar, unit)
    except ValueError as error:
        if "no weight" not in str(error):
            raise
        reject()
    return Case(target, period, grains, profile, calendar, unit, split)


@given(splits())
def test_every_slice_is_exactly_the_sum_of_its_children(case: Case) -> None:
    parent_targets: dict[tuple[int, Period], Decimal] = {}
    children_sums: dict[tuple[int, Period], Decimal] = {}
    for child in case.split.slices:
        parent, parent_target = case.parent_of(child)
        assert within(child.period, parent)
        assert child.target > 0
        assert child.target % case.unit == 0
        key = (case.grains.index(child.grain), parent)
        parent_targets[key] = parent_target
        children_sums[key] = children_sums.get(key, Decimal(0)) + child.target
    assert children_sums == parent_targets
    if case.target:
        assert (0, case.period) in children_sums


@given(splits())
def test_each_slice_follows_the_profile_within_one_unit(case: Case) -> None:
    profile = CalendarDays() if case.split.fell_back else case.profile
    weights = day_weights(case.period, profile, case.calendar)

    def weight(p: Period) -> Decimal:
        return sum((weights[d] for d in days_of(p)), Decimal(0))

    for child in case.split.slices:
        parent, parent_target = case.parent_of(child)
        exact = parent_target * weight(child.period) / weight(parent)
        assert abs(child.target - exact) < case.unit


@given(splits())
def test_milestones_climb_to_the_target_at_the_period_end(case: Case) -> None:
    assert case.split.milestones[-1] == (case.period.end, case.target)
    cumulative = [amount for _, amount in case.split.milestones]
    assert cumulative == sorted(cumulative)
    assert cumulative[0] >= 0


@given(splits())
def test_the_same_split_gives_the_same_result(case: Case) -> None:
    again = split_time(
        case.target, case.period, case.grains, case.profile, case.calendar, case.unit
    )
    assert again == case.split
