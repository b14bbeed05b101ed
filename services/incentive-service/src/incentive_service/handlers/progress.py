"""The latest actual of each process goal, for the scorecard's process part."""

from attain_contracts import GoalProgressUpdated
from incentive_service.domain.standings import PROCESS_METRICS
from incentive_service.store.tables import GoalProgress
from servicekit.db import upsert_newer
from servicekit.uow import UnitOfWork


async def on_progress(uow: UnitOfWork, events: list[GoalProgressUpdated]) -> None:
    latest: dict[str, GoalProgressUpdated] = {}
    for event in events:
        if event.metric in PROCESS_METRICS:
            held = latest.get(event.goal_id)
            if held is None or event.sequence > held.sequence:
                latest[event.goal_id] = event
    await upsert_newer(
        uow.session,
        GoalProgress,
        "goal_id",
        [
            {"goal_id": e.goal_id, "actual": e.actual, "sequence": e.sequence}
            for e in latest.values()
        ],
        "sequence",
    )
