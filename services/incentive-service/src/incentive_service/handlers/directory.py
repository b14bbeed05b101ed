"""The org tree, people, calendar and goals goal-service publishes, copied."""

from attain_contracts import (
    CalendarUpdated,
    GoalArchived,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
)
from incentive_service.service_layer import Uow, directory
from incentive_service.settings import IncentiveSettings


async def on_org_units(
    uow: Uow, events: list[OrgUnitUpserted], *, settings: IncentiveSettings
) -> None:
    await directory.apply_org_units(uow, settings.calendar(), events)


async def on_people(uow: Uow, events: list[PersonUpserted], *, settings: IncentiveSettings) -> None:
    await directory.apply_people(
        uow, await directory.organisation_calendar(uow, settings.calendar()), events
    )


async def on_goals(uow: Uow, events: list[GoalUpserted], *, settings: IncentiveSettings) -> None:
    await directory.apply_goals(
        uow, await directory.organisation_calendar(uow, settings.calendar()), events
    )


async def on_goals_archived(
    uow: Uow, events: list[GoalArchived], *, settings: IncentiveSettings
) -> None:
    await directory.apply_goals_archived(
        uow, await directory.organisation_calendar(uow, settings.calendar()), events
    )


async def on_calendar(uow: Uow, events: list[CalendarUpdated]) -> None:
    await directory.apply_calendar(uow, events)
