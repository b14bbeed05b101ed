"""A goal's progress: live (the projector's running numerator and denominator)
or at any past instant (summed from the ledger), and the `GoalProgressUpdated`
event that announces it."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from attain_contracts import GoalProgressUpdated, Period
from attain_contracts.progress import ChildTarget, GoalTerms, Milestone
from servicekit.uow import UnitOfWork
from tracking_service.domain.progress import Pipeline, Progress, progress_at
from tracking_service.store import queries
from tracking_service.store.tables import Goal

PIPELINE_METRICS = frozenset({"revenue", "deals_won"})


def local_day(goal: Goal, as_of: datetime) -> date:
    return as_of.astimezone(ZoneInfo(goal.timezone)).date()


def terms(goal: Goal, children: Sequence[ChildTarget] = ()) -> GoalTerms:
    return GoalTerms(
        metric=goal.metric,
        direction=goal.direction,
        start=goal.period_start,
        end=goal.period_end,
        target=goal.target,
        milestones=tuple(
            Milestone(date.fromisoformat(m["on"]), Decimal(m["cumulative_target"]))
            for m in goal.milestones
        ),
        children=tuple(children),
    )


async def live_progress(
    session: AsyncSession, goals: Sequence[Goal], as_of: datetime
) -> dict[str, Progress]:
    """Each goal's progress from its live figures, at `as_of`."""
    children = await queries.child_targets(session, [goal.id for goal in goals])
    return {
        goal.id: progress_at(
            terms(goal, children.get(goal.id, ())),
            goal.numerator,
            goal.denominator,
            local_day(goal, as_of),
        )
        for goal in goals
    }


async def progress_on(
    session: AsyncSession, goal: Goal, as_of: datetime, with_pipeline: bool = True
) -> Progress:
    """The goal's progress from the ledger as it stood at the end of `as_of`'s day,
    with the pipeline projection where the metric has one."""
    day = local_day(goal, as_of)
    numerator, denominator = await queries.ledger_figures(session, goal, until=day)
    children = await queries.child_targets(session, [goal.id])
    pipeline = None
    if with_pipeline and goal.metric in PIPELINE_METRICS and day < goal.period_end:
        pipeline = await _pipeline(session, goal, day)
    return progress_at(
        terms(goal, children.get(goal.id, ())), numerator, denominator, day, pipeline=pipeline
    )


async def _pipeline(session: AsyncSession, goal: Goal, day: date) -> Pipeline:
    open_value, open_count = await queries.open_pipeline(session, goal, after=day)
    win_rate = await queries.win_rate(session, goal, until=day)
    return Pipeline(open_value if goal.metric == "revenue" else open_count, win_rate)


async def publish_progress(uow: UnitOfWork, goals: Sequence[Goal]) -> None:
    """One `GoalProgressUpdated` per active goal, at the unit of work's `now`."""
    active = [goal for goal in goals if goal.status == "active"]
    as_of = uow.clock.now()
    figures = await live_progress(uow.session, active, as_of)
    for goal in active:
        progress = figures[goal.id]
        goal.progress_sequence += 1
        uow.publish(progress_updated(goal, progress, as_of))


def progress_updated(goal: Goal, progress: Progress, as_of: datetime) -> GoalProgressUpdated:
    return GoalProgressUpdated(
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
        parent_id=goal.parent_id,
        org_unit_id=goal.org_unit_id,
        person_id=goal.person_id,
        status=goal.status,
        timezone=goal.timezone,
        numerator=progress.numerator if progress.denominator is not None else None,
        denominator=progress.denominator,
    )
