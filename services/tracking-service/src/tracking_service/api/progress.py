"""Live progress of goals, at any instant: one goal, many goals, and the history
of a CRM record with the ledger rows it caused."""

from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from servicekit.app import RuntimeDep, UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role
from servicekit.inputs import AwareInstant, Day, Offset
from servicekit.paging import Page, PagingDep
from servicekit.problems import InvalidInput, NotFound
from tracking_service.api.visibility import sees_goal, visibility
from tracking_service.domain.progress import Progress, progress_at
from tracking_service.progress import live_progress, local_day, progress_on, terms
from tracking_service.records import MODELS as BY_COLLECTION
from tracking_service.store import queries
from tracking_service.store.tables import Goal

router = APIRouter(tags=["progress"])


class ProgressPublic(BaseModel):
    goal_id: str
    owner_id: str
    metric: str
    direction: str
    org_unit_id: str
    person_id: str | None
    period_key: str | None
    period_start: date
    period_end: date
    status: str
    as_of: datetime
    actual: Decimal
    target: Decimal
    attainment: Decimal | None
    expected_to_date: Decimal
    pace: Decimal | None
    projection: Decimal
    pipeline_projection: Decimal | None
    open_pipeline: Decimal | None = None
    numerator: Decimal
    denominator: Decimal | None

    @classmethod
    def of(cls, goal: Goal, progress: Progress, as_of: datetime) -> "ProgressPublic":
        return cls(
            goal_id=goal.id,
            owner_id=goal.owner_id,
            metric=goal.metric,
            direction=goal.direction,
            org_unit_id=goal.org_unit_id,
            person_id=goal.person_id,
            period_key=goal.period_key,
            period_start=goal.period_start,
            period_end=goal.period_end,
            status=goal.status,
            as_of=as_of,
            **asdict(progress),
        )


class ProgressList(Page[ProgressPublic]):
    """By period start, then goal id; paged by `limit` and `after` (a goal id)."""


@router.get("/goals/{goal_id}/progress", response_model=ProgressPublic)
async def read_progress(
    goal_id: str,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    as_of: AwareInstant | None = None,
) -> ProgressPublic:
    """Summed from the ledger as it stood at the end of `as_of`'s day (default now),
    with the pipeline projection for revenue and deal-count goals."""
    goal = await queries.goal(uow.session, goal_id)
    seen = await visibility(uow.session, principal)
    if goal is None or not await sees_goal(uow.session, seen, goal):
        raise NotFound(f"no goal {goal_id}")
    instant = as_of or runtime.clock.now()
    return ProgressPublic.of(goal, await progress_on(uow.session, goal, instant), instant)


class SeriesPoint(BaseModel):
    on: date
    actual: Decimal
    expected_to_date: Decimal


class ProgressSeries(BaseModel):
    goal_id: str
    step: Literal["day", "week"]
    points: list[SeriesPoint]


@router.get("/goals/{goal_id}/series", response_model=ProgressSeries)
async def read_series(
    goal_id: str,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    step: Annotated[
        Literal["day", "week"] | None,
        Query(description="default: days for a period of up to 62 days, weeks beyond"),
    ] = None,
    as_of: AwareInstant | None = None,
) -> ProgressSeries:
    """Actual and expected to date at the end of each day (or ISO week, and the last
    day) of the period up to `as_of`'s day: the goal's progress as a chart. The same
    figures as `/progress` at each of those days, from one read of the ledger."""
    goal = await queries.goal(uow.session, goal_id)
    seen = await visibility(uow.session, principal)
    if goal is None or not await sees_goal(uow.session, seen, goal):
        raise NotFound(f"no goal {goal_id}")
    last = min(local_day(goal, as_of or runtime.clock.now()), goal.period_end)
    chosen = step or ("day" if (goal.period_end - goal.period_start).days < 62 else "week")
    daily = await queries.daily_ledger_figures(uow.session, goal, until=last)
    children = await queries.child_targets(uow.session, [goal.id])
    goal_terms = terms(goal, children.get(goal.id, ()))
    points = []
    numerator = denominator = Decimal(0)
    day = goal.period_start
    while day <= last:
        credited = daily.get(day)
        if credited is not None:
            numerator += credited[0]
            denominator += credited[1]
        if chosen == "day" or day.isoweekday() == 7 or day == last:
            figures = progress_at(goal_terms, numerator, denominator, day)
            points.append(
                SeriesPoint(
                    on=day, actual=figures.actual, expected_to_date=figures.expected_to_date
                )
            )
        day += timedelta(days=1)
    return ProgressSeries(goal_id=goal.id, step=chosen, points=points)


@router.get("/progress", response_model=ProgressList)
async def list_progress(
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    paging: PagingDep,
    owner_id: str | None = None,
    org_unit_id: Annotated[str | None, Query(description="the unit and its subtree")] = None,
    period_key: str | None = None,
    on: Annotated[Day | None, Query(description="goals whose period contains this day")] = None,
    metric: str | None = None,
    as_of: AwareInstant | None = None,
    offset: Annotated[Offset, Query(deprecated=True, description="use `after`")] = 0,
) -> ProgressList:
    """Many goals' live progress (at `as_of`, summed from the ledger, when given)."""
    seen = await visibility(uow.session, principal)
    if not seen.everything and seen.person_id is None:
        raise NotFound("no such resource")
    found = await queries.goals_where(
        uow.session,
        owner_id=owner_id,
        org_unit_id=org_unit_id,
        period_key=period_key,
        on=on,
        metric=metric,
        visible_units=None if seen.everything else sorted(seen.managed),
        visible_owner=None if seen.everything else seen.person_id,
        after=paging.after,
        limit=paging.limit,
        offset=offset,
    )
    if found is None:
        raise InvalidInput("not an item of this list; start again without it", field="after")
    goals, count, more = found
    instant = as_of or runtime.clock.now()
    if as_of is None:
        figures = await live_progress(uow.session, goals, instant)
    else:
        figures = {
            g.id: await progress_on(uow.session, g, instant, with_pipeline=False) for g in goals
        }
    return ProgressList(
        data=[ProgressPublic.of(g, figures[g.id], instant) for g in goals],
        count=count,
        next_after=goals[-1].id if more else None,
    )


class LedgerRow(BaseModel):
    entry_id: str
    metric: str
    person_id: str
    org_path: list[str]
    product_line: str | None
    credited_on: date
    amount: Decimal
    currency: str | None
    reason: str
    record_version: int
    recorded_at: datetime


class VersionPublic(BaseModel):
    version: int
    received_at: datetime
    payload: dict[str, Any]


class RecordHistory(BaseModel):
    source_id: str
    kind: str
    id: str
    version: int
    state: dict[str, Any]
    parked: str | None
    versions: list[VersionPublic]
    ledger: list[LedgerRow]


@router.get("/sources/{source_id}/{kind}/{record_id}/history", response_model=RecordHistory)
async def record_history(
    source_id: str, kind: str, record_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> RecordHistory:
    """Every accepted version of a deal (or payment, lead, activity) and every ledger
    row it caused, oldest first."""
    record, versions, entries = await queries.record_history(
        uow.session,
        source_id,
        BY_COLLECTION[kind].kind if kind in BY_COLLECTION else kind,
        record_id,
    )
    seen = await visibility(uow.session, principal)
    allowed = seen.everything or principal.has_any(Role.INTEGRATION)
    if record is not None and not allowed:
        allowed = seen.sees_person(record.owner_id) or any(
            seen.sees_person(e.person_id) or seen.sees_path(e.org_path) for e in entries
        )
    if record is None or not allowed:
        raise NotFound(f"no {kind} {record_id} from {source_id}")
    return RecordHistory(
        source_id=source_id,
        kind=record.kind,
        id=record.record_id,
        version=record.version,
        state=record.state,
        parked=record.parked_reason,
        versions=[
            VersionPublic(version=v.version, received_at=v.received_at, payload=v.payload)
            for v in versions
        ],
        ledger=[
            LedgerRow(
                entry_id=str(e.id),
                **e.model_dump(include=set(LedgerRow.model_fields) - {"entry_id"}),
            )
            for e in entries
        ],
    )
