"""FX rates."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracking_service.store.tables import FxRate


async def upsert(
    session: AsyncSession, rates: Sequence[tuple[str, date, Decimal]], now: datetime
) -> None:
    """A rate given again replaces the old one; what was credited at the old rate
    stays credited (the ledger is not rewritten by a rate correction)."""
    values = [{"currency": c, "on": on, "rate": r, "updated_at": now} for c, on, r in rates]
    statement = insert(FxRate).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[col(FxRate.currency), col(FxRate.on)],
            set_={"rate": statement.excluded.rate, "updated_at": statement.excluded.updated_at},
        )
    )


async def between(
    session: AsyncSession, currency: str, start: date, end: date
) -> list[tuple[str, date, Decimal]]:
    rows = await session.execute(
        select(col(FxRate.currency), col(FxRate.on), col(FxRate.rate))
        .where(col(FxRate.currency) == currency, col(FxRate.on) >= start, col(FxRate.on) <= end)
        .order_by(col(FxRate.on))
    )
    return [(c, on, rate) for c, on, rate in rows.all()]
