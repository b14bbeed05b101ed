"""The typed dependencies of alert-service's routes."""

from typing import Annotated

from fastapi import Depends

from alert_service.service_layer import AlertRuntime, AlertUnit
from servicekit.app import get_runtime, unit_of_work

Uow = Annotated[AlertUnit, Depends(unit_of_work)]
Runtime = Annotated[AlertRuntime, Depends(get_runtime)]
