from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alert_service.service_layer.progress import newest_per_goal
from attain_contracts import GoalProgressUpdated, Period

pytestmark = pytest.mark.unit


def progress(goal_id: str, sequence: int) -> GoalProgressUpdated:
    return GoalProgressUpdated(
        goal_id=goal_id,
        owner_id="p-1",
        metric="revenue",
        direction="higher_is_better",
        period=Period(start=date(2026, 3, 1), end=date(2026, 3, 31)),
        as_of=datetime(2026, 3, 10, tzinfo=UTC),
        actual=Decimal(sequence),
        target=Decimal(100),
        attainment=None,
        expected_to_date=Decimal(0),
        pace=None,
        projection=Decimal(0),
        sequence=sequence,
    )


def test_a_batch_folds_to_the_newest_update_of_each_goal() -> None:
    batch = [
        progress("a", 1),
        progress("b", 7),
        progress("a", 3),
        progress("a", 2),
        progress("b", 5),
    ]
    newest = {event.goal_id: event.sequence for event in newest_per_goal(batch)}
    assert newest == {"a": 3, "b": 7}
