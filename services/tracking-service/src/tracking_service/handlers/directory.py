"""Our copy of the org tree, people and goals, kept from goal-service's events.
Each copy keeps the newest version only, so redeliveries and reordering are
harmless. A person or unit heard of late re-paths the credits already made."""

from typing import Any

from attain_contracts import GoalArchived, GoalUpserted, OrgUnitUpserted, PersonUpserted
from servicekit.uow import UnitOfWork
from tracking_service.ingest import repath
from tracking_service.progress import publish_progress
from tracking_service.store import ledger, projection, queries
from tracking_service.store.tables import Goal, Membership, OrgUnit

# What, when it changes, makes a goal count different ledger rows.
SCOPE_FIELDS = ("metric", "org_unit_id", "person_id", "product_line", "period_start", "period_end")


async def on_org_units(
    uow: UnitOfWork, events: list[OrgUnitUpserted], *, base_currency: str
) -> None:
    await ledger.lock_directory(uow.session, exclusive=True)
    first_heard: list[str] = []
    for event in events:
        unit = await uow.session.get(OrgUnit, event.org_unit_id)
        if unit is None:
            uow.session.add(
                OrgUnit(
                    id=event.org_unit_id,
                    path=event.path,
                    manager_id=event.manager_id,
                    version=event.version,
                )
            )
            first_heard.append(event.org_unit_id)
        elif event.version > unit.version:
            unit.path, unit.manager_id, unit.version = event.path, event.manager_id, event.version
    await uow.session.flush()
    # Credits made while the unit was unknown stood on a path of the unit alone.
    # Later moves of a unit do not re-path: credit follows the path of its date.
    people = {p for unit_id in first_heard for p in await queries.members_of(uow.session, unit_id)}
    await repath(uow, sorted(people), base_currency)


async def on_people(uow: UnitOfWork, events: list[PersonUpserted], *, base_currency: str) -> None:
    await ledger.lock_directory(uow.session, exclusive=True)
    changed = []
    for event in events:
        if await queries.replace_memberships(
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
        ):
            changed.append(event.person_id)
        await uow.session.flush()
    await repath(uow, changed, base_currency)


async def on_goals(uow: UnitOfWork, events: list[GoalUpserted]) -> None:
    """A new or changed goal gets its progress at once: a goal created mid-period
    starts with everything already in the ledger."""
    await projection.lock(uow.session)
    changed: dict[str, Goal] = {}
    for event in events:
        goal = await queries.goal(uow.session, event.goal_id)
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
            uow.session.add(goal)
        else:
            for name, value in fields.items():
                setattr(goal, name, value)
        if rescope:
            await uow.session.flush()
            goal.numerator, goal.denominator = await queries.ledger_figures(
                uow.session, goal, projected_only=True
            )
        changed[goal.id] = goal
    await uow.session.flush()
    await publish_progress(uow, list(changed.values()))


async def on_goals_archived(uow: UnitOfWork, events: list[GoalArchived]) -> None:
    for event in events:
        goal = await queries.goal(uow.session, event.goal_id)
        if goal is not None and event.version >= goal.version:
            goal.status, goal.version = event.status, event.version
