"""Statistics for planning, over an org unit's subtree and a window: actuals per
child unit, per person and per month (history weights, seasonality), and the
funnel rates with their samples (reverse derivation)."""

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from servicekit.auth import CurrentPrincipal
from servicekit.inputs import Day
from tracking_service.api.dependencies import Runtime, Uow
from tracking_service.service_layer.statistics import unit_statistics

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
    uow: Uow,
    runtime: Runtime,
    principal: CurrentPrincipal,
    start: Annotated[
        Day | None, Query(description="first credit date; default a year back")
    ] = None,
    end: Annotated[Day | None, Query(description="last credit date; default today")] = None,
    metric: Annotated[str, Query(description="what by_child, by_person, by_month sum")] = "revenue",
) -> Statistics:
    found = await unit_statistics(
        uow.store,
        principal,
        org_unit_id,
        start=start,
        end=end,
        today=runtime.clock.now().date(),
        metric=metric,
    )
    # The figures' dataclasses (rates too) become the answer's fields by name.
    return Statistics(org_unit_id=org_unit_id, metric=metric, **asdict(found))
