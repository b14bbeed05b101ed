"""Recognition: badges awarded, growth scores managers enter, and scorecard weights."""

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from incentive_service.store.base import Queries
from incentive_service.store.tables import Badge, GrowthScore, ScorecardWeights


class BadgeQueries(Queries):
    async def award(self, rows: list[dict[str, Any]]) -> list[Badge]:
        """Insert the badges not yet awarded; the ones inserted now."""
        if not rows:
            return []
        inserted = await self.session.execute(
            insert(Badge)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[col(Badge.badge_id)])
            .returning(Badge)
        )
        return list(inserted.scalars())

    async def of_person(self, person_id: str) -> list[Badge]:
        rows = await self.session.execute(
            select(Badge)
            .where(col(Badge.person_id) == person_id)
            .order_by(col(Badge.awarded_at), col(Badge.badge_id))
        )
        return list(rows.scalars())


class ScorecardQueries(Queries):
    async def growth(self, person_id: str, period_key: str) -> GrowthScore | None:
        return await self.session.get(GrowthScore, (person_id, period_key))

    async def weights(self, unit_id: str) -> ScorecardWeights | None:
        return await self.session.get(ScorecardWeights, unit_id)

    async def weights_of(self, unit_ids: Collection[str]) -> dict[str, ScorecardWeights]:
        rows = await self.session.execute(
            select(ScorecardWeights).where(col(ScorecardWeights.org_unit_id).in_(unit_ids))
        )
        return {weights.org_unit_id: weights for weights in rows.scalars()}

    async def add(self, row: GrowthScore | ScorecardWeights) -> None:
        self.session.add(row)
