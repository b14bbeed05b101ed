"""The typed dependencies of alert-service's routes: the unit of work, the runtime,
and a client for tracking-service that is closed after the request."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from alert_service.clients.tracking import TrackingClient
from alert_service.service_layer import AlertRuntime, AlertUnit
from servicekit.app import get_runtime, unit_of_work

Uow = Annotated[AlertUnit, Depends(unit_of_work)]
Runtime = Annotated[AlertRuntime, Depends(get_runtime)]


async def _tracking(request: Request, runtime: Runtime) -> AsyncIterator[TrackingClient]:
    client = TrackingClient.from_settings(
        runtime.settings, transport=getattr(request.app.state, "tracking_transport", None)
    )
    try:
        yield client
    finally:
        await client.close()


Tracking = Annotated[TrackingClient, Depends(_tracking)]
