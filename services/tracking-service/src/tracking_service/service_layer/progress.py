"""A goal's progress: live (the projector's running numerator and denominator)
or at any past instant (summed from the ledger), its series for a chart, and the
`GoalProgressUpdated` event that announces it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from attain_contracts import GoalProgressUpdated
from attain_contracts.progress import Calendar, ChildTarget, GoalTerms, Milestone
from attain_contracts.types import (
    write_count,
    write_instant,
    write_metric,
    write_numerator,
    write_ratio,
)
from servicekit.auth import Principal
from servicekit.clock import local_day
from servicekit.errors import FieldError, Missing
from tracking_service.domain.progress import Pipeline, Progress, progress_at
from tracking_service.service_layer.unit import Unit
from tracking_service.service_layer.visibility import sees_goal, visibility
from tracking_service.store import TrackingStore
from tracking_service.store.tables import Goal

PIPELINE_METRICS = frozenset({"revenue", "deals_won"})
Step = Literal["day", "week"]


def goal_day(goal: Goal, as_of: datetime) -> date:
    return local_day(as_of, goal.timezone)


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


async def working_week(store: TrackingStore) -> Calendar:
    """The working days of the organisation's calendar as last heard (Monday to Friday before)."""
    return (await store.calendar.calendar()).working_week


async def live_progress(
    store: TrackingStore, goals: Sequence[Goal], as_of: datetime
) -> dict[str, Progress]:
    """Each goal's progress from its live figures, at `as_of`."""
    children = await store.goals.child_targets([goal.id for goal in goals])
    calendar = await working_week(store)
    return {
        goal.id: progress_at(
            terms(goal, children.get(goal.id, ())),
            goal.numerator,
            goal.denominator,
            goal_day(goal, as_of),
            calendar,
        )
        for goal in goals
    }


async def progress_on(
    store: TrackingStore,
    goal: Goal,
    as_of: datetime,
    with_pipeline: bool = True,
    *,
    now: bool = False,
) -> Progress:
    """The goal's progress from the ledger as it stood at the end of `as_of`'s day,
    with the pipeline projection where the metric has one. `now`: every credit in
    the period, one dated after today too, as the live figures count it (a deal
    won with a close date ahead counts from when it is recorded)."""
    day = goal_day(goal, as_of)
    numerator, denominator = await store.figures.of(goal, until=None if now else day)
    children = await store.goals.child_targets([goal.id])
    pipeline = None
    if with_pipeline and goal.metric in PIPELINE_METRICS and day < goal.period_end:
        pipeline = await _pipeline(store, goal, day)
    return progress_at(
        terms(goal, children.get(goal.id, ())),
        numerator,
        denominator,
        day,
        await working_week(store),
        pipeline=pipeline,
    )


async def _pipeline(store: TrackingStore, goal: Goal, day: date) -> Pipeline:
    open_value, open_count = await store.figures.open_pipeline(goal, after=day)
    win_rate = await store.figures.win_rate(goal, until=day)
    return Pipeline(open_value if goal.metric == "revenue" else open_count, win_rate)


async def visible_goal(store: TrackingStore, principal: Principal, goal_id: str) -> Goal:
    """The goal, or Missing alike when it does not exist and when it is not the caller's."""
    goal = await store.goals.get(goal_id)
    seen = await visibility(store, principal)
    if goal is None or not await sees_goal(store, seen, goal):
        raise Missing(f"no goal {goal_id}")
    return goal


async def goal_progress(
    store: TrackingStore, principal: Principal, goal_id: str, as_of: datetime, *, now: bool = False
) -> tuple[Goal, Progress]:
    goal = await visible_goal(store, principal, goal_id)
    return goal, await progress_on(store, goal, as_of, now=now)


@dataclass(frozen=True)
class SeriesPoint:
    on: date
    actual: Decimal
    expected_to_date: Decimal


async def series(
    store: TrackingStore, principal: Principal, goal_id: str, step: Step | None, as_of: datetime
) -> tuple[Goal, Step, list[SeriesPoint]]:
    """Actual and expected to date at the end of each day (or ISO week, and the last
    day) of the period up to `as_of`'s day, from one read of the ledger."""
    goal = await visible_goal(store, principal, goal_id)
    last = min(goal_day(goal, as_of), goal.period_end)
    chosen: Step = step or ("day" if (goal.period_end - goal.period_start).days < 62 else "week")
    daily = await store.figures.daily(goal, until=last)
    children = await store.goals.child_targets([goal.id])
    goal_terms = terms(goal, children.get(goal.id, ()))
    calendar = await working_week(store)
    points = []
    numerator = denominator = Decimal(0)
    day = goal.period_start
    while day <= last:
        credited = daily.get(day)
        if credited is not None:
            numerator += credited[0]
            denominator += credited[1]
        if chosen == "day" or day.isoweekday() == 7 or day == last:
            figures = progress_at(goal_terms, numerator, denominator, day, calendar)
            points.append(SeriesPoint(day, figures.actual, figures.expected_to_date))
        day += timedelta(days=1)
    return goal, chosen, points


@dataclass(frozen=True)
class GoalFilter:
    owner_id: str | None = None
    org_unit_id: str | None = None
    period_keys: Sequence[str] | None = None  # any of them
    on: date | None = None
    metric: str | None = None
    goal_ids: Sequence[str] | None = None  # any of them


@dataclass(frozen=True)
class ProgressPage:
    goals: list[Goal]
    figures: dict[str, Progress]
    count: int
    more: bool


async def progress_page(
    store: TrackingStore,
    principal: Principal,
    chosen: GoalFilter,
    *,
    as_of: datetime | None,
    now: datetime,
    after: str | None,
    limit: int,
    offset: int,
) -> ProgressPage:
    """Many goals' live progress (at `as_of`, summed from the ledger, when given)."""
    seen = await visibility(store, principal)
    if not seen.everything and seen.person_id is None:
        raise Missing("no such resource")
    found = await store.goals.where(
        owner_id=chosen.owner_id,
        org_unit_id=chosen.org_unit_id,
        period_keys=chosen.period_keys,
        on=chosen.on,
        metric=chosen.metric,
        goal_ids=chosen.goal_ids,
        visible_units=None if seen.everything else sorted(seen.managed),
        visible_owner=None if seen.everything else seen.person_id,
        after=after,
        limit=limit,
        offset=offset,
    )
    if found is None:
        raise FieldError("after", "not an item of this list; start again without it")
    goals, count, more = found
    if as_of is None:
        figures = await live_progress(store, goals, now)
    else:
        figures = {g.id: await progress_on(store, g, as_of, with_pipeline=False) for g in goals}
    return ProgressPage(goals, figures, count, more)


async def publish_progress(uow: Unit, goals: Sequence[Goal], *, numbered: bool = False) -> None:
    """One `GoalProgressUpdated` per active goal, at the unit of work's `now`, numbered by
    the goal's next `progress_sequence` (`numbered`: the goals were read with it, as the
    projector's fold sets it, which spares writing each goal back)."""
    active = [goal for goal in goals if goal.status == "active"]
    as_of = uow.clock.now()
    figures = await live_progress(uow.store, active, as_of)
    written = write_instant(as_of)
    for goal in active:
        if not numbered:
            goal.progress_sequence += 1
        data = progress_updated_json(goal, figures[goal.id], written)
        uow.publish_json(GoalProgressUpdated, goal.id, data)


def progress_updated_json(goal: Goal, progress: Progress, as_of: str) -> dict[str, Any]:
    """What `GoalProgressUpdated(...).model_dump(mode="json")` gives for the goal at `as_of`
    (as `write_instant` writes it, once for a batch), without building the model: the
    projector writes one for every goal a batch moves, and building and dumping the model
    was a tenth of its time (a test holds them equal)."""
    metric = goal.metric
    averaged = progress.denominator is not None  # a ratio or an average metric
    return {
        "goal_id": goal.id,
        "owner_id": goal.owner_id,
        "metric": metric,
        "direction": goal.direction,
        "period": {
            "key": goal.period_key,
            "start": goal.period_start.isoformat(),
            "end": goal.period_end.isoformat(),
        },
        "as_of": as_of,
        "actual": write_metric(progress.actual, metric),
        "target": write_metric(progress.target, metric),
        "attainment": _ratio(progress.attainment),
        "expected_to_date": write_metric(progress.expected_to_date, metric),
        "pace": _ratio(progress.pace),
        "projection": write_metric(progress.projection, metric),
        "sequence": goal.progress_sequence,
        "parent_id": goal.parent_id,
        "org_unit_id": goal.org_unit_id,
        "person_id": goal.person_id,
        "status": goal.status,
        "timezone": goal.timezone,
        "numerator": write_numerator(progress.numerator, metric) if averaged else None,
        "denominator": write_count(progress.denominator)
        if progress.denominator is not None
        else None,
        "pipeline_projection": None,  # the live figures have no pipeline
    }


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else write_ratio(value)
