"""FX rates: base-currency units per unit of a currency on a day."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracking_service.store.chunks import chunks
from tracking_service.store.tables import FxRate


class Rates:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, rates: Sequence[tuple[str, date, Decimal]], now: datetime) -> None:
        """A rate given again replaces the old one; what was credited at the old rate
        stays credited (the ledger is not rewritten by a rate correction)."""
        values = [{"currency": c, "on": on, "rate": r, "updated_at": now} for c, on, r in rates]
        statement = insert(FxRate).values(values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[col(FxRate.currency), col(FxRate.on)],
                set_={"rate": statement.excluded.rate, "updated_at": statement.excluded.updated_at},
            )
        )

    async def between(
        self, currency: str, start: date, end: date
    ) -> list[tuple[str, date, Decimal]]:
        rows = await self.session.execute(
            select(col(FxRate.currency), col(FxRate.on), col(FxRate.rate))
            .where(col(FxRate.currency) == currency, col(FxRate.on) >= start, col(FxRate.on) <= end)
            .order_by(col(FxRate.on))
        )
        return [(c, on, rate) for c, on, rate in rows.all()]

    async def of(self, needs: set[tuple[str, date]]) -> dict[tuple[str, date], Decimal]:
        """The known rates among these (currency, day) pairs."""
        found: dict[tuple[str, date], Decimal] = {}
        for chunk in chunks(sorted(needs)):
            rows = await self.session.execute(
                select(col(FxRate.currency), col(FxRate.on), col(FxRate.rate)).where(
                    tuple_(col(FxRate.currency), col(FxRate.on)).in_(chunk)
                )
            )
            found.update({(currency, on): rate for currency, on, rate in rows.all()})
        return found
