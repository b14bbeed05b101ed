"""Live progress of goals, at any instant: one goal, many goals, and the history
of a CRM record with the ledger rows it caused."""

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, field_serializer

from attain_contracts.types import (
    CountString,
    DecimalText,
    MoneyString,
    RatioString,
    metric_kind,
    write_figure,
    write_metric,
    write_numerator,
)
from servicekit.auth import CurrentPrincipal
from servicekit.inputs import AwareInstant, Day, Offset
from servicekit.paging import Page, PagingDep
from tracking_service.api.dependencies import Runtime, Uow
from tracking_service.domain.progress import Progress
from tracking_service.service_layer import operations, progress
from tracking_service.service_layer.progress import GoalFilter
from tracking_service.service_layer.records import MODELS as BY_COLLECTION
from tracking_service.service_layer.unit import Goal

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
    attainment: RatioString | None
    expected_to_date: Decimal
    pace: RatioString | None
    projection: Decimal
    pipeline_projection: Decimal | None
    open_pipeline: Decimal | None = None
    numerator: Decimal
    denominator: CountString | None

    @field_serializer(
        "actual",
        "target",
        "expected_to_date",
        "projection",
        "pipeline_projection",
        "open_pipeline",
        when_used="json",
    )
    def _write_figure(self, value: Decimal | None) -> DecimalText | None:
        return write_metric(value, self.metric)

    @field_serializer("numerator", when_used="json")
    def _write_numerator(self, value: Decimal) -> DecimalText | None:
        return write_numerator(value, self.metric)

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
    uow: Uow,
    runtime: Runtime,
    principal: CurrentPrincipal,
    as_of: AwareInstant | None = None,
) -> ProgressPublic:
    """Summed from the ledger as it stood at the end of `as_of`'s day, with the
    pipeline projection for revenue and deal-count goals. Without `as_of`: now, every
    credit in the period counted, as the live progress counts them."""
    instant = as_of or runtime.clock.now()
    goal, figures = await progress.goal_progress(
        uow.store, principal, goal_id, instant, now=as_of is None
    )
    return ProgressPublic.of(goal, figures, instant)


class SeriesPoint(BaseModel):
    on: date
    actual: MoneyString
    expected_to_date: MoneyString


class ProgressSeries(BaseModel):
    goal_id: str
    step: Literal["day", "week"]
    points: list[SeriesPoint]


@router.get("/goals/{goal_id}/series", response_model=ProgressSeries)
async def read_series(
    goal_id: str,
    uow: Uow,
    runtime: Runtime,
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
    goal, chosen, points = await progress.series(
        uow.store, principal, goal_id, step, as_of or runtime.clock.now()
    )
    return ProgressSeries(
        goal_id=goal.id,
        step=chosen,
        points=[
            SeriesPoint(on=p.on, actual=p.actual, expected_to_date=p.expected_to_date)
            for p in points
        ],
    )


@router.get("/progress", response_model=ProgressList)
async def list_progress(
    uow: Uow,
    runtime: Runtime,
    principal: CurrentPrincipal,
    paging: PagingDep,
    owner_id: str | None = None,
    org_unit_id: Annotated[str | None, Query(description="the unit and its subtree")] = None,
    period_key: Annotated[
        list[str] | None,
        Query(description="repeat it for goals of any of several periods, in one list"),
    ] = None,
    on: Annotated[Day | None, Query(description="goals whose period contains this day")] = None,
    metric: str | None = None,
    goal_id: Annotated[
        list[str] | None, Query(description="repeat it: only these goals (e.g. to replay them)")
    ] = None,
    as_of: AwareInstant | None = None,
    offset: Annotated[Offset, Query(deprecated=True, description="use `after`")] = 0,
) -> ProgressList:
    """Many goals' live progress (at `as_of`, summed from the ledger, when given)."""
    instant = as_of or runtime.clock.now()
    page = await progress.progress_page(
        uow.store,
        principal,
        GoalFilter(
            owner_id,
            org_unit_id,
            tuple(period_key) if period_key else None,
            on,
            metric,
            tuple(goal_id) if goal_id else None,
        ),
        as_of=as_of,
        now=instant,
        after=paging.after,
        limit=paging.limit,
        offset=offset,
    )
    return ProgressList(
        data=[ProgressPublic.of(g, page.figures[g.id], instant) for g in page.goals],
        count=page.count,
        next_after=page.goals[-1].id if page.more else None,
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

    @field_serializer("amount", when_used="json")
    def _write_amount(self, amount: Decimal) -> DecimalText:
        return write_figure(amount, metric_kind(self.metric), self.currency)


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
    source_id: str, kind: str, record_id: str, uow: Uow, principal: CurrentPrincipal
) -> RecordHistory:
    """Every accepted version of a deal (or payment, lead, activity) and every ledger
    row it caused, oldest first."""
    history = await operations.record_history(
        uow.store,
        principal,
        source_id,
        BY_COLLECTION[kind].kind if kind in BY_COLLECTION else kind,
        record_id,
        named=kind,
    )
    record = history.record
    return RecordHistory(
        source_id=source_id,
        kind=record.kind,
        id=record.record_id,
        version=record.version,
        state=record.state,
        parked=record.parked_reason,
        versions=[
            VersionPublic(version=v.version, received_at=v.received_at, payload=v.payload)
            for v in history.versions
        ],
        ledger=[
            LedgerRow(
                entry_id=str(e.id),
                **e.model_dump(include=set(LedgerRow.model_fields) - {"entry_id"}),
            )
            for e in history.entries
        ],
    )
