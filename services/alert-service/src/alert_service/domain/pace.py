"""The `pace` rule of DOMAIN.md §6: how far a goal's actual is from what the
target should have produced by now, and how bad that is.

Expected to date is linear in calendar days over the goal's period, both ends
inclusive; the day of `as_of` counts as elapsed, so on the last day of the
period the whole target is expected. Milestones, seasonality and working days
(DOMAIN.md §4) are not used by this rule yet.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from attain_contracts.types import Direction, Severity

ONE = Decimal(1)
# Figures a finding carries; the severity is decided on the exact values.
FIGURE = Decimal("0.0001")


@dataclass(frozen=True)
class PaceFinding:
    severity: Severity
    pace: Decimal
    expected: Decimal


def elapsed_share(period_start: date, period_end: date, as_of_date: date) -> Decimal:
    """The share of the period's days gone by `as_of_date`, that day included: 0 to 1."""
    total_days = (period_end - period_start).days + 1
    elapsed_days = min(max((as_of_date - period_start).days + 1, 0), total_days)
    return Decimal(elapsed_days) / Decimal(total_days)


def expected_to_date(
    target: Decimal, period_start: date, period_end: date, as_of_date: date
) -> Decimal:
    return target * elapsed_share(period_start, period_end, as_of_date)


def evaluate_pace(
    actual: Decimal,
    target: Decimal,
    period_start: date,
    period_end: date,
    as_of_date: date,
    direction: Direction,
    threshold: Decimal,
    critical_threshold: Decimal,
    grace_share: Decimal,
) -> PaceFinding | None:
    """The deviation, or None when the goal is on pace, still inside its grace
    share of the period (early figures are too noisy to judge), or nothing is
    expected yet."""
    if elapsed_share(period_start, period_end, as_of_date) <= grace_share:
        return None
    expected = expected_to_date(target, period_start, period_end, as_of_date)
    if expected == 0:
        return None
    pace = actual / expected
    severity = _severity(pace, direction, threshold, critical_threshold)
    if severity is None:
        return None
    return PaceFinding(severity=severity, pace=_figure(pace), expected=_figure(expected))


def _severity(
    pace: Decimal, direction: Direction, threshold: Decimal, critical_threshold: Decimal
) -> Severity | None:
    # How far pace is on the bad side of 1: below it when more is better, above
    # it when less is better (e.g. sales cycle days).
    shortfall = ONE - pace if direction == "higher_is_better" else pace - ONE
    if shortfall > critical_threshold:
        return "critical"
    if shortfall > threshold:
        return "warning"
    return None


def pace_message(
    goal_id: str,
    direction: Direction,
    actual: Decimal,
    target: Decimal,
    as_of_date: date,
    finding: PaceFinding,
) -> str:
    """What the owner reads: which goal, how far off, what was expected by now."""
    off = abs(ONE - finding.pace) * 100
    side = "behind" if direction == "higher_is_better" else "over"
    return (
        f"Goal {goal_id} is {_shown(off, '0.1')}% {side} pace: {_shown(actual)} so far, "
        f"{_shown(finding.expected)} expected by {as_of_date.isoformat()} "
        f"(target {_shown(target)})."
    )


def _figure(value: Decimal) -> Decimal:
    return value.quantize(FIGURE, rounding=ROUND_HALF_UP)


def _shown(value: Decimal, unit: str = "0.01") -> str:
    rounded = value.quantize(Decimal(unit), rounding=ROUND_HALF_UP).normalize()
    return f"{rounded:,f}"
