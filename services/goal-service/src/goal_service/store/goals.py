"""Writing goals: every change is a new version (who, when, why, old and new
target), and every version is published as `GoalUpserted` in the same
transaction, so the other services always hold the current tree."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert

from goal_service.store import events
from goal_service.store.tables import Goal, GoalVersion
from servicekit.uow import UnitOfWork


async def add(
    uow: UnitOfWork,
    goals: Sequence[Goal],
    *,
    actor: str,
    reason: str | None,
    timezone: str,
    plan_id: str | None = None,
) -> None:
    """Insert new goals (parents before children) with their first version."""
    if not goals:
        return
    now = uow.clock.now()
    goal_rows, version_rows = [], []
    for goal in goals:
        goal.updated_at = now
        goal.created_by = actor
        goal.plan_id = plan_id
        goal_rows.append(_row(goal))
        version_rows.append(_version(goal, None, actor, now, reason, plan_id, ["created"]))
        uow.publish(events.goal_upserted(goal, timezone))
    session = uow.session
    await session.execute(insert(Goal), goal_rows)
    await session.execute(insert(GoalVersion), version_rows)


def change(
    uow: UnitOfWork,
    goal: Goal,
    *,
    actor: str,
    reason: str | None,
    timezone: str,
    plan_id: str | None = None,
    **changes: object,
) -> bool:
    """Apply `changes` to a loaded goal; a new version when anything changed."""
    previous_target = goal.target
    changed = {name: value for name, value in changes.items() if getattr(goal, name) != value}
    if not changed:
        return False
    now = uow.clock.now()
    for name, value in changed.items():
        setattr(goal, name, value)
    goal.version += 1
    goal.updated_at = now
    if plan_id is not None:
        goal.plan_id = plan_id
    uow.session.add(_version_row(goal, previous_target, actor, now, reason, plan_id, list(changed)))
    uow.publish(events.goal_upserted(goal, timezone))
    return True


def archive(uow: UnitOfWork, goal: Goal, *, status: str, actor: str, reason: str | None) -> None:
    now = uow.clock.now()
    previous_target = goal.target
    goal.status = status
    goal.version += 1
    goal.updated_at = now
    uow.session.add(_version_row(goal, previous_target, actor, now, reason, None, ["status"]))
    uow.publish(events.goal_archived(goal, reason, now))


def _row(goal: Goal) -> dict[str, object]:
    return {c.key: getattr(goal, c.key) for c in Goal.__table__.columns}  # type: ignore[attr-defined]


def _version(
    goal: Goal,
    previous_target: object,
    actor: str,
    at: datetime,
    reason: str | None,
    plan_id: str | None,
    fields: Sequence[str],
) -> dict[str, object]:
    return {
        "goal_id": goal.id,
        "version": goal.version,
        "target": goal.target,
        "previous_target": previous_target,
        "status": goal.status,
        "owner_id": goal.owner_id,
        "changed_by": actor,
        "changed_at": at,
        "reason": reason,
        "plan_id": plan_id,
        "fields": list(fields),
    }


def _version_row(
    goal: Goal,
    previous_target: object,
    actor: str,
    at: datetime,
    reason: str | None,
    plan_id: str | None,
    fields: Sequence[str],
) -> GoalVersion:
    return GoalVersion(**_version(goal, previous_target, actor, at, reason, plan_id, fields))  # type: ignore[arg-type]
