"""The latest actual of each process goal, for the scorecard's process part."""

from attain_contracts import GoalProgressUpdated
from incentive_service.domain.standings import PROCESS_METRICS
from incentive_service.service_layer import Uow


async def record_progress(uow: Uow, events: list[GoalProgressUpdated]) -> None:
    latest: dict[str, GoalProgressUpdated] = {}
    for event in events:
        if event.metric in PROCESS_METRICS:
            held = latest.get(event.goal_id)
            if held is None or event.sequence > held.sequence:
                latest[event.goal_id] = event
    await uow.store.goals.record_progress(
        [
            {"goal_id": e.goal_id, "actual": e.actual, "sequence": e.sequence}
            for e in latest.values()
        ]
    )
