"""Reads and writes of alert-service's tables.

Evaluating a goal holds the lock on its snapshot row, so the consumer and an
on-demand evaluation never decide about the same goal at once (which would
trip the one-open-alert index). Rows are always locked in goal id order, so
the two cannot deadlock."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from alert_service.store.tables import Alert, GoalSnapshot


async def keep_newer_snapshots(
    session: AsyncSession, snapshots: Iterable[dict[str, Any]]
) -> list[GoalSnapshot]:
    """Upsert one row per goal, where it is newer (by `sequence`) than the one
    stored; returns the rows written, locked until the transaction ends."""
    rows = sorted(snapshots, key=lambda row: row["goal_id"])
    if not rows:
        return []
    stmt = insert(GoalSnapshot).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[col(GoalSnapshot.goal_id)],
        set_={name: stmt.excluded[name] for name in rows[0] if name != "goal_id"},
        where=col(GoalSnapshot.sequence) < stmt.excluded.sequence,
    )
    written = await session.scalars(
        stmt.returning(GoalSnapshot), execution_options={"populate_existing": True}
    )
    return list(written)


async def lock_all_snapshots(session: AsyncSession) -> list[GoalSnapshot]:
    rows = await session.execute(
        select(GoalSnapshot).order_by(col(GoalSnapshot.goal_id)).with_for_update()
    )
    return list(rows.scalars())


async def open_alerts(session: AsyncSession, rule: str, goal_ids: list[str]) -> dict[str, Alert]:
    rows = await session.execute(
        select(Alert).where(
            Alert.rule == rule, Alert.status == "open", col(Alert.goal_id).in_(goal_ids)
        )
    )
    return {alert.goal_id: alert for alert in rows.scalars()}


async def alert(session: AsyncSession, alert_id: str) -> Alert | None:
    return await session.get(Alert, alert_id)


async def alerts(
    session: AsyncSession,
    *,
    goal_id: str | None = None,
    owner_id: str | None = None,
    status: str | None = None,
) -> list[Alert]:
    """Newest first."""
    query = select(Alert)
    if goal_id is not None:
        query = query.where(Alert.goal_id == goal_id)
    if owner_id is not None:
        query = query.where(Alert.owner_id == owner_id)
    if status is not None:
        query = query.where(Alert.status == status)
    rows = await session.execute(query.order_by(col(Alert.opened_at).desc(), col(Alert.id)))
    return list(rows.scalars())
