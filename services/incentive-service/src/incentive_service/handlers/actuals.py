"""ActualRecorded: the ledger's credits, kept and priced."""

from attain_contracts import ActualRecorded
from incentive_service.service_layer import Uow
from incentive_service.service_layer.credits import record_credits
from incentive_service.service_layer.directory import organisation_calendar
from incentive_service.settings import IncentiveSettings


async def on_actuals(
    uow: Uow, events: list[ActualRecorded], *, settings: IncentiveSettings
) -> None:
    await record_credits(uow, await organisation_calendar(uow, settings.calendar()), events)
