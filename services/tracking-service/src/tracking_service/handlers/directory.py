"""goal-service's org, calendar and goal events, applied to our copies (service_layer.directory)."""

from attain_contracts import (
    CalendarUpdated,
    GoalArchived,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
)
from tracking_service.service_layer import directory
from tracking_service.service_layer.unit import Unit


async def on_org_units(uow: Unit, events: list[OrgUnitUpserted], *, base_currency: str) -> None:
    await directory.units_upserted(uow, events, base_currency=base_currency)


async def on_people(uow: Unit, events: list[PersonUpserted], *, base_currency: str) -> None:
    await directory.people_upserted(uow, events, base_currency=base_currency)


async def on_goals(uow: Unit, events: list[GoalUpserted]) -> None:
    await directory.goals_upserted(uow, events)


async def on_goals_archived(uow: Unit, events: list[GoalArchived]) -> None:
    await directory.goals_archived(uow, events)


async def on_calendar(uow: Unit, events: list[CalendarUpdated]) -> None:
    await directory.calendar_updated(uow, events)
