"""What goal-service's routes are given, typed once: the unit of work on the
service's store, the runtime with its settings, and a client for tracking-service
that is closed after the request."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from goal_service.clients.tracking import TrackingClient
from goal_service.service_layer import GoalStore, Unit
from goal_service.settings import GoalSettings
from servicekit.app import ServiceRuntime, get_runtime, unit_of_work

Uow = Annotated[Unit, Depends(unit_of_work)]
Runtime = Annotated[ServiceRuntime[GoalSettings, GoalStore], Depends(get_runtime)]


def _settings(runtime: Runtime) -> GoalSettings:
    return runtime.settings


Settings = Annotated[GoalSettings, Depends(_settings)]


async def _tracking(request: Request, settings: Settings) -> AsyncIterator[TrackingClient]:
    client = TrackingClient.from_settings(
        settings, transport=getattr(request.app.state, "tracking_transport", None)
    )
    try:
        yield client
    finally:
        await client.close()


Tracking = Annotated[TrackingClient, Depends(_tracking)]
