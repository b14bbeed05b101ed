"""A goal's progress at an instant (DOMAIN.md §4): attainment, expected to date,
pace and the run-rate projection. Expected to date is linear in calendar days
here; milestones, seasonality and working days refine it later."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Progress:
    actual: Decimal
    target: Decimal
    attainment: Decimal | None
    expected_to_date: Decimal
    pace: Decimal | None
    projection: Decimal


def elapsed_days(start: date, end: date, as_of: date) -> int:
    """Days of the period done by the end of `as_of` (both ends inclusive)."""
    total = (end - start).days + 1
    return max(0, min(total, (as_of - start).days + 1))


def progress_at(actual: Decimal, target: Decimal, start: date, end: date, as_of: date) -> Progress:
    total = (end - start).days + 1
    done = elapsed_days(start, end, as_of)
    expected = target * done / total
    projection = actual if done == 0 else actual + actual / done * (total - done)
    return Progress(
        actual=actual,
        target=target,
        attainment=_ratio(actual, target),
        expected_to_date=expected.quantize(PLACES),
        pace=_ratio(actual, expected),
        projection=projection.quantize(PLACES),
    )


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator == 0 else (numerator / denominator).quantize(PLACES)
