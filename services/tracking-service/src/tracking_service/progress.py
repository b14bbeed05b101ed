"""A goal's live progress, computed from the ledger at an instant, and the
`GoalProgressUpdated` event that announces it."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from attain_contracts import GoalProgressUpdated, Period
from servicekit.uow import UnitOfWork
from tracking_service.domain.progress import Progress, progress_at
from tracking_service.store import queries
from tracking_service.store.tables import Goal


async def goal_progress(session: AsyncSession, goal: Goal, as_of: datetime) -> Progress:
    day = as_of.astimezone(ZoneInfo(goal.timezone)).date()
    actual = await queries.goal_actual(session, goal, until=day)
    return progress_at(actual, goal.target, goal.period_start, goal.period_end, day)


async def publish_progress(uow: UnitOfWork, goals: list[Goal]) -> None:
    """One `GoalProgressUpdated` per goal, at the unit of work's `now`."""
    as_of = uow.clock.now()
    for goal in goals:
        progress = await goal_progress(uow.session, goal, as_of)
        goal.progress_sequence += 1
        uow.publish(
            GoalProgressUpdated(
                goal_id=goal.id,
                owner_id=goal.owner_id,
                metric=goal.metric,
                direction=goal.direction,
                period=Period(key=goal.period_key, start=goal.period_start, end=goal.period_end),
                as_of=as_of,
                actual=progress.actual,
                target=progress.target,
                attainment=progress.attainment,
                expected_to_date=progress.expected_to_date,
                pace=progress.pace,
                projection=progress.projection,
                sequence=goal.progress_sequence,
            )
        )
