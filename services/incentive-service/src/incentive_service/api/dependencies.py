"""The typed dependencies of incentive-service's routes."""

from typing import Annotated

from fastapi import Depends

from attain_contracts.calendar import FiscalCalendar
from incentive_service import service_layer
from incentive_service.service_layer.directory import organisation_calendar
from servicekit.app import get_runtime, unit_of_work

Uow = Annotated[service_layer.Uow, Depends(unit_of_work)]
Runtime = Annotated[service_layer.Runtime, Depends(get_runtime)]


async def fiscal_calendar(uow: Uow, runtime: Runtime) -> FiscalCalendar:
    """The organisation's calendar as last heard, else our settings' fiscal year start."""
    return await organisation_calendar(uow, runtime.settings.calendar())


Calendar = Annotated[FiscalCalendar, Depends(fiscal_calendar)]
