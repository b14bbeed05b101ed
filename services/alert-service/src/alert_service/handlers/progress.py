"""Goal progress from tracking-service (see `service_layer.progress`)."""

from alert_service.service_layer import AlertUnit
from alert_service.service_layer.progress import record_progress
from alert_service.settings import AlertSettings
from attain_contracts import GoalProgressUpdated


async def on_goal_progress(
    uow: AlertUnit, events: list[GoalProgressUpdated], *, settings: AlertSettings
) -> None:
    await record_progress(uow, settings, events)
