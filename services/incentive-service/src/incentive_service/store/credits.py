"""The credits kept from the actuals ledger, and the sums pricing and standings read."""

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from incentive_service.store.base import Queries
from incentive_service.store.tables import Credit


class CreditQueries(Queries):
    async def add(self, rows: list[dict[str, Any]]) -> Sequence[Any]:
        """Insert the ledger rows not yet held; each inserted one's person, day and org path."""
        if not rows:
            return []
        inserted = await self.session.execute(
            insert(Credit)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[col(Credit.entry_id)])
            .returning(col(Credit.person_id), col(Credit.credited_on), col(Credit.org_path))
        )
        return inserted.all()

    async def of_people(
        self, person_ids: Collection[str], metrics: Collection[str], first: date, last: date
    ) -> Sequence[Any]:
        rows = await self.session.execute(
            select(
                col(Credit.person_id),
                col(Credit.metric),
                col(Credit.entry_id),
                col(Credit.deal_id),
                col(Credit.credited_on),
                col(Credit.amount),
                col(Credit.product_line),
                col(Credit.recorded_at),
                col(Credit.seq),
            ).where(
                col(Credit.person_id).in_(person_ids),
                col(Credit.metric).in_(metrics),
                col(Credit.credited_on) >= first,
                col(Credit.credited_on) <= last,
            )
        )
        return rows.all()

    async def contributions(
        self, unit_ids: Collection[str], metric: str, first: date, last: date
    ) -> dict[str, dict[str, Decimal]]:
        """Each unit's credited amount per person over its subtree: a team goal's actual."""
        org_path = Credit.__table__.c.org_path  # type: ignore[attr-defined]
        unit = func.unnest(col(Credit.org_path)).table_valued("unit").alias("unit")
        rows = await self.session.execute(
            select(unit.c.unit, col(Credit.person_id), func.sum(col(Credit.amount)))
            .select_from(Credit)
            .join(unit, text("true"))
            .where(
                unit.c.unit.in_(unit_ids),
                org_path.overlap(list(unit_ids)),
                col(Credit.metric) == metric,
                col(Credit.credited_on) >= first,
                col(Credit.credited_on) <= last,
            )
            .group_by(unit.c.unit, col(Credit.person_id))
        )
        sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for unit_id, person_id, amount in rows:
            sums[unit_id][person_id] = amount
        return sums

    async def totals_by_person(
        self, person_ids: Collection[str], metric: str, first: date, last: date
    ) -> dict[str, Decimal]:
        rows = await self.session.execute(
            select(col(Credit.person_id), func.sum(col(Credit.amount)))
            .where(
                col(Credit.person_id).in_(person_ids),
                col(Credit.metric) == metric,
                col(Credit.credited_on) >= first,
                col(Credit.credited_on) <= last,
            )
            .group_by(col(Credit.person_id))
        )
        return {person_id: amount for person_id, amount in rows}

    async def credited_months(self, person_ids: Collection[str]) -> list[tuple[str, date]]:
        """The first day of every month in which each person has credits."""
        month = func.date_trunc("month", col(Credit.credited_on)).cast(Date)
        rows = await self.session.execute(
            select(col(Credit.person_id), month)
            .where(col(Credit.person_id).in_(person_ids))
            .distinct()
        )
        return [(person, day) for person, day in rows]

    async def last_seq(self) -> int:
        found = await self.session.execute(select(func.coalesce(func.max(col(Credit.seq)), 0)))
        return int(found.scalar_one() or 0)
