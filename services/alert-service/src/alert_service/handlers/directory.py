"""Our copies of the org tree, people and goals, kept from goal-service's events
(newest version only). Evaluation reads them: a goal's terms and milestones,
who manages whom for escalation and visibility, and where to e-mail an owner."""

from alert_service.evaluation import evaluate_goals
from alert_service.settings import AlertSettings
from alert_service.store.tables import Goal, OrgUnit, Person
from attain_contracts import GoalArchived, GoalUpserted, OrgUnitUpserted, PersonUpserted
from servicekit.db import newest_versions, upsert_newer
from servicekit.uow import UnitOfWork


async def on_org_units(uow: UnitOfWork, events: list[OrgUnitUpserted]) -> None:
    await upsert_newer(
        uow.session,
        OrgUnit,
        "id",
        newest_versions(
            {
                "id": e.org_unit_id,
                "name": e.name,
                "parent_id": e.parent_id,
                "manager_id": e.manager_id,
                "path": e.path,
                "version": e.version,
            }
            for e in events
        ),
        "version",
    )


async def on_people(uow: UnitOfWork, events: list[PersonUpserted]) -> None:
    await upsert_newer(
        uow.session,
        Person,
        "id",
        newest_versions(
            {"id": e.person_id, "name": e.name, "email": e.email, "version": e.version}
            for e in events
        ),
        "version",
    )


async def on_goals(uow: UnitOfWork, events: list[GoalUpserted], *, settings: AlertSettings) -> None:
    """A goal whose terms changed (target, owner, milestones) is judged again at
    the instant it changed."""
    await upsert_newer(
        uow.session,
        Goal,
        "goal_id",
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
        ),
        "version",
    )
    await evaluate_goals(uow, settings, {e.goal_id: e.updated_at for e in events})


async def on_goals_archived(
    uow: UnitOfWork, events: list[GoalArchived], *, settings: AlertSettings
) -> None:
    """A closed or cancelled goal's open alerts resolve at once."""
    newest: dict[str, GoalArchived] = {}
    for event in events:
        if event.goal_id not in newest or event.version > newest[event.goal_id].version:
            newest[event.goal_id] = event
    for event in newest.values():
        goal = await uow.session.get(Goal, event.goal_id)
        if goal is not None and event.version > goal.version:
            goal.status, goal.version = event.status, event.version
    await uow.session.flush()
    await evaluate_goals(uow, settings, {e.goal_id: e.archived_at for e in newest.values()})
