"""What goal-service asks tracking-service (ARCHITECTURE.md: another service's
data comes from its events or, for an on-demand question, its REST API): the
history behind weights, funnel rates and SMART checks, and the progress a
re-plan starts from. goal-service calls as a `viewer`, a read-only role."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import httpx

from goal_service.settings import GoalSettings
from servicekit.upstream import ServiceReader, UpstreamUnavailable, tracking_reader

GOALS_A_REQUEST = 200  # ids in one query string, well inside any proxy's URL limit

TrackingUnavailable = UpstreamUnavailable


@dataclass(frozen=True)
class Rate:
    value: Decimal | None
    sample: int


@dataclass(frozen=True)
class Statistics:
    """Actuals of an org unit's subtree over a window (tracking's statistics)."""

    org_unit_id: str
    total: Decimal
    by_child: dict[str, Decimal]
    by_person: dict[str, Decimal]
    by_month: dict[str, Decimal]
    by_product_line: dict[str, Decimal] = field(default_factory=dict)
    rates: dict[str, Rate] = field(default_factory=dict)


@dataclass(frozen=True)
class Progress:
    goal_id: str
    actual: Decimal


class TrackingClient:
    def __init__(self, reader: ServiceReader) -> None:
        self._reader = reader

    @classmethod
    def from_settings(
        cls, settings: GoalSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> "TrackingClient":
        return cls(tracking_reader(settings, "goal-service", transport))

    async def close(self) -> None:
        await self._reader.close()

    async def statistics(
        self, org_unit_id: str, start: date, end: date, metric: str = "revenue"
    ) -> Statistics:
        body = await self._reader.get(
            f"/org-units/{org_unit_id}/statistics",
            {"start": start.isoformat(), "end": end.isoformat(), "metric": metric},
            none_if_missing=True,
        )
        if body is None:
            # tracking-service has not heard of the unit yet: it has no history.
            return Statistics(org_unit_id, Decimal(0), {}, {}, {})
        return Statistics(
            org_unit_id=org_unit_id,
            total=Decimal(body["totals"].get(metric, "0")),
            by_child={k: Decimal(v) for k, v in body["by_child"].items()},
            by_person={k: Decimal(v) for k, v in body["by_person"].items()},
            by_month={k: Decimal(v) for k, v in body["by_month"].items()},
            by_product_line={k: Decimal(v) for k, v in body["by_product_line"].items()},
            rates={
                name: Rate(None if r["value"] is None else Decimal(r["value"]), int(r["sample"]))
                for name, r in body["rates"].items()
            },
        )

    async def progress(self, goal_ids: Sequence[str]) -> dict[str, Progress]:
        """These goals' live progress by id, a page of them a request; a goal tracking-service
        does not know (yet) is left out."""
        found: dict[str, Progress] = {}
        for start in range(0, len(goal_ids), GOALS_A_REQUEST):
            ids = list(goal_ids[start : start + GOALS_A_REQUEST])
            body = await self._reader.get("/progress", {"goal_id": ids, "limit": len(ids)})
            for row in body["data"]:
                found[row["goal_id"]] = Progress(row["goal_id"], Decimal(row["actual"]))
        return found
