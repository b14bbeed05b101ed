"""Our copies of the org tree, people and goals, kept from goal-service's events
(newest version only). Evaluation reads them: a goal's terms and milestones,
who manages whom for escalation and visibility, and where to e-mail an owner."""

from alert_service.service_layer import AlertUnit
from alert_service.service_layer.evaluation import evaluate_goals
from alert_service.settings import AlertSettings
from attain_contracts import (
    CalendarUpdated,
    GoalArchived,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
)
from servicekit.db import newest_versions


async def keep_org_units(uow: AlertUnit, events: list[OrgUnitUpserted]) -> None:
    await uow.store.org.apply_units(events)


async def keep_people(uow: AlertUnit, events: list[PersonUpserted]) -> None:
    await uow.store.org.apply_people(events)


async def keep_calendar(uow: AlertUnit, events: list[CalendarUpdated]) -> None:
    """The organisation's calendar, newest version only: every evaluation from now on
    (progress, sweep, replay) counts its working days."""
    await uow.store.calendar.apply(events)


async def keep_goals(uow: AlertUnit, settings: AlertSettings, events: list[GoalUpserted]) -> None:
    """A goal whose terms changed (target, owner, milestones) is judged again at
    the instant it changed."""
    await uow.store.goals.upsert(
        newest_versions(
            (
                {
                    "goal_id": e.goal_id,
                    "parent_id": e.parent_id,
                    "metric": e.metric,
                    "direction": e.direction,
                    "org_unit_id": e.org_unit_id,
                    "person_id": e.person_id,
                    "product_line": e.product_line,
                    "owner_id": e.owner_id,
                    "period_start": e.period.start,
                    "period_end": e.period.end,
                    "timezone": e.timezone,
                    "target": e.target,
                    "status": e.status,
                    "milestones": [m.model_dump(mode="json") for m in e.milestones],
                    "version": e.version,
                }
                for e in events
            ),
            key="goal_id",
        )
    )
    await evaluate_goals(uow, settings, {e.goal_id: e.updated_at for e in events})


async def archive_goals(
    uow: AlertUnit, settings: AlertSettings, events: list[GoalArchived]
) -> None:
    """A closed or cancelled goal's open alerts resolve at once."""
    await uow.store.goals.archive(events)
    # At the instant of each goal's newest archive: the last of its events by version.
    archived_at = {e.goal_id: e.archived_at for e in sorted(events, key=lambda e: e.version)}
    await evaluate_goals(uow, settings, archived_at)
