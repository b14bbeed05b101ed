"""Statistics for planning, over an org unit's subtree and a window: actuals per
child unit, per person and per month (history weights, seasonality), and the
funnel rates with their samples (reverse derivation)."""

from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from servicekit.app import RuntimeDep, UnitOfWorkDep
from servicekit.auth import CurrentPrincipal
from servicekit.inputs import Day
from servicekit.problems import InvalidInput, NotFound
from tracking_service.api.visibility import visibility
from tracking_service.domain.statistics import funnel_rates
from tracking_service.store import queries, statistics

router = APIRouter(tags=["statistics"])


class RatePublic(BaseModel):
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal
    sample: int


class Statistics(BaseModel):
    org_unit_id: str
    metric: str
    start: date
    end: date
    totals: dict[str, Decimal]
    by_child: dict[str, Decimal]
    by_person: dict[str, Decimal]
    by_month: dict[str, Decimal]
    by_product_line: dict[str, Decimal]
    rates: dict[str, RatePublic]


@router.get("/org-units/{org_unit_id}/statistics", response_model=Statistics)
async def read_statistics(
    org_unit_id: str,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    principal: CurrentPrincipal,
    start: Annotated[
        Day | None, Query(description="first credit date; default a year back")
    ] = None,
    end: Annotated[Day | None, Query(description="last credit date; default today")] = None,
    metric: Annotated[str, Query(description="what by_child, by_person, by_month sum")] = "revenue",
) -> Statistics:
    paths = await queries.unit_paths(uow.session, [org_unit_id])
    seen = await visibility(uow.session, principal)
    if org_unit_id not in paths or not seen.sees_path(paths[org_unit_id]):
        raise NotFound(f"no org unit {org_unit_id}")
    end = end or runtime.clock.now().date()
    start = start or end - timedelta(days=365)
    if start > end:
        raise InvalidInput("start is after end", field="start")
    session, depth = uow.session, len(paths[org_unit_id])
    totals = await statistics.totals(session, org_unit_id, start, end)
    return Statistics(
        org_unit_id=org_unit_id,
        metric=metric,
        start=start,
        end=end,
        totals=totals,
        by_child=await statistics.by_child(session, org_unit_id, depth, metric, start, end),
        by_person=await statistics.by_person(session, org_unit_id, metric, start, end),
        by_month=await statistics.by_month(session, org_unit_id, metric, start, end),
        by_product_line=await statistics.by_product_line(session, org_unit_id, metric, start, end),
        rates={name: RatePublic(**asdict(r)) for name, r in funnel_rates(totals).items()},
    )
