"""The latest actual of each process goal, for the scorecard's process part."""

from attain_contracts import GoalProgressUpdated
from incentive_service.domain.standings import PROCESS_METRICS
from incentive_service.service_layer import Uow
from servicekit.newest import newest_by


async def record_progress(uow: Uow, events: list[GoalProgressUpdated]) -> None:
    latest = newest_by(
        (e for e in events if e.metric in PROCESS_METRICS),
        lambda e: e.goal_id,
        lambda e: e.sequence,
    )
    await uow.store.goals.record_progress(
        [
            {"goal_id": e.goal_id, "actual": e.actual, "sequence": e.sequence}
            for e in latest.values()
        ]
    )
