"""The typed dependencies of incentive-service's routes."""

from typing import Annotated

from fastapi import Depends

from attain_contracts.calendar import FiscalCalendar
from incentive_service import service_layer
from servicekit.app import get_runtime, unit_of_work

Uow = Annotated[service_layer.Uow, Depends(unit_of_work)]
Runtime = Annotated[service_layer.Runtime, Depends(get_runtime)]


def fiscal_calendar(runtime: Runtime) -> FiscalCalendar:
    return runtime.settings.calendar()


Calendar = Annotated[FiscalCalendar, Depends(fiscal_calendar)]
