"""Our copy of the org tree, people and goals, kept from goal-service's events
(servicekit's org copy: newest version only, so redeliveries and reordering are
harmless). A person or unit heard of late re-paths the credits already made; a
new or rescoped goal is counted from the ledger at once."""

from collections.abc import Sequence
from typing import Any

from attain_contracts import (
    CalendarUpdated,
    GoalArchived,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
)
from tracking_service.service_layer.ingest import repath
from tracking_service.service_layer.progress import publish_progress
from tracking_service.service_layer.unit import Unit
from tracking_service.store.tables import Goal

# What, when it changes, makes a goal count different ledger rows.
SCOPE_FIELDS = ("metric", "org_unit_id", "person_id", "product_line", "period_start", "period_end")


async def units_upserted(
    uow: Unit, events: Sequence[OrgUnitUpserted], *, base_currency: str
) -> None:
    await uow.store.org.lock(exclusive=True)
    applied = await uow.store.org.apply_units(events)
    # Credits made while the unit was unknown stood on a path of the unit alone.
    # Later moves of a unit do not re-path: credit follows the path of its date.
    members = await uow.store.org.members_of(applied.first_heard)
    people = {person for unit_people in members.values() for person in unit_people}
    await repath(uow, sorted(people), base_currency)


async def people_upserted(
    uow: Unit, events: Sequence[PersonUpserted], *, base_currency: str
) -> None:
    await uow.store.org.lock(exclusive=True)
    applied = await uow.store.org.apply_people(events)
    await repath(uow, list(applied.changed), base_currency)


async def goals_upserted(uow: Unit, events: Sequence[GoalUpserted]) -> None:
    """A new or changed goal gets its progress at once: a goal created mid-period
    starts with everything already in the ledger."""
    await uow.store.projection.lock()
    changed: dict[str, Goal] = {}
    for event in events:
        goal = await uow.store.goals.get(event.goal_id)
        if goal is not None and event.version <= goal.version:
            continue
        fields: dict[str, Any] = {
            "parent_id": event.parent_id,
            "metric": event.metric,
            "direction": event.direction,
            "org_unit_id": event.org_unit_id,
            "person_id": event.person_id,
            "product_line": event.product_line,
            "owner_id": event.owner_id,
            "period_key": event.period.key,
            "period_start": event.period.start,
            "period_end": event.period.end,
            "target": event.target,
            "currency": event.currency,
            "status": event.status,
            "timezone": event.timezone,
            "milestones": [m.model_dump(mode="json") for m in event.milestones],
            "version": event.version,
        }
        rescope = goal is None or any(getattr(goal, f) != fields[f] for f in SCOPE_FIELDS)
        if goal is None:
            goal = Goal(id=event.goal_id, **fields)
            uow.store.goals.add(goal)
        else:
            for name, value in fields.items():
                setattr(goal, name, value)
        if rescope:
            await uow.store.goals.flush()
            goal.numerator, goal.denominator = await uow.store.figures.of(goal, projected_only=True)
        changed[goal.id] = goal
    await uow.store.goals.flush()
    await publish_progress(uow, list(changed.values()))


async def goals_archived(uow: Unit, events: Sequence[GoalArchived]) -> None:
    await uow.store.goals.archive(events)


async def calendar_updated(uow: Unit, events: Sequence[CalendarUpdated]) -> None:
    """The organisation's calendar, newest version only: progress counts working days
    on it, so a change publishes every active goal's progress again."""
    await uow.store.projection.lock()
    if await uow.store.calendar.apply(events):
        await publish_progress(uow, await uow.store.goals.active())
