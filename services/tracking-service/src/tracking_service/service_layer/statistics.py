"""Statistics for planning, over an org unit's subtree and a window: actuals per
child unit, per person and per month (history weights, seasonality), and the
funnel rates with their samples (reverse derivation)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from servicekit.auth import Principal
from servicekit.errors import FieldError, Missing
from tracking_service.domain.statistics import Rate, funnel_rates
from tracking_service.service_layer.visibility import visibility
from tracking_service.store import TrackingStore


@dataclass(frozen=True)
class UnitStatistics:
    start: date
    end: date
    totals: dict[str, Decimal]
    by_child: dict[str, Decimal]
    by_person: dict[str, Decimal]
    by_month: dict[str, Decimal]
    by_product_line: dict[str, Decimal]
    rates: dict[str, Rate]


async def unit_statistics(
    store: TrackingStore,
    principal: Principal,
    org_unit_id: str,
    *,
    start: date | None,
    end: date | None,
    today: date,
    metric: str,
) -> UnitStatistics:
    """`end` defaults to `today`, `start` to a year before `end`."""
    paths = await store.org.paths([org_unit_id])
    seen = await visibility(store, principal)
    if org_unit_id not in paths or not seen.sees_path(paths[org_unit_id]):
        raise Missing(f"no org unit {org_unit_id}")
    end = end or today
    start = start or end - timedelta(days=365)
    if start > end:
        raise FieldError("start", "start is after end")
    depth, stats = len(paths[org_unit_id]), store.statistics
    totals = await stats.totals(org_unit_id, start, end)
    return UnitStatistics(
        start=start,
        end=end,
        totals=totals,
        by_child=await stats.by_child(org_unit_id, depth, metric, start, end),
        by_person=await stats.by_person(org_unit_id, metric, start, end),
        by_month=await stats.by_month(org_unit_id, metric, start, end),
        by_product_line=await stats.by_product_line(org_unit_id, metric, start, end),
        rates=funnel_rates(totals),
    )
