"""Writing goals: every change is a new version (who, when, why, old and new
target), and every version is published as `GoalUpserted` in the same
transaction, so the other services always hold the current tree."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from attain_contracts import GoalUpserted
from goal_service.service_layer import events
from goal_service.store import GoalStore
from goal_service.store.goals import columns_of
from goal_service.store.tables import Goal
from servicekit.uow import UnitOfWork


async def add(
    uow: UnitOfWork[GoalStore],
    goals: Sequence[Goal],
    *,
    actor: str,
    reason: str | None,
    timezone: str,
    plan_id: str | None = None,
) -> None:
    """Insert new goals (parents before children) with their first version."""
    await add_rows(
        uow,
        [columns_of(g) for g in goals],
        actor=actor,
        reason=reason,
        timezone=timezone,
        plan_id=plan_id,
    )
    for goal in goals:  # the caller's objects show what was written
        goal.created_by, goal.plan_id = actor, plan_id


async def add_rows(
    uow: UnitOfWork[GoalStore],
    rows: Sequence[dict[str, Any]],
    *,
    actor: str,
    reason: str | None,
    timezone: str,
    plan_id: str | None = None,
) -> None:
    """`add` for goals given as column values: a plan writes hundreds of
    thousands, and building an ORM object and an event model for each would
    take most of the time."""
    if not rows:
        return
    now = uow.clock.now()
    versions = []
    for row in rows:
        row.update(updated_at=now, created_by=actor, plan_id=plan_id)
        versions.append(_version(row, None, actor, now, reason, plan_id, ["created"]))
        uow.publish_json(GoalUpserted, row["id"], events.goal_upserted_json(row, timezone))
    await uow.store.goals.insert(rows, versions)


def change(
    uow: UnitOfWork[GoalStore],
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
    uow.store.goals.add_version(
        _version(columns_of(goal), previous_target, actor, now, reason, plan_id, changed)
    )
    uow.publish(events.goal_upserted(goal, timezone))
    return True


def archive(
    uow: UnitOfWork[GoalStore], goal: Goal, *, status: str, actor: str, reason: str | None
) -> None:
    now = uow.clock.now()
    previous_target = goal.target
    goal.status = status
    goal.version += 1
    goal.updated_at = now
    uow.store.goals.add_version(
        _version(columns_of(goal), previous_target, actor, now, reason, None, ["status"])
    )
    uow.publish(events.goal_archived(goal, reason, now))


def _version(
    goal: Mapping[str, Any],
    previous_target: object,
    actor: str,
    at: datetime,
    reason: str | None,
    plan_id: str | None,
    fields: Iterable[str],
) -> dict[str, Any]:
    """A version row from a goal's column values as they now are."""
    return {
        "goal_id": goal["id"],
        "version": goal["version"],
        "target": goal["target"],
        "previous_target": previous_target,
        "status": goal["status"],
        "owner_id": goal["owner_id"],
        "changed_by": actor,
        "changed_at": at,
        "reason": reason,
        "plan_id": plan_id,
        "fields": list(fields),
    }
