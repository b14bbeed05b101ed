from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alert_service.domain.pace import (
    elapsed_share,
    evaluate_pace,
    expected_to_date,
    pace_message,
)

pytestmark = pytest.mark.unit

# 100 days, so a target of 1,000 expects 10 a day.
START, END = date(2026, 1, 1), date(2026, 4, 10)
DAY_50 = START + timedelta(days=49)
TARGET = Decimal(1000)
RULE = {
    "threshold": Decimal("0.10"),
    "critical_threshold": Decimal("0.25"),
    "grace_share": Decimal("0.15"),
}


def evaluate(actual: str, as_of: date = DAY_50, direction: str = "higher_is_better"):
    return evaluate_pace(Decimal(actual), TARGET, START, END, as_of, direction, **RULE)  # type: ignore[arg-type]


def test_expected_to_date_is_linear_in_calendar_days_with_both_ends_inclusive() -> None:
    assert expected_to_date(TARGET, START, END, START - timedelta(days=1)) == 0
    assert expected_to_date(TARGET, START, END, START) == 10
    assert expected_to_date(TARGET, START, END, DAY_50) == 500
    assert expected_to_date(TARGET, START, END, END - timedelta(days=1)) == 990
    assert expected_to_date(TARGET, START, END, END) == TARGET
    assert expected_to_date(TARGET, START, END, END + timedelta(days=30)) == TARGET


def test_a_one_day_period_expects_everything_on_its_day() -> None:
    day = date(2026, 3, 9)
    assert elapsed_share(day, day, day - timedelta(days=1)) == 0
    assert elapsed_share(day, day, day) == 1


def test_on_pace_finds_nothing() -> None:
    assert evaluate("500") is None
    assert evaluate("700") is None


@pytest.mark.parametrize(
    ("actual", "severity"),
    [
        ("450.01", None),
        ("450", None),  # pace exactly 1 - threshold is still within tolerance
        ("449.99", "warning"),
        ("375", "warning"),
        ("374.99", "critical"),
        ("0", "critical"),
    ],
)
def test_severity_around_the_thresholds(actual: str, severity: str | None) -> None:
    finding = evaluate(actual)
    assert (finding.severity if finding else None) == severity


def test_a_finding_carries_pace_and_expected() -> None:
    finding = evaluate("300")
    assert finding is not None
    assert (finding.severity, finding.pace, finding.expected) == ("critical", Decimal("0.6"), 500)


def test_no_finding_until_the_grace_share_has_passed() -> None:
    at_grace = START + timedelta(days=14)  # day 15 of 100: exactly 15%
    assert elapsed_share(START, END, at_grace) == Decimal("0.15")
    assert evaluate("0", as_of=at_grace) is None
    after_grace = evaluate("0", as_of=at_grace + timedelta(days=1))
    assert after_grace is not None and after_grace.severity == "critical"


def test_nothing_expected_means_no_finding() -> None:
    zero_target = evaluate_pace(
        Decimal(0), Decimal(0), START, END, DAY_50, "higher_is_better", **RULE
    )
    assert zero_target is None


@pytest.mark.parametrize(
    ("actual", "severity"),
    [
        ("300", None),  # far below expected is good when lower is better
        ("550", None),
        ("550.01", "warning"),
        ("625", "warning"),
        ("625.01", "critical"),
    ],
)
def test_lower_is_better_is_bad_above_expected(actual: str, severity: str | None) -> None:
    finding = evaluate(actual, direction="lower_is_better")
    assert (finding.severity if finding else None) == severity


def test_the_message_says_which_goal_how_far_behind_and_what_was_expected() -> None:
    finding = evaluate_pace(
        Decimal("1234.5"), Decimal(10000), START, END, DAY_50, "higher_is_better", **RULE
    )
    assert finding is not None
    message = pace_message(
        "goal_a", "higher_is_better", Decimal("1234.5"), Decimal(10000), DAY_50, finding
    )
    assert message == (
        "Goal goal_a is 75.3% behind pace: 1,234.5 so far, 5,000 expected by 2026-02-19 "
        "(target 10,000)."
    )


@given(
    target=st.decimals(min_value=1, max_value=10**9, places=2),
    length=st.integers(min_value=1, max_value=400),
    day=st.integers(min_value=-30, max_value=430),
    surplus=st.decimals(min_value=0, max_value=10**6, places=4),
)
def test_no_finding_whenever_actual_meets_expected(
    target: Decimal, length: int, day: int, surplus: Decimal
) -> None:
    end = START + timedelta(days=length - 1)
    as_of = START + timedelta(days=day)
    actual = expected_to_date(target, START, end, as_of) + surplus
    assert evaluate_pace(actual, target, START, end, as_of, "higher_is_better", **RULE) is None
