"""Reads and writes of CRM records, the ledger and what crediting needs to know
(the directory, FX rates), batched so that 10,000 records take a few statements."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, insert, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracking_service.domain.directory import Directory, Stint
from tracking_service.domain.ledger import CreditKey, LedgerKey
from tracking_service.store.tables import (
    CrmRecord,
    FxRate,
    LedgerEntry,
    Membership,
    OrgUnit,
    ProjectionQueue,
    RecordVersion,
)

RecordKey = tuple[str, str, str]
T = TypeVar("T")
LEDGER_CHANNEL = "tracking_ledger"
# PostgreSQL takes at most 32,767 bind parameters per statement.
CHUNK = 2000


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Recording takes it shared, a directory change exclusive: a person heard of (and
# re-pathed) while a record crediting them is being written would otherwise miss
# that record's rows, and they would keep the path of a person not known yet.
DIRECTORY_LOCK = 0x7472_6163_6B00_0002


async def lock_directory(session: AsyncSession, *, exclusive: bool) -> None:
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(text(f"SELECT {function}(:key)"), {"key": DIRECTORY_LOCK})


async def lock_records(
    session: AsyncSession, keys: Sequence[RecordKey]
) -> dict[RecordKey, CrmRecord]:
    """The stored records among `keys`, locked until the transaction ends (in key
    order, so two batches never deadlock), so deliveries of one record apply one
    after the other."""
    found: dict[RecordKey, CrmRecord] = {}
    for chunk in _chunks(sorted(keys)):
        rows = await session.execute(
            select(CrmRecord)
            .where(
                tuple_(col(CrmRecord.source_id), col(CrmRecord.kind), col(CrmRecord.record_id)).in_(
                    chunk
                )
            )
            .order_by(col(CrmRecord.source_id), col(CrmRecord.kind), col(CrmRecord.record_id))
            .with_for_update()
        )
        for row in rows.scalars():
            found[(row.source_id, row.kind, row.record_id)] = row
    return found


async def directory(session: AsyncSession, person_ids: Iterable[str]) -> Directory:
    stints: dict[str, list[Stint]] = defaultdict(list)
    units: set[str] = set()
    for chunk in _chunks(sorted(set(person_ids))):
        rows = await session.execute(select(Membership).where(col(Membership.person_id).in_(chunk)))
        for m in rows.scalars():
            stints[m.person_id].append(Stint(m.org_unit_id, m.valid_from, m.valid_to))
            units.add(m.org_unit_id)
    paths: dict[str, tuple[str, ...]] = {}
    for chunk in _chunks(sorted(units)):
        units_found = await session.execute(
            select(col(OrgUnit.id), col(OrgUnit.path)).where(col(OrgUnit.id).in_(chunk))
        )
        paths.update({unit_id: tuple(path) for unit_id, path in units_found.all()})
    return Directory(dict(stints), paths)


async def rates(
    session: AsyncSession, needs: set[tuple[str, date]]
) -> dict[tuple[str, date], Decimal]:
    found: dict[tuple[str, date], Decimal] = {}
    for chunk in _chunks(sorted(needs)):
        rows = await session.execute(
            select(col(FxRate.currency), col(FxRate.on), col(FxRate.rate)).where(
                tuple_(col(FxRate.currency), col(FxRate.on)).in_(chunk)
            )
        )
        found.update({(currency, on): rate for currency, on, rate in rows.all()})
    return found


_HOLDING = (
    col(LedgerEntry.source_id),
    col(LedgerEntry.record_kind),
    col(LedgerEntry.record_id),
    col(LedgerEntry.metric),
    col(LedgerEntry.person_id),
    col(LedgerEntry.credited_on),
    col(LedgerEntry.product_line),
    col(LedgerEntry.org_path),
)


async def _net_holdings(
    session: AsyncSession, condition: ColumnElement[bool]
) -> list[tuple[RecordKey, int, LedgerKey, Decimal]]:
    """(record, latest version credited, where it counts, net amount) of the ledger
    rows meeting `condition`, leaving out what nets to zero."""
    total = func.sum(col(LedgerEntry.amount))
    rows = await session.execute(
        select(*_HOLDING, total, func.max(col(LedgerEntry.record_version)))
        .where(condition)
        .group_by(*_HOLDING)
        .having(total != 0)
    )
    return [
        (
            (source, kind, record_id),
            version,
            LedgerKey(CreditKey(metric, person, on, line), tuple(path)),
            Decimal(amount),
        )
        for source, kind, record_id, metric, person, on, line, path, amount, version in rows.all()
    ]


async def held(
    session: AsyncSession, keys: Sequence[RecordKey]
) -> defaultdict[RecordKey, dict[LedgerKey, Decimal]]:
    """What the ledger holds for each record, net, by where it counts."""
    holdings: defaultdict[RecordKey, dict[LedgerKey, Decimal]] = defaultdict(dict)
    record = tuple_(*_HOLDING[:3])
    for chunk in _chunks(sorted(keys)):
        for record_key, _, key, amount in await _net_holdings(session, record.in_(chunk)):
            holdings[record_key][key] = amount
    return holdings


async def held_by_person(
    session: AsyncSession, person_ids: Sequence[str]
) -> dict[tuple[RecordKey, int], dict[LedgerKey, Decimal]]:
    """What the ledger holds, by record and its latest version credited, of every
    record crediting these people."""
    holdings: dict[tuple[RecordKey, int], dict[LedgerKey, Decimal]] = defaultdict(dict)
    condition = col(LedgerEntry.person_id).in_(person_ids)
    for record_key, version, key, amount in await _net_holdings(session, condition):
        holdings[(record_key, version)][key] = amount
    return holdings


async def save_records(
    session: AsyncSession, changed: Sequence[CrmRecord], new_keys: Sequence[RecordKey]
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
    for chunk in _chunks(values, CHUNK // 2):
        result = await session.execute(
            pg_insert(CrmRecord)
            .values(list(chunk))
            .on_conflict_do_nothing()
            .returning(col(CrmRecord.source_id), col(CrmRecord.kind), col(CrmRecord.record_id))
        )
        inserted.update((s, k, r) for s, k, r in result.all())
    await session.flush()
    return set(rows) - inserted


async def save_versions(
    session: AsyncSession, versions: Sequence[tuple[RecordKey, int, dict[str, Any]]], now: datetime
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
    for chunk in _chunks(values, CHUNK // 3):
        await session.execute(pg_insert(RecordVersion).values(list(chunk)).on_conflict_do_nothing())


async def append(session: AsyncSession, entries: Sequence[LedgerEntry]) -> None:
    """Append ledger rows and queue them for the projector, which is woken on commit."""
    if not entries:
        return
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": LEDGER_CHANNEL})
    values = [entry.model_dump(exclude={"seq"}) for entry in entries]
    for chunk in _chunks(values, CHUNK // 8):
        result = await session.execute(
            insert(LedgerEntry).values(list(chunk)).returning(col(LedgerEntry.seq))
        )
        seqs = [{"entry_seq": seq} for (seq,) in result.all()]
        await session.execute(insert(ProjectionQueue), seqs)


async def parked(session: AsyncSession, needs: Iterable[tuple[str, date]]) -> list[CrmRecord]:
    """Parked records waiting for one of these (currency, day) rates, locked."""
    pairs = sorted(set(needs))
    if not pairs:
        return []
    rows = await session.execute(
        select(CrmRecord)
        .where(
            col(CrmRecord.parked_reason).is_not(None),
            tuple_(col(CrmRecord.parked_currency), col(CrmRecord.parked_on)).in_(pairs),
        )
        .order_by(col(CrmRecord.source_id), col(CrmRecord.kind), col(CrmRecord.record_id))
        .with_for_update()
    )
    return list(rows.scalars())
