"""GoalProgressUpdated: the latest actual of each process goal."""

from attain_contracts import GoalProgressUpdated
from incentive_service.service_layer import Uow
from incentive_service.service_layer.progress import record_progress


async def on_progress(uow: Uow, events: list[GoalProgressUpdated]) -> None:
    await record_progress(uow, events)
