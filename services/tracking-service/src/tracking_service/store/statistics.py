"""Ledger aggregates over an org unit's subtree and a window of credit dates."""

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracking_service.store.tables import LedgerEntry


def _in_subtree(org_unit_id: str, start: date, end: date) -> list[ColumnElement[bool]]:
    return [
        col(LedgerEntry.org_path).contains([org_unit_id]),
        col(LedgerEntry.credited_on) >= start,
        col(LedgerEntry.credited_on) <= end,
    ]


class Statistics:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def totals(self, org_unit_id: str, start: date, end: date) -> dict[str, Decimal]:
        rows = await self.session.execute(
            select(col(LedgerEntry.metric), func.sum(col(LedgerEntry.amount)))
            .where(*_in_subtree(org_unit_id, start, end))
            .group_by(col(LedgerEntry.metric))
        )
        return {metric: Decimal(amount) for metric, amount in rows.all()}

    async def by_child(
        self, org_unit_id: str, depth: int, metric: str, start: date, end: date
    ) -> dict[str, Decimal]:
        """Per org unit one level below (the unit at `depth` + 1 on the path, 1-based)."""
        child = col(LedgerEntry.org_path)[depth + 1]
        rows = await self.session.execute(
            select(child, func.sum(col(LedgerEntry.amount)))
            .where(
                *_in_subtree(org_unit_id, start, end),
                col(LedgerEntry.metric) == metric,
                child.is_not(None),
            )
            .group_by(child)
        )
        return {unit: Decimal(amount) for unit, amount in rows.all()}

    async def by_person(
        self, org_unit_id: str, metric: str, start: date, end: date
    ) -> dict[str, Decimal]:
        return await self._sum_by(col(LedgerEntry.person_id), org_unit_id, metric, start, end)

    async def by_product_line(
        self, org_unit_id: str, metric: str, start: date, end: date
    ) -> dict[str, Decimal]:
        """Credits without a product line are left out."""
        line = col(LedgerEntry.product_line)
        sums = await self._sum_by(line, org_unit_id, metric, start, end)
        return {key: amount for key, amount in sums.items() if key is not None}

    async def _sum_by(
        self,
        column: Any,
        org_unit_id: str,
        metric: str,
        start: date,
        end: date,
    ) -> dict[str, Decimal]:
        rows = await self.session.execute(
            select(column, func.sum(col(LedgerEntry.amount)))
            .where(*_in_subtree(org_unit_id, start, end), col(LedgerEntry.metric) == metric)
            .group_by(column)
        )
        return {key: Decimal(amount) for key, amount in rows.all()}

    async def by_month(
        self, org_unit_id: str, metric: str, start: date, end: date
    ) -> dict[str, Decimal]:
        month = func.to_char(col(LedgerEntry.credited_on), "YYYY-MM")
        rows = await self.session.execute(
            select(month, func.sum(col(LedgerEntry.amount)))
            .where(*_in_subtree(org_unit_id, start, end), col(LedgerEntry.metric) == metric)
            .group_by(month)
            .order_by(month)
        )
        return {key: Decimal(amount) for key, amount in rows.all()}
