"""Adjustments: a closed statement's restated difference, carried into a later period."""

from collections import defaultdict
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import and_, func, select, tuple_
from sqlmodel import col

from incentive_service.store.base import Queries
from incentive_service.store.tables import Adjustment

Key = tuple[str, str]  # (person_id, period_key)


class AdjustmentQueries(Queries):
    async def into(self, keys: Collection[Key]) -> dict[Key, list[Adjustment]]:
        found: dict[Key, list[Adjustment]] = defaultdict(list)
        if not keys:
            return found
        rows = await self.session.execute(
            select(Adjustment)
            .where(
                tuple_(col(Adjustment.person_id), col(Adjustment.target_period_key)).in_(
                    sorted(keys)
                )
            )
            .order_by(col(Adjustment.id))
        )
        for adjustment in rows.scalars():
            found[(adjustment.person_id, adjustment.target_period_key)].append(adjustment)
        return found

    async def carried_out(self, keys: Collection[Key]) -> dict[Key, Decimal]:
        """What has been carried out of each closed (person, period) so far."""
        if not keys:
            return {}
        rows = await self.session.execute(
            select(
                col(Adjustment.person_id),
                col(Adjustment.source_period_key),
                func.sum(col(Adjustment.amount)),
            )
            .where(
                tuple_(col(Adjustment.person_id), col(Adjustment.source_period_key)).in_(
                    sorted(keys)
                )
            )
            .group_by(col(Adjustment.person_id), col(Adjustment.source_period_key))
        )
        return {(person, period): amount for person, period, amount in rows}

    async def named_entries(self, keys: Collection[Key]) -> dict[Key, set[str]]:
        """The ledger rows each closed (person, period)'s adjustments have named so far."""
        named: dict[Key, set[str]] = defaultdict(set)
        if not keys:
            return named
        rows = await self.session.execute(
            select(
                col(Adjustment.person_id), col(Adjustment.source_period_key), col(Adjustment.deals)
            ).where(
                tuple_(col(Adjustment.person_id), col(Adjustment.source_period_key)).in_(
                    sorted(keys)
                )
            )
        )
        for person, period, deals in rows:
            for deal in deals:
                named[(person, period)].update(deal.get("entries", ()))
        return named

    async def out_of(self, person_id: str, period_key: str) -> list[Adjustment]:
        rows = await self.session.execute(
            select(Adjustment)
            .where(
                and_(
                    col(Adjustment.person_id) == person_id,
                    col(Adjustment.source_period_key) == period_key,
                )
            )
            .order_by(col(Adjustment.id))
        )
        return list(rows.scalars())

    async def add(self, adjustments: Collection[Adjustment]) -> None:
        self.session.add_all(adjustments)
        await self.session.flush()
