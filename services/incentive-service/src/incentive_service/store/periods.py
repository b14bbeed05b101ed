"""Closed periods, and the locks a payout run, a close and pricing hold on a period."""

from collections.abc import Collection
from datetime import date

from sqlalchemy import select, text
from sqlmodel import col

from incentive_service.store.base import Queries
from incentive_service.store.tables import ClosedPeriod


class PeriodQueries(Queries):
    async def closed(self) -> dict[str, ClosedPeriod]:
        rows = await self.session.execute(select(ClosedPeriod))
        return {closed.period_key: closed for closed in rows.scalars()}

    async def closed_between(self, kind: str, first: date, last: date | None) -> list[str]:
        """The closed periods of `kind` that overlap `first` .. `last` (exclusive;
        open when None)."""
        query = select(col(ClosedPeriod.period_key)).where(
            col(ClosedPeriod.period_kind) == kind, col(ClosedPeriod.period_end) >= first
        )
        if last is not None:
            query = query.where(col(ClosedPeriod.period_start) < last)
        return list(
            (await self.session.execute(query.order_by(col(ClosedPeriod.period_start)))).scalars()
        )

    async def add_closed(self, closed: ClosedPeriod) -> None:
        self.session.add(closed)

    async def lock(self, period_keys: Collection[str], *, shared: bool) -> None:
        """Pricing holds its periods shared; a payout run or a close holds its period
        exclusively, so it sees every statement as nobody else is changing it."""
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await self.session.execute(
            text(
                f"SELECT {function}(hashtextextended('period:' || name, 0))"
                " FROM (SELECT unnest(CAST(:names AS text[])) AS name ORDER BY 1) AS ordered"
            ),
            {"names": sorted(period_keys)},
        )
