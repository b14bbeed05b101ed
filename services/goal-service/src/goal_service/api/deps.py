"""What goal-service's routes are given besides the unit of work: its own
settings, and a client for tracking-service that is closed after the request."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from goal_service.settings import GoalSettings
from goal_service.tracking import TrackingClient
from servicekit.app import RuntimeDep


def _settings(runtime: RuntimeDep) -> GoalSettings:
    assert isinstance(runtime.settings, GoalSettings)
    return runtime.settings


SettingsDep = Annotated[GoalSettings, Depends(_settings)]


async def _tracking(request: Request, settings: SettingsDep) -> AsyncIterator[TrackingClient]:
    client = TrackingClient.from_settings(
        settings, transport=getattr(request.app.state, "tracking_transport", None)
    )
    try:
        yield client
    finally:
        await client.close()


TrackingDep = Annotated[TrackingClient, Depends(_tracking)]
