"""A goal's progress at a day (DOMAIN.md §2 and §4): actual from the ledger's
numerator and denominator, expected to date (milestones, else the child
periods' targets, else linear in working days), attainment, pace and the
projections. Direction-aware: pace and attainment below 1 always mean behind."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from attain_contracts.progress import (
    FORMULAS,
    MONDAY_TO_FRIDAY,
    PLACES,
    ZERO,
    Calendar,
    GoalTerms,
    better,
    expected_to_date,
    formula,
    run_rate_projection,
)


def contributions() -> list[tuple[str, str, int, int]]:
    """(ledger metric, goal metric, to numerator, to denominator) for every pair that
    counts: the table the projector joins ledger rows to goals with."""
    pairs: dict[tuple[str, str], list[int]] = {}
    for goal_metric, f in FORMULAS.items():
        for ledger_metric in f.numerator:
            pairs.setdefault((ledger_metric, goal_metric), [0, 0])[0] = 1
        for ledger_metric in f.denominator:
            pairs.setdefault((ledger_metric, goal_metric), [0, 0])[1] = 1
    return [(lm, gm, num, den) for (lm, gm), (num, den) in sorted(pairs.items())]


@dataclass(frozen=True)
class Pipeline:
    """Open deals expected to close inside the period, and the scope's historical win rate."""

    open_value: Decimal
    win_rate: Decimal


@dataclass(frozen=True)
class Progress:
    actual: Decimal
    target: Decimal
    attainment: Decimal | None
    expected_to_date: Decimal
    pace: Decimal | None
    projection: Decimal
    numerator: Decimal
    denominator: Decimal | None
    pipeline_projection: Decimal | None = None
    # The open deals' value (count for a deal-count goal) before the win rate: the
    # numerator of pipeline coverage against what is left of the target.
    open_pipeline: Decimal | None = None


def progress_at(
    terms: GoalTerms,
    numerator: Decimal,
    denominator: Decimal,
    day: date,
    calendar: Calendar = MONDAY_TO_FRIDAY,
    pipeline: Pipeline | None = None,
) -> Progress:
    if formula(terms.metric).is_ratio:
        return _level_progress(terms, numerator, denominator)
    expected = expected_to_date(terms, day, calendar)
    projection = run_rate_projection(terms, numerator, day, calendar)
    return Progress(
        actual=numerator,
        target=terms.target,
        attainment=better(numerator, terms.target, terms.lower_is_better),
        expected_to_date=expected.quantize(PLACES),
        pace=better(numerator, expected, terms.lower_is_better),
        projection=projection.quantize(PLACES),
        numerator=numerator,
        denominator=None,
        pipeline_projection=(
            None
            if pipeline is None
            else (projection + pipeline.open_value * pipeline.win_rate).quantize(PLACES)
        ),
        open_pipeline=None if pipeline is None else pipeline.open_value,
    )


def _level_progress(terms: GoalTerms, numerator: Decimal, denominator: Decimal) -> Progress:
    """A ratio or average is a level, not an accumulation: it is expected at its
    target all period long, and projects as it stands."""
    actual = ZERO if denominator == 0 else (numerator / denominator).quantize(PLACES)
    attainment = None if denominator == 0 else better(actual, terms.target, terms.lower_is_better)
    return Progress(
        actual=actual,
        target=terms.target,
        attainment=attainment,
        expected_to_date=terms.target,
        pace=attainment,
        projection=actual,
        numerator=numerator,
        denominator=denominator,
    )
