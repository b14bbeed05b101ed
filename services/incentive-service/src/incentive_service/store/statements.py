"""Statements as last priced, and the locks that serialise pricing them."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from incentive_service.store.base import Queries
from incentive_service.store.tables import Statement

Key = tuple[str, str]  # (person_id, period_key)


class StatementQueries(Queries):
    async def by_keys(self, keys: Collection[Key]) -> dict[Key, Statement]:
        held: dict[Key, Statement] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), 5_000):
            rows = await self.session.execute(
                select(Statement).where(
                    tuple_(col(Statement.person_id), col(Statement.period_key)).in_(
                        ordered[start : start + 5_000]
                    )
                )
            )
            for statement in rows.scalars():
                held[(statement.person_id, statement.period_key)] = statement
        return held

    async def get(self, person_id: str, period_key: str) -> Statement | None:
        return await self.session.get(Statement, (person_id, period_key))

    async def of_person(self, person_id: str) -> list[Statement]:
        rows = await self.session.execute(
            select(Statement)
            .where(col(Statement.person_id) == person_id)
            .order_by(col(Statement.period_start), col(Statement.period_key))
        )
        return list(rows.scalars())

    async def of_period(self, period_key: str) -> list[Statement]:
        rows = await self.session.execute(
            select(Statement)
            .where(col(Statement.period_key) == period_key)
            .order_by(col(Statement.person_id))
        )
        return list(rows.scalars())

    async def people_in(self, period_key: str) -> list[str]:
        rows = await self.session.execute(
            select(col(Statement.person_id)).where(col(Statement.period_key) == period_key)
        )
        return list(rows.scalars())

    async def open_keys(self, plan_id: str, person_ids: Collection[str]) -> list[Key]:
        """The open statements a plan priced, or that belong to people it now applies to."""
        rows = await self.session.execute(
            select(col(Statement.person_id), col(Statement.period_key)).where(
                col(Statement.status) == "open",
                or_(col(Statement.plan_id) == plan_id, col(Statement.person_id).in_(person_ids)),
            )
        )
        return [(person, period) for person, period in rows]

    async def open_of(self, person_ids: Collection[str]) -> list[Key]:
        """The open statements of these people."""
        if not person_ids:
            return []
        rows = await self.session.execute(
            select(col(Statement.person_id), col(Statement.period_key)).where(
                col(Statement.status) == "open", col(Statement.person_id).in_(person_ids)
            )
        )
        return [(person, period) for person, period in rows]

    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        """Store statements as priced now, replacing the ones held."""
        for start in range(0, len(rows), 1_000):
            stmt = insert(Statement).values(rows[start : start + 1_000])
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["person_id", "period_key"],
                    set_={
                        name: stmt.excluded[name]
                        for name in rows[0]
                        if name not in ("person_id", "period_key")
                    },
                )
            )

    async def close(self, period_key: str, closed_at: datetime) -> None:
        await self.session.execute(
            update(Statement)
            .where(col(Statement.period_key) == period_key)
            .values(status="closed", closed_at=closed_at)
        )

    async def lock(self, keys: Collection[Key]) -> None:
        """Serialise pricing of each statement: the repricer, a payout run and a close
        may price the same one at once. Taken in one order, so they cannot deadlock."""
        names = sorted(f"{person}:{period}" for person, period in keys)
        await self.session.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(name, 0))"
                " FROM (SELECT unnest(CAST(:names AS text[])) AS name ORDER BY 1) AS ordered"
            ),
            {"names": names},
        )
