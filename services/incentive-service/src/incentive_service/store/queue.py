"""The reprice queue: statements marked to be priced again by the repricer."""

from collections.abc import Iterable

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from incentive_service.store.base import Queries
from incentive_service.store.tables import RepriceQueue
from servicekit.wakeup import notify

REPRICE_CHANNEL = "incentive_reprice"


class QueueQueries(Queries):
    async def enqueue(self, keys: Iterable[tuple[str, str]]) -> int:
        """Mark statements to price again; a NOTIFY wakes the repricer on commit."""
        rows = [{"person_id": person, "period_key": period} for person, period in sorted(set(keys))]
        if not rows:
            return 0
        for start in range(0, len(rows), 5_000):
            await self.session.execute(
                insert(RepriceQueue).values(rows[start : start + 5_000]).on_conflict_do_nothing()
            )
        await notify(self.session, REPRICE_CHANNEL)
        return len(rows)

    async def claim(self, limit: int) -> list[tuple[str, str]]:
        """Take up to `limit` queued statements; another replica skips the ones taken."""
        queued = (
            select(col(RepriceQueue.person_id), col(RepriceQueue.period_key))
            .order_by(col(RepriceQueue.period_key), col(RepriceQueue.person_id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self.session.execute(
            delete(RepriceQueue)
            .where(tuple_(col(RepriceQueue.person_id), col(RepriceQueue.period_key)).in_(queued))
            .returning(col(RepriceQueue.person_id), col(RepriceQueue.period_key))
        )
        return sorted((person, period) for person, period in rows)

    async def queued(self) -> int:
        """Statements waiting to be priced again."""
        return int(await self.session.scalar(select(func.count()).select_from(RepriceQueue)) or 0)
