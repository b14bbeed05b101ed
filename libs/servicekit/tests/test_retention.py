"""Retention (servicekit.retention) against a real PostgreSQL: what is old and done goes, in
batches, under the one-replica lock; nothing unpublished and nothing but the two messaging
tables is ever touched."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from kit_support import Store, create_store, eventually, unique
from pydantic import ValidationError
from sqlalchemy import event, func, select, text

from attain_devstack.testing import running
from servicekit import metrics
from servicekit.app import create_service_app
from servicekit.retention import prune
from servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration

WEEK = timedelta(days=7)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = await create_store(database_url, unique("ret"))
    yield store
    await store.engine.dispose()


def ago(**how_long: float) -> datetime:
    return datetime.now(UTC) - timedelta(**how_long)


async def add_outbox(
    store: Store, count: int, *, published: datetime | None, created: datetime
) -> None:
    """`count` outbox rows created then, and published then (or not: None)."""
    outbox = store.tables.outbox
    async with store.engine.begin() as conn:
        await conn.execute(
            outbox.insert(),
            [
                {
                    "id": uuid4(),
                    "aggregatetype": "probe",
                    "aggregateid": "k",
                    "type": "attain.test.Probe.v1",
                    "topic": "nowhere",
                    "payload": {},
                    "created_at": created,
                    "published_at": published,
                }
                for _ in range(count)
            ],
        )


async def add_inbox(store: Store, count: int, *, received: datetime, group: str = "g") -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            store.tables.inbox.insert(),
            [
                {
                    "consumer_group": group,
                    "event_id": uuid4(),
                    "event_type": "attain.test.Probe.v1",
                    "received_at": received,
                }
                for _ in range(count)
            ],
        )


async def add_tally(store: Store, count: int) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            store.tally.insert(),
            [{"probe_id": str(n), "key": "k", "amount": n} for n in range(count)],
        )


async def outbox_rows(store: Store) -> dict[str, int]:
    """How many outbox rows are published and how many are not."""
    outbox = store.tables.outbox
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.published_at.is_(None).label("unpublished"), func.count()).group_by(
                text("1")
            )
        )
        return {("unpublished" if unpublished else "published"): n for unpublished, n in rows}


def deleted_rows(service: str, table: str) -> float:
    for metric in metrics.RETENTION_DELETED_ROWS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels == {
                "service": service,
                "table": table,
            }:
                return sample.value
    return 0.0


async def test_old_published_and_received_rows_go_and_everything_else_stays(store: Store) -> None:
    await add_outbox(store, 3, published=ago(days=8), created=ago(days=8))
    await add_outbox(store, 2, published=ago(days=1), created=ago(days=9))  # published late: recent
    await add_outbox(store, 4, published=None, created=ago(days=30))  # still owed to the broker
    await add_inbox(store, 5, received=ago(days=8))
    await add_inbox(store, 6, received=ago(days=6))
    await add_tally(store, 7)
    service = unique("svc")

    pruned = await prune(
        store.engine, store.tables, service=service, older_than=WEEK, batch_size=100
    )

    assert pruned is not None and (pruned.outbox, pruned.inbox) == (3, 5)
    assert await outbox_rows(store) == {"published": 2, "unpublished": 4}
    assert await store.count(store.tables.inbox) == 6
    assert await store.count(store.tally) == 7
    assert (deleted_rows(service, "outbox"), deleted_rows(service, "inbox")) == (3, 5)


async def test_more_rows_than_a_batch_go_in_several_statements_of_at_most_a_batch(
    store: Store,
) -> None:
    await add_outbox(store, 2_300, published=ago(days=10), created=ago(days=10))
    await add_inbox(store, 2_100, received=ago(days=10))
    await add_inbox(store, 10, received=ago(hours=1))
    deletes: list[int] = []

    def count_deletes(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(cursor.rowcount)

    event.listen(store.engine.sync_engine, "after_cursor_execute", count_deletes)
    pruned = await prune(
        store.engine, store.tables, service=unique("svc"), older_than=WEEK, batch_size=1_000
    )

    assert pruned is not None and (pruned.outbox, pruned.inbox) == (2_300, 2_100)
    assert deletes == [1_000, 1_000, 300, 1_000, 1_000, 100]
    assert await store.count(store.tables.outbox) == 0
    assert await store.count(store.tables.inbox) == 10


async def test_a_replica_that_finds_the_lock_taken_skips_and_other_schemas_are_not_blocked(
    store: Store, database_url: str
) -> None:
    other = await create_store(database_url, unique("ret"))
    try:
        for each in (store, other):
            await add_inbox(each, 4, received=ago(days=8))
        lock = f"attain.retention:{store.tables.schema}"
        async with store.engine.connect() as replica:  # another replica, pruning right now
            held = await replica.scalar(
                text("SELECT pg_try_advisory_lock(hashtextextended(:name, 0))"), {"name": lock}
            )
            assert held
            skipped = await prune(
                store.engine, store.tables, service="svc", older_than=WEEK, batch_size=10
            )
            elsewhere = await prune(
                other.engine, other.tables, service="svc", older_than=WEEK, batch_size=10
            )
            assert skipped is None
            assert await store.count(store.tables.inbox) == 4
            assert elsewhere is not None and elsewhere.inbox == 4
            await replica.execute(
                text("SELECT pg_advisory_unlock(hashtextextended(:name, 0))"), {"name": lock}
            )
        after = await prune(
            store.engine, store.tables, service="svc", older_than=WEEK, batch_size=10
        )
        assert after is not None and after.inbox == 4
        # The lock was let go: the next run is not skipped.
        assert await prune(
            store.engine, store.tables, service="svc", older_than=WEEK, batch_size=10
        )
    finally:
        await other.engine.dispose()


async def test_every_service_app_prunes_on_its_schedule(
    store: Store, database_url: str, kafka_bootstrap: str
) -> None:
    await add_inbox(store, 3, received=ago(days=8))
    await add_inbox(store, 2, received=ago(minutes=1))
    settings = ServiceSettings(
        service_name=unique("svc"),
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        retention_interval_seconds=0.2,
    )
    app = create_service_app(title="retention", settings=settings, tables=store.tables)
    async with running(app):

        async def pruned() -> bool:
            return await store.count(store.tables.inbox) == 2

        await eventually(pruned, timeout=20)
    assert deleted_rows(settings.service_name, "inbox") == 3


def test_retention_shorter_than_a_day_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTAIN_RETENTION_DAYS", "0")
    with pytest.raises(ValidationError, match="retention_days"):
        ServiceSettings()
    monkeypatch.setenv("ATTAIN_RETENTION_DAYS", "30")
    assert ServiceSettings().retention_days == 30
