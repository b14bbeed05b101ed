"""What an operator reads: how far live progress is behind the ledger, which
records wait for an FX rate, and a record's history."""

from dataclasses import dataclass

from servicekit.auth import Principal
from servicekit.errors import Missing
from tracking_service.service_layer.visibility import sees_record, visibility
from tracking_service.store import TrackingStore
from tracking_service.store.tables import CrmRecord, LedgerEntry, RecordVersion


async def projection_state(store: TrackingStore) -> dict[str, int]:
    return await store.projection.state()


async def parked_records(store: TrackingStore, limit: int) -> tuple[int, list[CrmRecord]]:
    """How many records are parked, and the first `limit` of them."""
    records = await store.records.parked(limit)
    return (await store.projection.state())["parked"], records


@dataclass(frozen=True)
class History:
    record: CrmRecord
    versions: list[RecordVersion]
    entries: list[LedgerEntry]


async def record_history(
    store: TrackingStore,
    principal: Principal,
    source_id: str,
    kind: str,
    record_id: str,
    *,
    named: str,
) -> History:
    """Every accepted version of the record and every ledger row it caused, oldest
    first; Missing (naming the record as `named`) when it is not the caller's to see."""
    record, versions, entries = await store.records.history(source_id, kind, record_id)
    seen = await visibility(store, principal)
    if record is None or not sees_record(principal, seen, record, entries):
        raise Missing(f"no {named} {record_id} from {source_id}")
    return History(record, versions, entries)
