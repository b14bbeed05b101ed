"""Our copy of the org tree, people and goals, kept from goal-service's events.
Each copy keeps the newest version only, so redeliveries and reordering are harmless."""

from typing import Any

from attain_contracts import GoalArchived, GoalUpserted, OrgUnitUpserted, PersonUpserted
from servicekit.uow import UnitOfWork
from tracking_service.progress import publish_progress
from tracking_service.store import queries
from tracking_service.store.tables import Goal, Membership, OrgUnit


async def on_org_units(uow: UnitOfWork, events: list[OrgUnitUpserted]) -> None:
    for event in events:
        unit = await uow.session.get(OrgUnit, event.org_unit_id)
        if unit is None:
            uow.session.add(OrgUnit(id=event.org_unit_id, path=event.path, version=event.version))
        elif event.version > unit.version:
            unit.path, unit.version = event.path, event.version


async def on_people(uow: UnitOfWork, events: list[PersonUpserted]) -> None:
    for event in events:
        await queries.replace_memberships(
            uow.session,
            event.person_id,
            event.version,
            [
                Membership(
                    person_id=event.person_id,
                    org_unit_id=m.org_unit_id,
                    valid_from=m.valid_from,
                    valid_to=m.valid_to,
                    person_version=event.version,
                )
                for m in event.memberships
            ],
        )
        await uow.session.flush()


async def on_goals(uow: UnitOfWork, events: list[GoalUpserted]) -> None:
    """A new or changed goal gets its progress at once: a goal created mid-period
    starts with everything already in the ledger."""
    changed: dict[str, Goal] = {}
    for event in events:
        goal = await queries.goal(uow.session, event.goal_id)
        if goal is not None and event.version <= goal.version:
            continue
        fields: dict[str, Any] = {
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
            "version": event.version,
        }
        if goal is None:
            goal = Goal(id=event.goal_id, **fields)
            uow.session.add(goal)
        else:
            for name, value in fields.items():
                setattr(goal, name, value)
        changed[goal.id] = goal
    await uow.session.flush()
    await publish_progress(uow, [g for g in changed.values() if g.status == "active"])


async def on_goals_archived(uow: UnitOfWork, events: list[GoalArchived]) -> None:
    for event in events:
        goal = await queries.goal(uow.session, event.goal_id)
        if goal is not None and event.version >= goal.version:
            goal.status, goal.version = event.status, event.version
