"""Statistics for planning, over an org unit's subtree and a window: actuals per
child unit, per person and per month (history weights, seasonality), and the
funnel rates with their samples (reverse derivation)."""

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, field_serializer

from attain_contracts.types import (
    CountString,
    DecimalText,
    RatioString,
    metric_kind,
    write_figure,
    write_numerator,
)
from servicekit.auth import CurrentPrincipal
from servicekit.inputs import Day
from tracking_service.api.dependencies import Runtime, Uow
from tracking_service.service_layer.statistics import unit_statistics

router = APIRouter(tags=["statistics"])


class RatePublic(BaseModel):
    """Every rate at one precision (the average deal size and sales cycle too: what
    goal-service derives from them keeps its places); its numerator written by
    `Statistics`, which knows what the rate divides."""

    value: RatioString | None
    numerator: Decimal
    denominator: CountString
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

    @field_serializer("totals", when_used="json")
    def _write_totals(self, totals: dict[str, Decimal]) -> dict[str, DecimalText]:
        """Keyed by ledger metric: each written as its metric reads."""
        return {m: write_figure(v, metric_kind(m)) for m, v in totals.items()}

    @field_serializer("rates", when_used="json")
    def _write_rates(self, rates: dict[str, RatePublic]) -> dict[str, dict[str, Any]]:
        """A rate's numerator as the metric it sums reads (revenue for the average
        deal size, deals won for the win rate)."""
        return {
            name: {**r.model_dump(mode="json"), "numerator": write_numerator(r.numerator, name)}
            for name, r in rates.items()
        }

    @field_serializer("by_child", "by_person", "by_month", "by_product_line", when_used="json")
    def _write_breakdown(self, sums: dict[str, Decimal]) -> dict[str, DecimalText]:
        kind = metric_kind(self.metric)
        return {k: write_figure(v, kind) for k, v in sums.items()}


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
