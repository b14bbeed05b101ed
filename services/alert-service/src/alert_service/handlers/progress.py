"""Goal progress from tracking-service: keep the newest snapshot of each goal
and evaluate its rules at the instant the progress is as of."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from alert_service.evaluation import apply_pace_rule
from alert_service.settings import AlertSettings
from alert_service.store import queries
from attain_contracts import GoalProgressUpdated
from servicekit.uow import UnitOfWork


async def on_goal_progress(
    uow: UnitOfWork, events: list[GoalProgressUpdated], *, settings: AlertSettings
) -> None:
    now = uow.clock.now()
    written = await queries.keep_newer_snapshots(
        uow.session, [snapshot_row(event, now) for event in newest_per_goal(events)]
    )
    await apply_pace_rule(uow, settings, [(snapshot, snapshot.as_of) for snapshot in written])


def newest_per_goal(events: Iterable[GoalProgressUpdated]) -> list[GoalProgressUpdated]:
    """The update with the highest sequence of each goal: a batch is folded into
    one write per goal, and an older update that arrives late changes nothing."""
    newest: dict[str, GoalProgressUpdated] = {}
    for event in events:
        kept = newest.get(event.goal_id)
        if kept is None or event.sequence > kept.sequence:
            newest[event.goal_id] = event
    return list(newest.values())


def snapshot_row(event: GoalProgressUpdated, updated_at: datetime) -> dict[str, Any]:
    return {
        "goal_id": event.goal_id,
        "owner_id": event.owner_id,
        "metric": event.metric,
        "direction": event.direction,
        "period_start": event.period.start,
        "period_end": event.period.end,
        "target": event.target,
        "actual": event.actual,
        "sequence": event.sequence,
        "as_of": event.as_of,
        "updated_at": updated_at,
    }
