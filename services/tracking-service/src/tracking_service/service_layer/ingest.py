"""Recording what a CRM tells us: each record's new state, the ledger rows it
causes and their `ActualRecorded` events, in the caller's unit of work. One
webhook and a batch of 10,000 take the same path, so they behave the same."""

import asyncio
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import uuid4

from prometheus_client import Counter

from attain_contracts import ActualRecorded
from attain_contracts.types import metric_kind, write_figure
from tracking_service.domain.directory import Directory
from tracking_service.domain.fx import MissingRate
from tracking_service.domain.ledger import (
    NEW_CUSTOMERS,
    CreditKey,
    CustomerDeal,
    LedgerKey,
    RecordState,
    change_reason,
    credits,
    new_customer_credits,
    rows_to_append,
)
from tracking_service.service_layer.records import BY_KIND, RecordIn
from tracking_service.service_layer.unit import Runtime, Unit
from tracking_service.store.ledger import NewEntry
from tracking_service.store.org import ANY_SOURCE
from tracking_service.store.tables import CrmRecord, WebhookDelivery

Status = Literal["accepted", "duplicate", "stale", "parked"]
RecordKey = tuple[str, str, str]  # source, kind, record id
MONEY_METRICS = frozenset({"revenue", "collections"})
ATTEMPTS = 3
CUSTOMERS_AT_ONCE = 1000
YIELD_EVERY = 250  # records
RECORDS = Counter(
    "attain_tracking_records_total",
    "CRM records received (webhooks, batches, imports), once committed, by kind (deal, ...) "
    "and status (accepted, duplicate, stale, parked)",
    ["kind", "status"],
)


@dataclass
class Outcome:
    kind: str
    record_id: str
    version: int
    status: Status
    parked_reason: str | None = None
    entries: list[str] = field(default_factory=list)


async def record(
    uow: Unit, source_id: str, records: Sequence[RecordIn], base_currency: str
) -> list[Outcome]:
    """Apply `records` (in any order; versions of one record may repeat) and return
    one outcome per record, in the order given. An owner id that names a person in
    this source (their CRM owner id, or e-mail) credits that person."""
    named = await uow.store.org.people_named(
        source_id, {person for item in records for person in item.credited_people()}
    )
    if named:
        records = [item.naming(named) for item in records]
    by_key: dict[RecordKey, list[tuple[int, RecordIn]]] = defaultdict(list)
    for index, item in enumerate(records):
        by_key[(source_id, item.kind, item.id)].append((index, item))
    await uow.store.org.lock(exclusive=False)
    stored = await uow.store.records.lock(list(by_key))
    new_keys = [key for key in by_key if key not in stored]
    # Whose first won deal these deals may change: their customers now and before.
    customers = _customers(by_key, stored)
    await uow.store.records.lock_customers(customers)
    people = {person for item in records for person in item.credited_people()}
    directory = await uow.store.org.directory(people)
    # The stored states' rates too: the change from a state is named by comparing
    # it in the base currency with the new one.
    stored_items = {key: BY_KIND[row.kind].model_validate(row.state) for key, row in stored.items()}
    needs = _rate_needs([*records, *stored_items.values()], base_currency)
    rates = await uow.store.rates.of(needs)
    held = await uow.store.ledger.held([key for key in by_key if key in stored])
    outcomes: dict[int, Outcome] = {}
    appended: list[NewEntry] = []
    changed: list[CrmRecord] = []
    versions: list[tuple[RecordKey, int, dict[str, Any]]] = []
    now = uow.clock.now()
    for done, (key, items) in enumerate(by_key.items()):
        if done and done % YIELD_EVERY == 0:
            # A batch is seconds of work without a query: let the event loop serve the
            # other requests and the consumers' heartbeats (a group that hears none for
            # its session timeout drops the member and rebalances).
            await asyncio.sleep(0)
        row = stored.get(key)
        last_state = (
            _state_of(row, stored_items[key], base_currency, rates) if row is not None else None
        )
        for index, item in sorted(items, key=lambda pair: pair[1].ordering_version()):
            version = item.ordering_version()
            if row is not None and version <= row.version:
                status: Status = "duplicate" if version == row.version else "stale"
                outcomes[index] = Outcome(item.kind, item.id, row.version, status)
                continue
            row = _apply_version(row, key, item, version, now)
            versions.append((key, version, row.state))
            changed.append(row)
            try:
                state = item.to_state(base_currency, rates)
            except MissingRate as missing:
                _park(row, missing)
                outcomes[index] = Outcome(item.kind, item.id, version, "parked", str(missing))
                continue
            entries = _credit(row, last_state, state, held[key], directory, base_currency, now)
            appended.extend(entries)
            last_state = state
            outcomes[index] = Outcome(
                item.kind, item.id, version, "accepted", entries=[str(e.id) for e in entries]
            )
    conflicts = await uow.store.records.save(changed, new_keys)
    if conflicts:
        # A concurrent delivery created one of these records first: undo nothing
        # here (nothing was written), just apply the whole batch again, now locked.
        raise ConcurrentCreation(conflicts)
    await uow.store.records.save_versions(versions, now)
    deals = {key: held[key] for key in by_key if key[1] == "deal"}
    appended.extend(await _credit_new_customers(uow, customers, deals, changed, base_currency))
    await append(uow, appended)
    return [outcomes[index] for index in range(len(records))]


async def credit_all_new_customers(uow: Unit, base_currency: str) -> int:
    """Every customer's `new_customers` credit set to its first won deal as recorded
    (deals recorded before new_customers was credited have none); returns the ledger
    rows appended. Recording waits meanwhile (the directory lock, exclusive)."""
    await uow.store.org.lock(exclusive=True)
    customers = await uow.store.records.customers()
    appended = 0
    for start in range(0, len(customers), CUSTOMERS_AT_ONCE):
        chunk = customers[start : start + CUSTOMERS_AT_ONCE]
        entries = await _credit_new_customers(uow, chunk, {}, [], base_currency)
        await append(uow, entries)
        appended += len(entries)
    return appended


def _customers(
    by_key: dict[RecordKey, list[tuple[int, RecordIn]]], stored: dict[RecordKey, CrmRecord]
) -> list[tuple[str, str]]:
    """(source, customer id) of every customer these deals name or named."""
    found: set[tuple[str, str]] = set()
    for key, items in by_key.items():
        if key[1] != "deal":
            continue
        named = [getattr(item, "customer_id", None) for _, item in items]
        if key in stored:
            named.append(stored[key].customer_id)
        found.update((key[0], customer) for customer in named if customer is not None)
    return sorted(found)


async def _credit_new_customers(
    uow: Unit,
    customers: Sequence[tuple[str, str]],
    batch: dict[RecordKey, dict[LedgerKey, Decimal]],
    changed: Sequence[CrmRecord],
    base_currency: str,
) -> list[NewEntry]:
    """Move each customer's `new_customers` credit to its first won deal as the records
    now stand (`domain.ledger.new_customer_credits`), the batch's deals (`batch`: what the
    ledger holds for each) and the customer's other deals alike. Runs under the
    customers' locks, after the batch's records are written."""
    if not customers:
        return []
    rows = {
        (row.source_id, row.kind, row.record_id): row
        for row in [*await uow.store.records.customer_deals(customers), *changed]
        if row.kind == "deal"
    }
    wanted = new_customer_credits(
        CustomerDeal(
            key, row.customer_id, row.status, row.closed_on, row.owner_id, row.product_line
        )
        for key, row in rows.items()
    )
    others = await uow.store.ledger.held([key for key in rows if key not in batch])
    directory = await uow.store.org.directory(
        {credit.person_id for credits in wanted.values() for credit in credits}
    )
    now = uow.clock.now()
    entries = []
    for key, row in sorted(rows.items()):
        holding = batch[key] if key in batch else others[key]
        held = {k: a for k, a in holding.items() if k.credit.metric == NEW_CUSTOMERS}
        wants = {
            LedgerKey(credit, directory.org_path_on(credit.person_id, credit.credited_on)): amount
            for credit, amount in wanted.get(key, {}).items()
        }
        for ledger_key, amount in rows_to_append(held, wants):
            reason = "new_customer" if amount > 0 else "not_first_deal"
            entries.append(
                ledger_entry(key, row.version, ledger_key, amount, reason, base_currency, now)
            )
    return entries


async def apply(
    runtime: Runtime,
    source_id: str,
    records: list[RecordIn],
    *,
    webhook_ids: Mapping[int, str] | None = None,
) -> list[Outcome]:
    """Record and commit. A batch that raced another creating the same record is
    applied again (it wrote nothing), now finding the record stored. `webhook_ids`
    (a record's index in `records` → the webhook message that carried it) are kept in
    the same transaction: a message already committed is answered as the duplicate of
    what it recorded, not applied again; one that failed left no trace and is applied
    when retried."""
    attempt = 1
    while True:
        try:
            async with runtime.unit_of_work() as uow:
                outcomes = await _record_new_messages(
                    uow, source_id, records, webhook_ids or {}, runtime.settings.base_currency
                )
                await uow.commit()
            for (kind, status), count in Tally((o.kind, o.status) for o in outcomes).items():
                RECORDS.labels(kind, status).inc(count)
            return outcomes
        except ConcurrentCreation:
            if attempt == ATTEMPTS:
                raise
            attempt += 1


async def _record_new_messages(
    uow: Unit,
    source_id: str,
    records: list[RecordIn],
    webhook_ids: Mapping[int, str],
    base_currency: str,
) -> list[Outcome]:
    known = await uow.store.sources.deliveries(source_id, sorted(set(webhook_ids.values())))
    fresh = [i for i in range(len(records)) if webhook_ids.get(i) not in known]
    recorded = await record(uow, source_id, [records[i] for i in fresh], base_currency)
    outcomes: dict[int, Outcome] = dict(zip(fresh, recorded, strict=True))
    for index, webhook_id in webhook_ids.items():
        if (found := known.get(webhook_id)) is not None:
            outcomes[index] = Outcome(found.kind, found.record_id, found.version, "duplicate")
    now = uow.clock.now()
    await uow.store.sources.remember_deliveries(
        [
            WebhookDelivery(
                source_id=source_id,
                webhook_id=webhook_id,
                kind=outcomes[index].kind,
                record_id=outcomes[index].record_id,
                version=outcomes[index].version,
                received_at=now,
            )
            for index, webhook_id in webhook_ids.items()
            if webhook_id not in known
        ]
    )
    return [outcomes[index] for index in range(len(records))]


class ConcurrentCreation(Exception):
    """Two deliveries created the same record at the same time; retry the later one."""

    def __init__(self, keys: Iterable[RecordKey]) -> None:
        super().__init__(f"created concurrently: {sorted(keys)}")


def _rate_needs(records: Iterable[RecordIn], base_currency: str) -> set[tuple[str, date]]:
    needs = set()
    for item in records:
        on, currency = item.credit_date(), getattr(item, "currency", base_currency)
        if on is not None and currency != base_currency:
            needs.add((currency, on))
    return needs


def _apply_version(
    row: CrmRecord | None, key: RecordKey, item: RecordIn, version: int, now: datetime
) -> CrmRecord:
    source_id, kind, record_id = key
    fields: dict[str, Any] = {
        "version": version,
        "status": item.status_name(),
        "amount": getattr(item, "amount", None),
        "currency": getattr(item, "currency", None),
        "owner_id": item.owner(),
        "product_line": getattr(item, "product_line", None),
        "customer_id": getattr(item, "customer_id", None),
        "created_on": getattr(item, "created_on", None),
        "closed_on": getattr(item, "closed_on", None),
        "expected_close_on": getattr(item, "expected_close_on", None),
        "state": item.model_dump(mode="json", exclude_none=True),
        "parked_reason": None,
        "parked_currency": None,
        "parked_on": None,
        "received_at": now,
    }
    if row is None:
        return CrmRecord(source_id=source_id, kind=kind, record_id=record_id, **fields)
    for name, value in fields.items():
        setattr(row, name, value)
    return row


def _park(row: CrmRecord, missing: MissingRate) -> None:
    row.parked_reason = str(missing)
    row.parked_currency = missing.currency
    row.parked_on = missing.on


def _state_of(
    row: CrmRecord, item: RecordIn, base_currency: str, rates: dict
) -> RecordState | None:
    """The state the ledger reflects for a stored record, to name the change; None
    when it was parked (the ledger then reflects an older state)."""
    if row.parked_reason is not None:
        return None
    try:
        return item.to_state(base_currency, rates)
    except MissingRate:
        return None


def _credit(
    row: CrmRecord,
    old: RecordState | None,
    new: RecordState,
    held: dict[LedgerKey, Decimal],
    directory: Directory,
    base_currency: str,
    now: datetime,
) -> list[NewEntry]:
    """Ledger rows that make what the record holds equal what `new` credits; `held`
    is updated in place so later versions in the same batch build on it."""
    wanted = {
        LedgerKey(key, directory.org_path_on(key.person_id, key.credited_on)): amount
        for key, amount in credits(new).items()
    }
    reason = change_reason(old, new)
    entries = []
    record_key = (row.source_id, row.kind, row.record_id)
    # `new_customers` depends on the customer's other deals: `_credit_new_customers`.
    own = {key: amount for key, amount in held.items() if key.credit.metric != NEW_CUSTOMERS}
    for key, amount in rows_to_append(own, wanted):
        entries.append(
            ledger_entry(record_key, row.version, key, amount, reason, base_currency, now)
        )
        held[key] = held.get(key, Decimal(0)) + amount
    return entries


async def repath(uow: Unit, person_ids: Sequence[str], base_currency: str) -> list[NewEntry]:
    """Move these people's credits to the org path in force on each credit date, as
    now known: a deal credited before tracking-service heard of its owner's team
    counts for that team once it has."""
    if not person_ids:
        return []
    directory = await uow.store.org.directory(person_ids)
    now = uow.clock.now()
    entries = []
    for (record_key, version), held in (await uow.store.ledger.held_by_person(person_ids)).items():
        wanted: dict[LedgerKey, Decimal] = defaultdict(Decimal)
        for key, amount in held.items():
            credit = key.credit
            wanted[
                LedgerKey(credit, directory.org_path_on(credit.person_id, credit.credited_on))
            ] += amount
        for key, amount in rows_to_append(held, wanted):
            entries.append(
                ledger_entry(record_key, version, key, amount, "repathed", base_currency, now)
            )
    await append(uow, entries)
    return entries


async def reassign(
    uow: Unit, aliases: Sequence[tuple[str, str, str]], base_currency: str
) -> list[NewEntry]:
    """Move the credits made to an owner id as sent to the person it now names
    (`aliases`: source id or any source, owner id or e-mail, person id): a deal that
    came before its owner's CRM id was known counts for them once it is."""
    targets = {(source, alias): person for source, alias, person in aliases}
    if not targets:
        return []
    held_by_record = await uow.store.ledger.held_by_person(sorted({a for _, a in targets}))
    directory = await uow.store.org.directory(set(targets.values()))
    now = uow.clock.now()
    entries = []
    for (record_key, version), held in held_by_record.items():
        wanted: dict[LedgerKey, Decimal] = defaultdict(Decimal)
        for key, amount in held.items():
            credit = key.credit
            person = targets.get((record_key[0], credit.person_id)) or targets.get(
                (ANY_SOURCE, credit.person_id)
            )
            if person is None:
                wanted[key] += amount
                continue
            moved = replace(credit, person_id=person)
            wanted[LedgerKey(moved, directory.org_path_on(person, moved.credited_on))] += amount
        for key, amount in rows_to_append(held, wanted):
            entries.append(
                ledger_entry(
                    record_key, version, key, amount, "owner_identified", base_currency, now
                )
            )
    await append(uow, entries)
    return entries


def ledger_entry(
    record_key: RecordKey,
    version: int,
    key: LedgerKey,
    amount: Decimal,
    reason: str,
    base_currency: str,
    now: datetime,
) -> NewEntry:
    credit: CreditKey = key.credit
    source_id, kind, record_id = record_key
    return NewEntry(
        id=uuid4(),
        source_id=source_id,
        record_kind=kind,
        record_id=record_id,
        metric=credit.metric,
        person_id=credit.person_id,
        org_path=list(key.org_path),
        product_line=credit.product_line,
        credited_on=credit.credited_on,
        amount=amount,
        currency=base_currency if credit.metric in MONEY_METRICS else None,
        reason=reason,
        record_version=version,
        recorded_at=now,
    )


async def append(uow: Unit, entries: Sequence[NewEntry]) -> None:
    """Append ledger rows with one `ActualRecorded` each."""
    await uow.store.ledger.append(entries)
    for entry in entries:
        uow.publish_json(ActualRecorded, entry.record_id, actual_recorded_json(entry))


def actual_recorded_json(entry: NewEntry) -> dict[str, Any]:
    """What `ActualRecorded(...).model_dump(mode="json")` gives for the entry, without
    building the model: a batch publishes tens of thousands (a test holds them equal)."""
    return {
        "entry_id": str(entry.id),
        "deal_id": entry.record_id,
        "record_kind": entry.record_kind,
        "source": entry.source_id,
        "metric": entry.metric,
        "person_id": entry.person_id,
        "org_path": entry.org_path,
        "product_line": entry.product_line,
        "credited_on": entry.credited_on.isoformat(),
        "amount": write_figure(entry.amount, metric_kind(entry.metric), entry.currency),
        "currency": entry.currency,
        "reason": entry.reason,
        "deal_version": entry.record_version,
        "recorded_at": entry.recorded_at.isoformat(),
        "record_id": entry.record_id,
        "record_version": entry.record_version,
    }


async def credit_parked(uow: Unit, arrived: Iterable[tuple[str, date]], base_currency: str) -> int:
    """Credit the records parked for want of one of these (currency, day) rates;
    returns how many were credited."""
    await uow.store.org.lock(exclusive=False)
    rows = await uow.store.records.parked_for(arrived)
    if not rows:
        return 0
    items = [BY_KIND[row.kind].model_validate(row.state) for row in rows]
    keys = [(row.source_id, row.kind, row.record_id) for row in rows]
    people = {person for item in items for person in item.credited_people()}
    directory = await uow.store.org.directory(people)
    rates = await uow.store.rates.of(_rate_needs(items, base_currency))
    held = await uow.store.ledger.held(keys)
    now = uow.clock.now()
    appended: list[NewEntry] = []
    credited = 0
    for row, item, key in zip(rows, items, keys, strict=True):
        try:
            state = item.to_state(base_currency, rates)
        except MissingRate as missing:
            _park(row, missing)
            continue
        row.parked_reason = row.parked_currency = None
        row.parked_on = None
        appended.extend(_credit(row, None, state, held[key], directory, base_currency, now))
        credited += 1
    await uow.store.records.flush()
    await append(uow, appended)
    return credited
