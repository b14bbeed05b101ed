"""Reads and writes of incentive-service's tables."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from incentive_service.store.tables import Earning, Plan


@dataclass(frozen=True)
class PeriodTotal:
    person_id: str
    period_key: str
    amount: Decimal
    currency: str
    lines: int


async def plan(session: AsyncSession, plan_id: str) -> Plan | None:
    return await session.get(Plan, plan_id)


async def plans_overlapping(
    session: AsyncSession, metric: str, first_day: date, last_day: date
) -> list[Plan]:
    """The plans of `metric` in force on some day from `first_day` to `last_day`."""
    rows = await session.execute(
        select(Plan).where(
            col(Plan.metric) == metric,
            col(Plan.effective_from) <= last_day,
            or_(col(Plan.effective_to).is_(None), col(Plan.effective_to) > first_day),
        )
    )
    return list(rows.scalars())


async def lock_periods(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> None:
    """Serialise the writers of each (person, period) until the transaction ends.
    Two replicas pricing the same person's deals (keyed by deal, so on different
    partitions) would otherwise each sum the period without the other's rows and
    both publish a total that is missing one of them. Taken in one order, so two
    batches cannot deadlock."""
    names = sorted({f"{person_id}:{period}" for person_id, period in keys})
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(name, 0))"
            " FROM (SELECT unnest(CAST(:names AS text[])) AS name ORDER BY 1) AS ordered"
        ),
        {"names": names},
    )


async def add_earnings(session: AsyncSession, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Insert the lines whose entry is not paid yet; the (person, period) of each inserted one."""
    if not rows:
        return set()
    table = Earning.__table__  # type: ignore[attr-defined]
    inserted = await session.execute(
        insert(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[table.c.entry_id])
        .returning(table.c.person_id, table.c.period_key)
    )
    return {(row.person_id, row.period_key) for row in inserted}


async def period_totals(session: AsyncSession, keys: set[tuple[str, str]]) -> list[PeriodTotal]:
    rows = await session.execute(
        select(
            col(Earning.person_id),
            col(Earning.period_key),
            func.sum(col(Earning.amount)),
            func.min(col(Earning.currency)),
            func.count(),
        )
        .where(tuple_(col(Earning.person_id), col(Earning.period_key)).in_(sorted(keys)))
        .group_by(col(Earning.person_id), col(Earning.period_key))
        .order_by(col(Earning.person_id), col(Earning.period_key))
    )
    return [PeriodTotal(*row) for row in rows]


async def earnings(session: AsyncSession, person_id: str, period_key: str) -> list[Earning]:
    rows = await session.execute(
        select(Earning)
        .where(col(Earning.person_id) == person_id, col(Earning.period_key) == period_key)
        .order_by(col(Earning.credited_on), col(Earning.entry_id))
    )
    return list(rows.scalars())
