from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alert_service.domain.lifecycle import SEVERITY_RANK
from alert_service.domain.rules import (
    PARAMS,
    RULES,
    AheadParams,
    ConsecutiveLowParams,
    Finding,
    ForecastParams,
    GoalFacts,
    InvalidRuleParams,
    PaceParams,
    PeriodResult,
    RatioFloorParams,
    RuleName,
    SilenceParams,
    ahead,
    consecutive_low,
    effective_params,
    forecast,
    granularity,
    pace,
    ratio_floor,
    silence,
)
from attain_contracts.progress import MONDAY_TO_FRIDAY, Calendar, Milestone

pytestmark = pytest.mark.unit

# March 2026 starts on a Sunday and has 22 working days: a target of 2,200 expects
# 100 a working day. The n-th working day is named below.
MARCH_1, MARCH_31 = date(2026, 3, 1), date(2026, 3, 31)
MAR_4 = date(2026, 3, 4)  # 3 done
MAR_5 = date(2026, 3, 5)  # 4
MAR_6 = date(2026, 3, 6)  # 5, a Friday
MAR_12 = date(2026, 3, 12)  # 9
MAR_13 = date(2026, 3, 13)  # 10, a Friday: 1,000 expected
MAR_14 = date(2026, 3, 14)  # a Saturday, still 10
MAR_16 = date(2026, 3, 16)  # 11
MAR_17 = date(2026, 3, 17)  # 12
# February 2026 has 20 working days, so 3 of them are exactly 15% of it.
FEB_1, FEB_28 = date(2026, 2, 1), date(2026, 2, 28)
FEB_4 = date(2026, 2, 4)  # 3 done: the grace share exactly
FEB_5 = date(2026, 2, 5)  # 4 done: one working day after it


def monthly(
    actual: str,
    *,
    target: str = "2200",
    direction: str = "higher_is_better",
    metric: str = "revenue",
    start: date = MARCH_1,
    end: date = MARCH_31,
    milestones: tuple[Milestone, ...] = (),
) -> GoalFacts:
    return GoalFacts(
        goal_id="g-1",
        metric=metric,
        direction=direction,
        start=start,
        end=end,
        target=Decimal(target),
        numerator=Decimal(actual),
        milestones=milestones,
    )


def february(actual: str) -> GoalFacts:
    return monthly(actual, target="2000", start=FEB_1, end=FEB_28)


def severity_of(finding: Finding | None) -> str | None:
    return None if finding is None else finding.severity


# pace


def test_seed_a_monthly_goal_10_percent_behind_mid_month_is_a_pace_warning() -> None:
    finding = pace(monthly("900"), MAR_13, PaceParams())

    assert finding is not None
    assert finding.rule == "pace"
    assert finding.severity == "warning"
    assert finding.actual == 900
    assert finding.expected == 1000
    assert finding.target == 2200
    assert finding.pace == Decimal("0.9000")
    assert finding.detail == "10% behind pace"
    assert finding.figures["elapsed_share"] == "0.4545"
    assert finding.figures["expected"] == "1000.0000"
    assert finding.figures["shortfall"] == "0.1000"


@pytest.mark.parametrize(
    ("day", "severity"),
    [
        (MAR_12, None),  # 900 expected: on pace
        (MAR_13, "warning"),  # 1,000 expected: exactly 10% behind, included
        (MAR_14, "warning"),  # a Saturday expects nothing more
        (MAR_16, "warning"),  # 1,100: 18.2% behind
        (MAR_17, "critical"),  # 1,200: exactly 25% behind, included
    ],
)
def test_pace_as_days_pass_with_the_actual_standing_still(day: date, severity: str | None) -> None:
    assert severity_of(pace(monthly("900"), day, PaceParams())) == severity


@pytest.mark.parametrize(
    ("actual", "severity"),
    [
        ("900.01", None),
        # Pace 0.90004 is shown as 0.9000 but is not 10% behind.
        ("900.04", None),
        ("900", "warning"),
        ("899.99", "warning"),
        ("750.01", "warning"),
        ("750", "critical"),
        ("0", "critical"),
    ],
)
def test_pace_thresholds_are_inclusive_and_decided_on_exact_values(
    actual: str, severity: str | None
) -> None:
    assert severity_of(pace(monthly(actual), MAR_13, PaceParams())) == severity


def test_pace_detail_rounds_the_shortfall_to_a_tenth_of_a_percent() -> None:
    finding = pace(monthly("900"), MAR_16, PaceParams())

    assert finding is not None
    assert finding.detail == "18.2% behind pace"
    assert finding.pace == Decimal("0.8182")


def test_figures_and_percentages_round_half_up() -> None:
    behind = pace(monthly("877.5"), MAR_13, PaceParams())
    ahead_of = ahead(monthly("1200.05"), MAR_13, AheadParams())

    assert behind is not None
    assert behind.detail == "12.3% behind pace"
    assert ahead_of is not None
    assert ahead_of.pace == Decimal("1.2001")
    assert ahead_of.figures["lead"] == "0.2001"


def test_pace_severities_come_from_the_params() -> None:
    params = PaceParams(severity="info", critical_severity="warning")

    assert severity_of(pace(monthly("900"), MAR_13, params)) == "info"
    assert severity_of(pace(monthly("700"), MAR_13, params)) == "warning"


def test_pace_is_silent_up_to_the_grace_share_and_speaks_one_working_day_after() -> None:
    assert pace(february("0"), FEB_4, PaceParams()) is None
    assert severity_of(pace(february("0"), FEB_5, PaceParams())) == "critical"


def test_pace_is_silent_before_the_period_when_disabled_and_for_ratios() -> None:
    assert pace(monthly("0"), MARCH_1 - timedelta(days=1), PaceParams(grace_share=0)) is None
    assert pace(monthly("0"), MAR_13, PaceParams(enabled=False)) is None
    win_rate = replace(monthly("1", target="0.5", metric="win_rate"), denominator=Decimal(10))
    assert pace(win_rate, MAR_13, PaceParams()) is None


def test_pace_is_silent_while_the_milestones_expect_nothing() -> None:
    goal = monthly("0", milestones=(Milestone(on=MAR_13, cumulative_target=Decimal(0)),))

    assert pace(goal, MAR_12, PaceParams()) is None
    assert pace(goal, MAR_13, PaceParams()) is None
    assert severity_of(pace(goal, MAR_16, PaceParams())) == "critical"


def test_nothing_expected_yet_silences_spending_and_forecasts_too() -> None:
    nothing_yet = (Milestone(on=MAR_13, cumulative_target=Decimal(0)),)
    spending = monthly(
        "50", direction="lower_is_better", metric="discounts_given", milestones=nothing_yet
    )
    idle = monthly("0", milestones=nothing_yet)

    assert pace(spending, MAR_12, PaceParams()) is None
    assert forecast(idle, MAR_12, ForecastParams()) is None
    assert forecast(idle, MAR_16, ForecastParams()) is not None


@pytest.mark.parametrize(
    ("actual", "severity"),
    [
        ("0", None),  # nothing spent cannot be behind
        ("1000", None),
        ("1100", None),  # 1,000 / 1,100: 9.1% behind
        ("1112", "warning"),  # 10.1% behind
        ("1250", "warning"),  # 20% behind
        ("1333.34", "critical"),  # just past 25% behind
    ],
)
def test_pace_of_a_lower_is_better_total_is_mirrored(actual: str, severity: str | None) -> None:
    goal = monthly(actual, direction="lower_is_better", metric="discounts_given")

    assert severity_of(pace(goal, MAR_13, PaceParams())) == severity


# ahead


@pytest.mark.parametrize(
    ("actual", "fires"),
    [("1199.99", False), ("1200", True), ("1200.01", True), ("1000", False)],
)
def test_ahead_threshold_is_inclusive(actual: str, fires: bool) -> None:
    finding = ahead(monthly(actual), MAR_13, AheadParams())

    assert (finding is not None) is fires
    if finding is not None:
        assert finding.severity == "info"
        assert Decimal(finding.figures["lead"]) >= Decimal("0.2")


@pytest.mark.parametrize(
    ("day", "detail"),
    [
        (MAR_12, "33.3% ahead of pace"),  # 900 expected
        (MAR_13, "20% ahead of pace"),  # 1,000: exactly the threshold
        (MAR_16, None),  # 1,100: 9.1% ahead
    ],
)
def test_ahead_as_days_pass(day: date, detail: str | None) -> None:
    finding = ahead(monthly("1200"), day, AheadParams())

    assert (None if finding is None else finding.detail) == detail


def test_ahead_is_silent_up_to_the_grace_share_and_speaks_one_working_day_after() -> None:
    assert ahead(february("5000"), FEB_4, AheadParams()) is None
    assert severity_of(ahead(february("5000"), FEB_5, AheadParams())) == "info"


def test_ahead_of_a_lower_is_better_total_is_spending_less() -> None:
    def finding(actual: str) -> Finding | None:
        goal = monthly(actual, direction="lower_is_better", metric="discounts_given")
        return ahead(goal, MAR_13, AheadParams())

    assert finding("1200") is None
    assert finding("833.34") is None  # 1,000 / 833.34: just under 20% ahead
    assert finding("800") is not None  # 25% ahead
    assert finding("0") is None  # nothing recorded is silence's business


def test_ahead_is_silent_when_disabled_or_for_ratios() -> None:
    assert ahead(monthly("5000"), MAR_13, AheadParams(enabled=False)) is None
    win_rate = replace(monthly("9", target="0.5", metric="win_rate"), denominator=Decimal(10))
    assert ahead(win_rate, MAR_13, AheadParams()) is None


# forecast


@pytest.mark.parametrize(
    ("actual", "fires"),
    [
        # On 13 March, 10 working days done and 12 left: projection = 2.2 x actual,
        # so the projected attainment is actual / 1,000.
        ("900.01", False),
        ("900", False),  # exactly 1 - tolerance: not below it
        ("899.99", True),
        ("0", True),
    ],
)
def test_forecast_fires_strictly_below_one_minus_tolerance(actual: str, fires: bool) -> None:
    assert (forecast(monthly(actual), MAR_13, ForecastParams()) is not None) is fires


@pytest.mark.parametrize(
    ("day", "detail"),
    [
        (MAR_12, None),  # 900 + 100 x 13 left: exactly on target
        (MAR_13, None),  # 900 + 90 x 12: 90%
        # 900 + 81.8 x 11
        (MAR_16, "projected to reach 81.8% of target (1,800 of 2,200) by 2026-03-31"),
    ],
)
def test_forecast_as_days_pass(day: date, detail: str | None) -> None:
    finding = forecast(monthly("900"), day, ForecastParams())

    assert (None if finding is None else finding.detail) == detail


def test_forecast_finding_carries_the_projection() -> None:
    finding = forecast(monthly("900"), MAR_16, ForecastParams())

    assert finding is not None
    assert finding.severity == "warning"
    # What was expected by the day (11 working days of 100), not the target.
    assert (finding.expected, finding.target) == (1100, 2200)
    assert finding.pace == Decimal("0.8182")
    assert finding.figures["projection"] == "1800.0000"
    assert finding.figures["projected_attainment"] == "0.8182"


def test_forecast_is_silent_up_to_the_grace_share_and_speaks_one_working_day_after() -> None:
    assert forecast(february("0"), FEB_4, ForecastParams()) is None
    assert forecast(february("0"), FEB_5, ForecastParams()) is not None


def test_forecast_of_a_lower_is_better_total_fires_when_projected_over() -> None:
    def finding(actual: str) -> Finding | None:
        goal = monthly(actual, direction="lower_is_better", metric="discounts_given")
        return forecast(goal, MAR_13, ForecastParams())

    assert finding("1000") is None  # projected 2,200: on target
    assert finding("1111.11") is None  # projected 2,444.44: 2,200 / that is just above 90%
    assert finding("1111.12") is not None


def test_forecast_is_silent_when_disabled_or_for_ratios() -> None:
    assert forecast(monthly("0"), MAR_13, ForecastParams(enabled=False)) is None
    win_rate = replace(monthly("0", target="0.5", metric="win_rate"), denominator=Decimal(30))
    assert forecast(win_rate, MAR_13, ForecastParams()) is None


# ratio_floor


def win_rate(won: int, decided: int | None, target: str = "0.25") -> GoalFacts:
    return GoalFacts(
        goal_id="g-2",
        metric="win_rate",
        direction="higher_is_better",
        start=MARCH_1,
        end=MARCH_31,
        target=Decimal(target),
        numerator=Decimal(won),
        denominator=None if decided is None else Decimal(decided),
    )


def test_a_win_rate_below_its_target_fires_ratio_floor() -> None:
    finding = ratio_floor(win_rate(9, 40), MAR_13, RatioFloorParams())

    assert finding is not None
    assert finding.severity == "warning"
    assert finding.actual == Decimal("0.225")
    assert finding.expected == Decimal("0.25")
    assert finding.pace == Decimal("0.9")
    assert finding.detail == "win rate 22.5% below the 25% floor (40 decided)"
    assert finding.figures == {
        "level": "0.2250",
        "floor": "0.2500",
        "sample": "40.0000",
        "min_sample": "20",
    }


@pytest.mark.parametrize(
    ("won", "decided", "fires"),
    [
        (10, 40, False),  # exactly at the floor
        (9, 36, False),
        (9, 37, True),  # just below
        (11, 40, False),
        (3, 19, False),  # below, but too few decided to judge
        (4, 20, True),  # the minimum sample, included
        (0, 0, False),
        (5, None, False),
    ],
)
def test_ratio_floor_is_strict_and_needs_the_minimum_sample(
    won: int, decided: int | None, fires: bool
) -> None:
    assert (ratio_floor(win_rate(won, decided), MAR_13, RatioFloorParams()) is not None) is fires


def test_a_configured_floor_replaces_the_target() -> None:
    params = RatioFloorParams(floor=Decimal("0.2"), min_sample=40)
    finding = ratio_floor(win_rate(7, 40), MAR_13, params)

    assert ratio_floor(win_rate(9, 40), MAR_13, params) is None
    assert ratio_floor(win_rate(7, 39), MAR_13, params) is None
    assert finding is not None
    assert finding.detail == "win rate 17.5% below the 20% floor (40 decided)"


def sales_cycle(total_days: int, won: int) -> GoalFacts:
    return GoalFacts(
        goal_id="g-3",
        metric="sales_cycle_days",
        direction="lower_is_better",
        start=MARCH_1,
        end=MARCH_31,
        target=Decimal(40),
        numerator=Decimal(total_days),
        denominator=Decimal(won),
    )


@pytest.mark.parametrize(
    ("total_days", "fires"),
    [(1200, True), (1001, True), (1000, False), (900, False)],
)
def test_a_sales_cycle_above_its_ceiling_fires_ratio_floor(total_days: int, fires: bool) -> None:
    assert (
        ratio_floor(sales_cycle(total_days, 25), MAR_13, RatioFloorParams()) is not None
    ) is fires


def test_a_lower_is_better_ratio_finding_reads_as_a_ceiling() -> None:
    finding = ratio_floor(sales_cycle(1200, 25), MAR_13, RatioFloorParams())

    assert finding is not None
    assert finding.actual == 48
    assert finding.pace == Decimal("0.8333")
    assert finding.detail == "sales cycle days 48 above the 40 ceiling (25 deals won)"


def test_ratio_floor_is_silent_before_the_period_when_disabled_and_for_totals() -> None:
    assert ratio_floor(win_rate(0, 40), MARCH_1 - timedelta(days=1), RatioFloorParams()) is None
    assert ratio_floor(win_rate(0, 40), MAR_13, RatioFloorParams(enabled=False)) is None
    revenue = replace(monthly("0"), denominator=Decimal(40))
    assert ratio_floor(revenue, MAR_13, RatioFloorParams()) is None


# consecutive_low

WEEK_STARTS = [date(2026, 3, 2) + timedelta(weeks=n) for n in range(4)]


def weeks(
    *actuals: str, target: str = "100", direction: str = "higher_is_better"
) -> list[PeriodResult]:
    return [
        PeriodResult(
            goal_id=f"w-{n}",
            start=WEEK_STARTS[n],
            end=WEEK_STARTS[n] + timedelta(days=6),
            target=Decimal(target),
            actual=Decimal(actual),
            direction=direction,
        )
        for n, actual in enumerate(actuals)
    ]


def test_seed_two_weeks_below_70_percent_are_a_critical_consecutive_low() -> None:
    finding = consecutive_low(monthly("500"), weeks("65", "60"), ConsecutiveLowParams())

    assert finding is not None
    assert finding.severity == "critical"
    assert finding.actual == 60
    assert finding.expected == 100
    assert finding.target == 2200
    assert finding.pace == Decimal("0.6")
    assert finding.detail == "weekly completion below 70% for 2 consecutive weeks (65%, 60%)"
    assert finding.figures == {
        "floor": "0.7000",
        "count": "2",
        "completion_1": "0.6500",
        "completion_2": "0.6000",
    }


def test_seed_one_low_week_then_a_met_week_is_no_consecutive_low() -> None:
    assert consecutive_low(monthly("500"), weeks("65", "80"), ConsecutiveLowParams()) is None


@pytest.mark.parametrize(
    ("actuals", "fires"),
    [
        (("60",), False),  # one fewer than the count
        (("65", "60"), True),
        (("65", "80", "60"), False),  # a met week in between breaks the run
        (("80", "65", "60"), True),  # only the last two count
        (("70", "60"), False),  # exactly 70% is not below 70%
        (("69.99", "60"), True),
        (("60", "70"), False),
    ],
)
def test_consecutive_low_needs_the_count_all_strictly_below_the_floor(
    actuals: tuple[str, ...], fires: bool
) -> None:
    result = consecutive_low(monthly("0"), weeks(*actuals), ConsecutiveLowParams())

    assert (result is not None) is fires


def test_consecutive_low_counts_to_the_configured_count() -> None:
    params = ConsecutiveLowParams(count=3)
    finding = consecutive_low(monthly("0"), weeks("60", "60", "60"), params)

    assert consecutive_low(monthly("0"), weeks("60", "60"), params) is None
    assert consecutive_low(monthly("0"), weeks("60", "90", "60"), params) is None
    assert finding is not None
    assert finding.detail == "weekly completion below 70% for 3 consecutive weeks (60%, 60%, 60%)"


def test_a_count_of_one_reads_as_the_last_week() -> None:
    finding = consecutive_low(monthly("0"), weeks("50"), ConsecutiveLowParams(count=1))

    assert finding is not None
    assert finding.detail == "weekly completion below 70% in the last week (50%)"


def test_a_period_without_a_target_counts_as_met() -> None:
    closed = [*weeks("65"), replace(weeks("0", "0")[1], target=Decimal(0))]

    assert consecutive_low(monthly("0"), closed, ConsecutiveLowParams()) is None


def test_closed_periods_are_taken_in_order_of_their_end() -> None:
    finding = consecutive_low(
        monthly("0"), list(reversed(weeks("90", "65", "60"))), ConsecutiveLowParams()
    )

    assert finding is not None
    assert finding.detail.endswith("(65%, 60%)")
    assert finding.actual == 60


def test_monthly_periods_read_as_months() -> None:
    months = [
        PeriodResult(
            "m-1",
            date(2026, 1, 1),
            date(2026, 1, 31),
            Decimal(1000),
            Decimal(500),
            "higher_is_better",
        ),
        PeriodResult(
            "m-2",
            date(2026, 2, 1),
            date(2026, 2, 28),
            Decimal(1000),
            Decimal(600),
            "higher_is_better",
        ),
    ]
    finding = consecutive_low(monthly("0"), months, ConsecutiveLowParams())

    assert finding is not None
    assert finding.detail == "monthly completion below 70% for 2 consecutive months (50%, 60%)"


def test_consecutive_low_of_lower_is_better_periods_is_mirrored() -> None:
    def finding(*actuals: str) -> Finding | None:
        closed = weeks(*actuals, target="10", direction="lower_is_better")
        return consecutive_low(monthly("0"), closed, ConsecutiveLowParams())

    assert finding("15", "20") is not None  # 66.7%, 50%
    assert finding("14", "20") is None  # 71.4%, then 50%
    assert finding("0", "20") is None  # nothing against a ceiling is met


def test_consecutive_low_is_silent_when_disabled() -> None:
    params = ConsecutiveLowParams(enabled=False)

    assert consecutive_low(monthly("0"), weeks("0", "0"), params) is None


# silence


@pytest.mark.parametrize(
    ("day", "silent_days"),
    [
        (MAR_12, None),  # 4 working days after Friday the 6th
        (MAR_13, 5),
        (MAR_14, 5),  # a Saturday does not count
        (MAR_16, 6),
    ],
)
def test_silence_counts_working_days_after_the_last_record(
    day: date, silent_days: int | None
) -> None:
    finding = silence(monthly("500"), day, MAR_6, SilenceParams())

    assert (None if finding is None else finding.figures["silent_days"]) == (
        None if silent_days is None else str(silent_days)
    )
    if finding is not None:
        assert finding.detail == f"nothing recorded for {silent_days} working days"
        assert finding.severity == "warning"
        assert finding.pace is None


@pytest.mark.parametrize("last_recorded_on", [None, MARCH_1 - timedelta(days=3)])
def test_silence_counts_from_the_start_when_nothing_was_recorded_in_the_period(
    last_recorded_on: date | None,
) -> None:
    assert silence(monthly("0"), MAR_5, last_recorded_on, SilenceParams()) is None
    assert silence(monthly("0"), MAR_6, last_recorded_on, SilenceParams()) is not None


def test_silence_skips_holidays() -> None:
    calendar = Calendar(holidays=frozenset({date(2026, 3, 10)}))

    assert silence(monthly("0"), MAR_13, MAR_6, SilenceParams(), calendar) is None
    assert silence(monthly("0"), MAR_16, MAR_6, SilenceParams(), calendar) is not None


def test_silence_is_quiet_before_the_start_after_a_record_today_and_when_disabled() -> None:
    early = MARCH_1 - timedelta(days=1)
    assert silence(monthly("0"), early, None, SilenceParams(working_days=1)) is None
    assert silence(monthly("0"), MAR_13, MAR_13, SilenceParams(working_days=1)) is None
    assert silence(monthly("0"), MARCH_31, None, SilenceParams(enabled=False)) is None


def test_silence_expects_the_share_to_date_of_a_total_and_the_target_of_a_ratio() -> None:
    total = silence(monthly("500"), MAR_13, MAR_6, SilenceParams())
    ratio = silence(win_rate(1, 4), MAR_13, MAR_6, SilenceParams())

    assert total is not None
    assert total.expected == 1000
    assert ratio is not None
    assert ratio.expected == Decimal("0.25")
    assert ratio.actual == Decimal("0.25")


# granularity


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, "week"), (7, "week"), (8, "month"), (28, "month"), (31, "month"), (32, None), (92, None)],
)
def test_granularity_by_period_length(days: int, expected: str | None) -> None:
    start = date(2026, 1, 1)

    assert granularity(start, start + timedelta(days=days - 1)) == expected


# effective_params


def test_without_layers_the_defaults_apply() -> None:
    assert effective_params("pace", []) == PaceParams()
    assert PaceParams().threshold == Decimal("0.10")
    assert ConsecutiveLowParams().count == 2
    assert effective_params("ratio_floor", [{}]) == RatioFloorParams()


def test_a_later_layer_wins() -> None:
    params = effective_params("pace", [{"threshold": "0.2"}, {"threshold": "0.15"}, {}])

    assert isinstance(params, PaceParams)
    assert params.threshold == Decimal("0.15")
    assert params.critical_threshold == Decimal("0.25")


def test_critical_threshold_must_exceed_the_threshold() -> None:
    with pytest.raises(InvalidRuleParams) as raised:
        effective_params("pace", [{"threshold": "0.3", "critical_threshold": "0.2"}])

    assert raised.value.field == "critical_threshold"
    assert "threshold" in raised.value.reason


def test_a_threshold_beyond_the_default_critical_threshold_is_refused() -> None:
    with pytest.raises(InvalidRuleParams) as raised:
        effective_params("pace", [{"threshold": "0.3"}])

    assert raised.value.field == "critical_threshold"


@pytest.mark.parametrize(
    ("rule", "layer", "field"),
    [
        ("pace", {"treshold": "0.2"}, "treshold"),
        ("pace", {"threshold": "0"}, "threshold"),
        ("pace", {"critical_threshold": "0.1"}, "critical_threshold"),
        ("pace", {"grace_share": "1"}, "grace_share"),
        ("pace", {"severity": "critical", "critical_severity": "warning"}, "critical_severity"),
        ("pace", {"enabled": "perhaps"}, "enabled"),
        ("consecutive_low", {"count": 0}, "count"),
        ("consecutive_low", {"floor": "1.2"}, "floor"),
        ("ratio_floor", {"min_sample": 0}, "min_sample"),
        ("ratio_floor", {"floor": "0"}, "floor"),
        ("forecast", {"tolerance": "-0.1"}, "tolerance"),
        ("silence", {"working_days": "0"}, "working_days"),
        ("ahead", {"severity": "loud"}, "severity"),
        ("ahead", {"threshold": "nan"}, "threshold"),
    ],
)
def test_invalid_params_name_the_field(rule: RuleName, layer: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRuleParams) as raised:
        effective_params(rule, [layer])

    assert raised.value.field == field
    assert isinstance(raised.value, ValueError)


def test_the_rule_table_lists_every_rule_in_order() -> None:
    assert RULES == ("pace", "consecutive_low", "ratio_floor", "forecast", "silence", "ahead")
    assert set(PARAMS) == set(RULES)


# Property tests. Values any combination of which is valid, per rule and field.


def shares(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=2)


VALID: dict[RuleName, dict[str, st.SearchStrategy[Any]]] = {
    "pace": {
        "enabled": st.booleans(),
        "threshold": shares("0.01", "0.24"),
        "critical_threshold": shares("0.25", "1"),
        "grace_share": shares("0", "0.99"),
        "severity": st.sampled_from(["info", "warning"]),
        "critical_severity": st.sampled_from(["warning", "critical"]),
    },
    "consecutive_low": {
        "enabled": st.booleans(),
        "floor": shares("0.01", "1"),
        "count": st.integers(1, 10),
        "severity": st.sampled_from(["info", "warning", "critical"]),
    },
    "ratio_floor": {
        "enabled": st.booleans(),
        "floor": st.none() | shares("0.01", "100"),
        "min_sample": st.integers(1, 500),
        "severity": st.sampled_from(["info", "warning", "critical"]),
    },
    "forecast": {
        "enabled": st.booleans(),
        "tolerance": shares("0", "0.99"),
        "grace_share": shares("0", "0.99"),
        "severity": st.sampled_from(["info", "warning", "critical"]),
    },
    "silence": {
        "enabled": st.booleans(),
        "working_days": st.integers(1, 60),
        "severity": st.sampled_from(["info", "warning", "critical"]),
    },
    "ahead": {
        "enabled": st.booleans(),
        "threshold": shares("0.01", "5"),
        "grace_share": shares("0", "0.99"),
        "severity": st.sampled_from(["info", "warning", "critical"]),
    },
}
INVALID: dict[RuleName, dict[str, st.SearchStrategy[Any]]] = {
    "pace": {
        "threshold": st.sampled_from(["0", "-0.1", "1", "x"]),
        "critical_threshold": st.sampled_from(["0", "1.01", None]),
        "grace_share": st.sampled_from(["1", "-0.01"]),
        "severity": st.just("red"),
    },
    "consecutive_low": {"floor": st.sampled_from(["0", "1.5"]), "count": st.integers(-3, 0)},
    "ratio_floor": {"floor": st.sampled_from(["0", "-1"]), "min_sample": st.integers(-3, 0)},
    "forecast": {"tolerance": st.sampled_from(["1", "-0.5"]), "grace_share": st.just("2")},
    "silence": {"working_days": st.integers(-3, 0), "enabled": st.just("sometimes")},
    "ahead": {"threshold": st.sampled_from(["0", "-1"]), "severity": st.just(7)},
}


@st.composite
def valid_layer(draw: st.DrawFn, rule: RuleName) -> dict[str, Any]:
    fields = VALID[rule]
    keys = draw(st.lists(st.sampled_from(sorted(fields)), unique=True))
    return {key: draw(fields[key]) for key in keys}


@st.composite
def rule_and_layers(
    draw: st.DrawFn, size: int | None = None
) -> tuple[RuleName, list[dict[str, Any]]]:
    rule = draw(st.sampled_from(RULES))
    count = size if size is not None else draw(st.integers(0, 4))
    return rule, [draw(valid_layer(rule)) for _ in range(count)]


@given(rule_and_layers())
def test_each_field_takes_the_last_layer_that_sets_it(
    case: tuple[RuleName, list[dict[str, Any]]],
) -> None:
    rule, layers = case
    params = effective_params(rule, layers)
    defaults = PARAMS[rule]()

    for field in VALID[rule]:
        setting = [layer[field] for layer in layers if field in layer]
        assert getattr(params, field) == (setting[-1] if setting else getattr(defaults, field))


@given(rule_and_layers(size=2))
def test_merging_is_order_sensitive_only_on_shared_keys(
    case: tuple[RuleName, list[dict[str, Any]]],
) -> None:
    rule, (first, second) = case
    agree = all(first[key] == second[key] for key in first.keys() & second.keys())

    swapped = effective_params(rule, [second, first]) == effective_params(rule, [first, second])

    assert swapped is agree


@given(st.data())
def test_an_invalid_value_in_any_layer_names_its_field(data: st.DataObject) -> None:
    rule, layers = data.draw(rule_and_layers())
    field = data.draw(st.sampled_from(sorted(INVALID[rule])))
    bad = {field: data.draw(INVALID[rule][field])}
    # The offending layer is the last to set the field, wherever it stands.
    at = data.draw(st.integers(0, len(layers)))
    layers = [
        *layers[:at],
        bad,
        *({k: v for k, v in layer.items() if k != field} for layer in layers[at:]),
    ]

    with pytest.raises(InvalidRuleParams) as raised:
        effective_params(rule, layers)

    assert raised.value.field == field


@given(rule_and_layers(), st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
def test_an_unknown_key_is_named(case: tuple[RuleName, list[dict[str, Any]]], key: str) -> None:
    rule, layers = case
    assume(key not in PARAMS[rule].model_fields)

    with pytest.raises(InvalidRuleParams) as raised:
        effective_params(rule, [*layers, {key: "1"}])

    assert raised.value.field == key


amounts = st.decimals(Decimal(0), Decimal(100_000), places=2)
march_days = st.integers(-3, 33).map(lambda offset: MARCH_1 + timedelta(days=offset))


@st.composite
def pace_params(draw: st.DrawFn) -> PaceParams:
    layer = draw(valid_layer("pace"))
    return PaceParams.model_validate({**layer, "enabled": True})


def badness(finding: Finding | None) -> int:
    return -1 if finding is None else SEVERITY_RANK[finding.severity]


@given(
    st.lists(amounts, min_size=2, max_size=2).map(sorted),
    shares("1", "100000"),
    march_days,
    pace_params(),
)
def test_more_actual_never_gives_a_worse_pace_or_forecast(
    actuals: list[Decimal], target: Decimal, day: date, params: PaceParams
) -> None:
    less, more = (monthly(str(a), target=str(target)) for a in actuals)

    assert badness(pace(more, day, params)) <= badness(pace(less, day, params))
    if forecast(more, day, ForecastParams()) is not None:
        assert forecast(less, day, ForecastParams()) is not None


@given(
    st.lists(amounts, min_size=2, max_size=2).map(sorted),
    shares("1", "100000"),
    march_days,
    pace_params(),
)
def test_less_actual_never_gives_a_worse_pace_when_lower_is_better(
    actuals: list[Decimal], target: Decimal, day: date, params: PaceParams
) -> None:
    less, more = (
        monthly(str(a), target=str(target), direction="lower_is_better", metric="discounts_given")
        for a in actuals
    )

    assert badness(pace(less, day, params)) <= badness(pace(more, day, params))


TIMED_RULES: list[Callable[[GoalFacts, date, Decimal], Finding | None]] = [
    lambda goal, day, grace: pace(goal, day, PaceParams(grace_share=grace)),
    lambda goal, day, grace: ahead(goal, day, AheadParams(grace_share=grace)),
    lambda goal, day, grace: forecast(goal, day, ForecastParams(grace_share=grace)),
]


@settings(max_examples=200)
@given(
    st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    st.integers(1, 120),
    st.integers(-5, 125),
    shares("0", "0.99"),
    amounts,
    shares("1", "100000"),
    st.sampled_from(["higher_is_better", "lower_is_better"]),
)
def test_nothing_is_found_within_the_grace_share(
    start: date,
    length: int,
    offset: int,
    grace: Decimal,
    actual: Decimal,
    target: Decimal,
    direction: str,
) -> None:
    end = start + timedelta(days=length - 1)
    day = start + timedelta(days=offset)
    done, total = MONDAY_TO_FRIDAY.elapsed(start, end, day)
    assume(Decimal(done) / Decimal(total) <= grace)
    goal = monthly(str(actual), target=str(target), direction=direction, start=start, end=end)

    for rule in TIMED_RULES:
        assert rule(goal, day, grace) is None


def test_a_forecast_of_a_lower_is_better_total_says_what_it_projects() -> None:
    goal = monthly("1200", direction="lower_is_better", metric="discounts_given")
    finding = forecast(goal, MAR_13, ForecastParams())

    assert finding is not None
    # 1,200 + 120 x 12 working days left = 2,640: 2,200 / 2,640 of target.
    assert finding.detail == "projected to reach 83.3% of target (2,640 of 2,200) by 2026-03-31"
    assert finding.expected == 1000
