"""goal-service's org units, people, calendar and goals in (see `service_layer.directory`)."""

from alert_service.service_layer import AlertUnit, directory
from alert_service.settings import AlertSettings
from attain_contracts import (
    CalendarUpdated,
    GoalArchived,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
)


async def on_org_units(uow: AlertUnit, events: list[OrgUnitUpserted]) -> None:
    await directory.keep_org_units(uow, events)


async def on_people(uow: AlertUnit, events: list[PersonUpserted]) -> None:
    await directory.keep_people(uow, events)


async def on_goals(uow: AlertUnit, events: list[GoalUpserted], *, settings: AlertSettings) -> None:
    await directory.keep_goals(uow, settings, events)


async def on_goals_archived(
    uow: AlertUnit, events: list[GoalArchived], *, settings: AlertSettings
) -> None:
    await directory.archive_goals(uow, settings, events)


async def on_calendar(uow: AlertUnit, events: list[CalendarUpdated]) -> None:
    await directory.keep_calendar(uow, events)
