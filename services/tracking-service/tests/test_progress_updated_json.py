"""The projector builds `GoalProgressUpdated` JSON by hand; it must say exactly what the
model says."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attain_contracts import GoalProgressUpdated, Period
from attain_contracts.types import AVERAGE_METRICS, MONEY_METRICS, RATIO_METRICS, write_instant
from tracking_service.domain.progress import Progress
from tracking_service.service_layer.progress import progress_updated_json
from tracking_service.store.tables import Goal

pytestmark = pytest.mark.unit

METRICS = sorted({*MONEY_METRICS, *RATIO_METRICS, *AVERAGE_METRICS, "deals_won", "activities"})
figures = st.decimals(min_value=-(10**9), max_value=10**9, places=8, allow_nan=False)


def as_model(goal: Goal, progress: Progress, as_of: datetime) -> GoalProgressUpdated:
    """The event as the model builds it: the oracle."""
    return GoalProgressUpdated(
        goal_id=goal.id,
        owner_id=goal.owner_id,
        metric=goal.metric,
        direction=goal.direction,  # type: ignore[arg-type]
        period=Period(key=goal.period_key, start=goal.period_start, end=goal.period_end),
        as_of=as_of,
        actual=progress.actual,
        target=progress.target,
        attainment=progress.attainment,
        expected_to_date=progress.expected_to_date,
        pace=progress.pace,
        projection=progress.projection,
        sequence=goal.progress_sequence,
        parent_id=goal.parent_id,
        org_unit_id=goal.org_unit_id,
        person_id=goal.person_id,
        status=goal.status,  # type: ignore[arg-type]
        timezone=goal.timezone,
        numerator=progress.numerator if progress.denominator is not None else None,
        denominator=progress.denominator,
    )


@given(
    metric=st.sampled_from(METRICS),
    direction=st.sampled_from(["higher_is_better", "lower_is_better"]),
    values=st.tuples(figures, figures, figures, figures),
    ratios=st.tuples(st.none() | figures, st.none() | figures),
    denominator=st.none() | st.integers(min_value=0, max_value=10**6).map(Decimal),
    parent=st.none() | st.just("goal-parent"),
    person=st.none() | st.just("ann"),
    period_key=st.none() | st.just("2026-Q2"),
    offset_minutes=st.integers(min_value=-12 * 60, max_value=14 * 60),
    microsecond=st.integers(min_value=0, max_value=999_999),
    sequence=st.integers(min_value=1, max_value=10**6),
)
def test_the_hand_built_event_equals_the_models(
    metric: str,
    direction: str,
    values: tuple[Decimal, Decimal, Decimal, Decimal],
    ratios: tuple[Decimal | None, Decimal | None],
    denominator: Decimal | None,
    parent: str | None,
    person: str | None,
    period_key: str | None,
    offset_minutes: int,
    microsecond: int,
    sequence: int,
) -> None:
    goal = Goal(
        id="goal-1",
        parent_id=parent,
        metric=metric,
        direction=direction,
        org_unit_id="east-1",
        person_id=person,
        owner_id="ann",
        period_key=period_key,
        period_start=date(2026, 4, 1),
        period_end=date(2026, 6, 30),
        target=values[1],
        status="active",
        timezone="Asia/Shanghai",
        version=3,
        progress_sequence=sequence,
    )
    actual, target, expected, projection = values
    progress = Progress(
        actual=actual,
        target=target,
        attainment=ratios[0],
        expected_to_date=expected,
        pace=ratios[1],
        projection=projection,
        numerator=actual,
        denominator=denominator,
    )
    zone = timezone(timedelta(minutes=offset_minutes))
    as_of = datetime(2026, 5, 10, 9, 30, 0, microsecond, tzinfo=zone)
    assert progress_updated_json(goal, progress, write_instant(as_of)) == as_model(
        goal, progress, as_of
    ).model_dump(mode="json")


def test_utc_is_written_as_the_model_writes_it() -> None:
    goal = Goal(
        id="g", metric="revenue", direction="higher_is_better", org_unit_id="u", owner_id="o",
        period_start=date(2026, 1, 1), period_end=date(2026, 1, 31), target=Decimal(1),
        status="active", timezone="UTC", version=1,
    )  # fmt: skip
    figures = Progress(Decimal(1), Decimal(1), None, Decimal(0), None, Decimal(1), Decimal(1), None)
    as_of = datetime(2026, 1, 2, tzinfo=UTC)
    built = progress_updated_json(goal, figures, write_instant(as_of))
    assert built["as_of"] == "2026-01-02T00:00:00Z"
    assert built == as_model(goal, figures, as_of).model_dump(mode="json")
