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
from servicekit.newest import newest_by
from tracking_service.service_layer.ingest import reassign, repath
from tracking_service.service_layer.progress import publish_progress
from tracking_service.service_layer.unit import Unit
from tracking_service.store.org import ANY_SOURCE
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
    newest: dict[str, PersonUpserted] = {}
    for event in events:
        if event.person_id in applied.changed:
            held = newest.get(event.person_id)
            if held is None or event.version > held.version:
                newest[event.person_id] = event
    aliases = [
        alias
        for event in newest.values()
        for alias in [
            *((source, owner, event.person_id) for source, owner in event.crm_ids.items()),
            *([(ANY_SOURCE, event.email.lower(), event.person_id)] if event.email else []),
        ]
    ]
    await uow.store.org.rename_people(list(applied.changed), aliases)
    await repath(uow, list(applied.changed), base_currency)
    # Credits made to a CRM owner id before it was known to be this person's.
    await reassign(uow, aliases, base_currency)


async def goals_upserted(uow: Unit, events: Sequence[GoalUpserted]) -> None:
    """A new or changed goal gets its progress at once: a goal created mid-period
    starts with everything already in the ledger. A batch is a few statements, however
    many goals it carries (a plan applies thousands at once)."""
    await uow.store.projection.lock()
    newest = {
        e.goal_id: e
        for e in newest_by(events, key=lambda e: e.goal_id, rank=lambda e: e.version).values()
    }
    held = {goal.id: goal for goal in await uow.store.goals.many(sorted(newest))}
    changed: list[Goal] = []
    rescoped: list[Goal] = []
    for goal_id, event in newest.items():
        goal = held.get(goal_id)
        if goal is not None and event.version <= goal.version:
            continue
        fields = _goal_fields(event)
        if goal is None:
            goal = Goal(id=goal_id, **fields)
            uow.store.goals.add(goal)
            rescoped.append(goal)
        else:
            if any(getattr(goal, f) != fields[f] for f in SCOPE_FIELDS):
                rescoped.append(goal)
            for name, value in fields.items():
                setattr(goal, name, value)
        changed.append(goal)
    await uow.store.goals.flush()
    figures = await uow.store.figures.of_many(rescoped, projected_only=True)
    for goal in rescoped:
        goal.numerator, goal.denominator = figures[goal.id]
    await uow.store.goals.flush()
    await publish_progress(uow, changed)


def _goal_fields(event: GoalUpserted) -> dict[str, Any]:
    return {
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


async def goals_archived(uow: Unit, events: Sequence[GoalArchived]) -> None:
    await uow.store.goals.archive(events)


async def calendar_updated(uow: Unit, events: Sequence[CalendarUpdated]) -> None:
    """The organisation's calendar, newest version only: progress counts working days
    on it, so a change publishes every active goal's progress again."""
    await uow.store.projection.lock()
    if await uow.store.calendar.apply(events):
        await publish_progress(uow, await uow.store.goals.active())
