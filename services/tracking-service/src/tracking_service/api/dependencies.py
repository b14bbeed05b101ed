"""The typed dependencies every route takes: the request's unit of work on the
tracking store, and the service's runtime."""

from typing import Annotated

from fastapi import Depends

from servicekit.app import get_runtime, unit_of_work
from tracking_service.service_layer import unit

Uow = Annotated[unit.Unit, Depends(unit_of_work)]
Runtime = Annotated[unit.Runtime, Depends(get_runtime)]
