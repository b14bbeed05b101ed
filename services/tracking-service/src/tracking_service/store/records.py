"""CRM records as their sources last told us, every version accepted, and the
records parked for want of an FX rate; batched so 10,000 records take a few statements."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracking_service.store.chunks import ROWS_A_PAGE, chunks
from tracking_service.store.tables import CrmRecord, LedgerEntry, RecordVersion

RecordKey = tuple[str, str, str]
_ORDER = (col(CrmRecord.source_id), col(CrmRecord.kind), col(CrmRecord.record_id))
# The advisory lock space of customers (the two-key form: apart from single-key locks).
CUSTOMER_LOCKS = 0x6E63


class Records:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, keys: Sequence[RecordKey]) -> dict[RecordKey, CrmRecord]:
        """The stored records among `keys`, locked until the transaction ends (in key
        order, so two batches never deadlock), so deliveries of one record apply one
        after the other."""
        found: dict[RecordKey, CrmRecord] = {}
        for chunk in chunks(sorted(keys)):
            rows = await self.session.execute(
                select(CrmRecord)
                .where(tuple_(*_ORDER).in_(chunk))
                .order_by(*_ORDER)
                .with_for_update()
            )
            for row in rows.scalars():
                found[(row.source_id, row.kind, row.record_id)] = row
        return found

    async def lock_customers(self, customers: Sequence[tuple[str, str]]) -> None:
        """Serialise the batches that change deals of the same customers (whose first won
        deal they may move), until the transaction ends; in order, so none deadlock."""
        if not customers:
            return
        await self.session.execute(
            text(
                """
                SELECT pg_advisory_xact_lock(:space, h) FROM (
                    SELECT DISTINCT hashtext(k) AS h FROM unnest(CAST(:keys AS text[])) AS k
                    ORDER BY h
                ) AS locks
                """
            ),
            {"space": CUSTOMER_LOCKS, "keys": [f"{s}\x1f{c}" for s, c in customers]},
        )

    async def customers(self) -> list[tuple[str, str]]:
        """(source, customer id) of every customer a deal names."""
        rows = await self.session.execute(
            select(col(CrmRecord.source_id), col(CrmRecord.customer_id))
            .where(col(CrmRecord.kind) == "deal", col(CrmRecord.customer_id).is_not(None))
            .distinct()
            .order_by(col(CrmRecord.source_id), col(CrmRecord.customer_id))
        )
        return [(source, customer) for source, customer in rows.all() if customer is not None]

    async def customer_deals(self, customers: Sequence[tuple[str, str]]) -> list[CrmRecord]:
        """Every deal of these (source, customer id) customers, as stored."""
        found: list[CrmRecord] = []
        for chunk in chunks(sorted(customers)):
            rows = await self.session.execute(
                select(CrmRecord).where(
                    col(CrmRecord.kind) == "deal",
                    tuple_(col(CrmRecord.source_id), col(CrmRecord.customer_id)).in_(chunk),
                )
            )
            found.extend(rows.scalars())
        return found

    async def save(
        self, changed: Sequence[CrmRecord], new_keys: Sequence[RecordKey]
    ) -> set[RecordKey]:
        """Insert the new records (the stored ones are updated on flush); returns the keys
        a concurrent transaction inserted first."""
        fresh = set(new_keys)
        rows = {
            (r.source_id, r.kind, r.record_id): r
            for r in changed
            if (r.source_id, r.kind, r.record_id) in fresh
        }
        inserted: set[RecordKey] = set()
        values = [row.model_dump() for row in rows.values()]
        # The table, not the model: the ORM's bulk insert spent more on each row than the row.
        table = CrmRecord.__table__  # type: ignore[attr-defined]
        key = (table.c.source_id, table.c.kind, table.c.record_id)
        for page in chunks(values, ROWS_A_PAGE):
            result = await self.session.execute(
                insert(table).on_conflict_do_nothing().returning(*key), list(page)
            )
            inserted.update((s, k, r) for s, k, r in result.all())
        await self.session.flush()
        return set(rows) - inserted

    async def flush(self) -> None:
        """Write the changes made to loaded records."""
        await self.session.flush()

    async def save_versions(
        self, versions: Sequence[tuple[RecordKey, int, dict[str, Any]]], now: datetime
    ) -> None:
        values = [
            {
                "source_id": source,
                "kind": kind,
                "record_id": record_id,
                "version": version,
                "payload": payload,
                "received_at": now,
            }
            for (source, kind, record_id), version, payload in versions
        ]
        if values:
            await self.session.execute(insert(RecordVersion).on_conflict_do_nothing(), values)

    async def parked_for(self, needs: Iterable[tuple[str, date]]) -> list[CrmRecord]:
        """Parked records waiting for one of these (currency, day) rates, locked."""
        pairs = sorted(set(needs))
        if not pairs:
            return []
        rows = await self.session.execute(
            select(CrmRecord)
            .where(
                col(CrmRecord.parked_reason).is_not(None),
                tuple_(col(CrmRecord.parked_currency), col(CrmRecord.parked_on)).in_(pairs),
            )
            .order_by(*_ORDER)
            .with_for_update()
        )
        return list(rows.scalars())

    async def parked(self, limit: int) -> list[CrmRecord]:
        """The records waiting for an FX rate, the longest-waiting rate first."""
        rows = await self.session.execute(
            select(CrmRecord)
            .where(col(CrmRecord.parked_reason).is_not(None))
            .order_by(col(CrmRecord.parked_on), col(CrmRecord.parked_currency), *_ORDER)
            .limit(limit)
        )
        return list(rows.scalars())

    async def history(
        self, source_id: str, kind: str, record_id: str
    ) -> tuple[CrmRecord | None, list[RecordVersion], list[LedgerEntry]]:
        key = (
            col(RecordVersion.source_id) == source_id,
            col(RecordVersion.kind) == kind,
            col(RecordVersion.record_id) == record_id,
        )
        versions = await self.session.execute(
            select(RecordVersion).where(*key).order_by(col(RecordVersion.version))
        )
        entries = await self.session.execute(
            select(LedgerEntry)
            .where(
                col(LedgerEntry.source_id) == source_id,
                col(LedgerEntry.record_kind) == kind,
                col(LedgerEntry.record_id) == record_id,
            )
            .order_by(col(LedgerEntry.seq))
        )
        record = await self.session.get(CrmRecord, (source_id, kind, record_id))
        return record, list(versions.scalars()), list(entries.scalars())
