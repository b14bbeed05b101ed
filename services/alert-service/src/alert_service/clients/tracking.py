"""What alert-service asks tracking-service (ARCHITECTURE.md: an on-demand question
goes to the other service's REST API): goals' progress as of a past instant, for
a replay. Our copy holds only each goal's newest figures; tracking-service sums
its ledger as it stood at the end of the instant's day. We call as a `viewer`,
a read-only role that sees every goal."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import httpx

from alert_service.settings import AlertSettings
from servicekit.upstream import ServiceReader, UpstreamUnavailable, tracking_reader

# Goal ids per request: a URL of a few kilobytes, well inside a page of the list.
CHUNK = 200


TrackingUnavailable = UpstreamUnavailable


@dataclass(frozen=True)
class ProgressFigures:
    """A goal's figures as tracking-service counts them: the actual (a ratio's
    numerator) and a ratio's denominator."""

    numerator: Decimal
    denominator: Decimal | None


class TrackingClient:
    def __init__(self, reader: ServiceReader) -> None:
        self._reader = reader

    @classmethod
    def from_settings(
        cls, settings: AlertSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> "TrackingClient":
        return cls(tracking_reader(settings, "alert-service", transport))

    async def close(self) -> None:
        await self._reader.close()

    async def progress_at(
        self, goal_ids: Iterable[str], as_of: datetime
    ) -> dict[str, ProgressFigures]:
        """Each goal's figures from the ledger at the end of `as_of`'s day (in the
        goal's time zone); a goal tracking-service does not know is left out."""
        wanted = sorted(set(goal_ids))
        figures: dict[str, ProgressFigures] = {}
        for start in range(0, len(wanted), CHUNK):
            params = httpx.QueryParams(
                {
                    "as_of": as_of.isoformat(),
                    "limit": CHUNK,
                    "goal_id": wanted[start : start + CHUNK],
                }
            )
            body = await self._reader.get("/progress", params)
            for item in body["data"]:
                denominator = item.get("denominator")
                figures[item["goal_id"]] = ProgressFigures(
                    Decimal(item["numerator"]),
                    None if denominator is None else Decimal(denominator),
                )
        return figures
