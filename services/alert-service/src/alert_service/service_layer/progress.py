"""Goal progress from tracking-service: keep the newest figures of each goal,
note who recorded something, and evaluate the goal's rules (and its parent's
`consecutive_low`, which reads the closed child periods) at the instant the
progress is as of."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from alert_service.service_layer import AlertUnit
from alert_service.service_layer.evaluation import evaluate_goals
from alert_service.settings import AlertSettings
from attain_contracts import GoalProgressUpdated
from servicekit.clock import local_day
from servicekit.newest import newest_by


async def record_progress(
    uow: AlertUnit, settings: AlertSettings, events: list[GoalProgressUpdated]
) -> None:
    newest = newest_per_goal(events)
    stored = await uow.store.progress.of([e.goal_id for e in newest])
    await uow.store.progress.upsert(
        [
            {
                "goal_id": e.goal_id,
                "numerator": e.numerator if e.numerator is not None else e.actual,
                "denominator": e.denominator,
                "sequence": e.sequence,
                "as_of": e.as_of,
            }
            for e in newest
        ]
    )
    await uow.store.org.mark_recorded(recorded_by_person(newest, stored))
    targets: dict[str, datetime] = {}
    for event in newest:
        targets[event.goal_id] = event.as_of
        if event.parent_id is not None:
            targets.setdefault(event.parent_id, event.as_of)
    await evaluate_goals(uow, settings, targets)


def newest_per_goal(events: Iterable[GoalProgressUpdated]) -> list[GoalProgressUpdated]:
    """The update with the highest sequence of each goal: a batch is folded into
    one write per goal, and an older update that arrives late changes nothing."""
    return list(newest_by(events, lambda e: e.goal_id, lambda e: e.sequence).values())


def recorded_by_person(
    events: Iterable[GoalProgressUpdated], stored: Mapping[str, Any]
) -> dict[str, date]:
    """The day each person last had something credited to one of their goals: a
    person goal whose figures moved. What `silence` watches."""
    recorded: dict[str, date] = {}
    for event in events:
        if event.person_id is None:
            continue
        before = stored.get(event.goal_id)
        numerator = event.numerator if event.numerator is not None else event.actual
        moved = (
            numerator != 0
            if before is None
            else (numerator, event.denominator) != (before.numerator, before.denominator)
        )
        if moved:
            day = local_day(event.as_of, event.timezone or "UTC")
            recorded[event.person_id] = max(day, recorded.get(event.person_id, day))
    return recorded
