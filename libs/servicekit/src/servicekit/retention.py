"""Retention: the outbox and the inbox of a service are pruned, so they do not grow for ever.
`create_service_app` runs `prune_on_schedule` in every service that has a database.

What goes: outbox rows published more than `retention_days` ago, and inbox rows received more
than `retention_days` ago. Nothing else, ever: an unpublished outbox row is an event still owed
to the broker, however old, and the ledger and every version history are the record itself.

Why the inbox must remember at least as long as the topics do (`TopicSettings.retention_ms`,
7 days, like `retention_days` by default). The inbox is what makes a redelivered event change
nothing, and any record still on a topic can be delivered again: a consumer group reset to the
earliest offset, a new group reading from the start, offsets lost in a rebalance. An inbox row
pruned while its event is still on the topic lets that redelivery apply the event a second time.
So `retention_days` must not be set below the topics' retention; the setting refuses less than a
day, and an operator who shortens the topics' retention may shorten it as far.

Dead letters stay 30 days, longer than the inbox: a replay (servicekit.deadletters) puts an event
back on its original topic weeks later, when the other groups reading that topic may have pruned
their inbox rows of it. That is why a replayed record names the one group it is for, and every
other group ignores it (servicekit.consumer); the group it is for never applied it (the failed
transaction rolled its inbox row back too), and its inbox absorbs a replay done twice.

How: one replica runs it (a session-level advisory lock keyed by the schema, tried without
waiting: the others skip this run), and it deletes in batches of `retention_batch_size` rows,
each its own statement and transaction, so no lock is held long and the write-ahead log grows in
small steps that replicas and backups keep up with."""

import asyncio
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import Delete, Table, delete, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from servicekit import metrics
from servicekit.db import MessagingTables
from servicekit.settings import ServiceSettings

log = structlog.get_logger()

# Soon after start, yet not in the same second as the migrations, consumers catching up and
# the other replicas starting.
FIRST_RUN_DELAY_SECONDS = 30.0


@dataclass(frozen=True)
class Pruned:
    outbox: int
    inbox: int


async def prune_on_schedule(
    engine: AsyncEngine, tables: MessagingTables, settings: ServiceSettings, stop: asyncio.Event
) -> None:
    """Prune every `retention_interval_seconds` until `stop`."""
    for table in (tables.outbox, tables.inbox):  # exported from the start, at 0
        metrics.RETENTION_DELETED_ROWS.labels(settings.service_name, table.name)
    interval = settings.retention_interval_seconds
    wait = min(FIRST_RUN_DELAY_SECONDS, interval)
    while not await _stopped_within(stop, wait):
        await prune(
            engine,
            tables,
            service=settings.service_name,
            older_than=timedelta(days=settings.retention_days),
            batch_size=settings.retention_batch_size,
        )
        wait = interval


async def prune(
    engine: AsyncEngine,
    tables: MessagingTables,
    *,
    service: str,
    older_than: timedelta,
    batch_size: int,
) -> Pruned | None:
    """Delete what is older than `older_than`; None when another replica is pruning."""
    started = time.perf_counter()
    lock = f"attain.retention:{tables.schema}"
    async with engine.connect() as conn:
        if not await _try_lock(conn, lock):
            log.info("retention.skipped", service=service, reason="another replica is pruning")
            return None
        try:
            # The database's clock, the one that stamped published_at and received_at.
            cutoff = (await conn.execute(select(func.now()))).scalar_one() - older_than
            await conn.commit()
            outbox, inbox = tables.outbox, tables.inbox
            published = await _delete_in_batches(
                conn,
                service,
                outbox,
                delete(outbox).where(
                    outbox.c.id.in_(
                        # In seq order, along its index: the oldest rows, the ones to go, come
                        # first, so a batch stops after `batch_size` of them instead of scanning.
                        select(outbox.c.id)
                        .where(outbox.c.published_at < cutoff)
                        .order_by(outbox.c.seq)
                        .limit(batch_size)
                    )
                ),
                batch_size,
            )
            received = await _delete_in_batches(
                conn,
                service,
                inbox,
                delete(inbox).where(
                    tuple_(inbox.c.consumer_group, inbox.c.event_id).in_(
                        select(inbox.c.consumer_group, inbox.c.event_id)
                        .where(inbox.c.received_at < cutoff)
                        .limit(batch_size)
                    )
                ),
                batch_size,
            )
        except BaseException:
            # Closing the connection ends its session and the lock with it; returned to the
            # pool still holding the lock, it would keep every replica from pruning.
            await conn.invalidate()
            raise
        await _unlock(conn, lock)
    log.info(
        "retention.pruned",
        service=service,
        schema=tables.schema,
        older_than=cutoff.isoformat(),
        outbox=published,
        inbox=received,
        seconds=round(time.perf_counter() - started, 3),
    )
    return Pruned(outbox=published, inbox=received)


async def _delete_in_batches(
    conn: AsyncConnection,
    service: str,
    table: Table,
    batch: Delete,
    batch_size: int,
) -> int:
    """Run `batch` (a DELETE of at most `batch_size` rows), one transaction each time, until
    it deletes fewer: what is left is younger than the cutoff."""
    total = 0
    while True:
        deleted = (await conn.execute(batch)).rowcount
        await conn.commit()
        metrics.RETENTION_DELETED_ROWS.labels(service, table.name).inc(deleted)
        total += deleted
        if deleted < batch_size:
            return total


async def _try_lock(conn: AsyncConnection, name: str) -> bool:
    locked = await conn.scalar(
        text("SELECT pg_try_advisory_lock(hashtextextended(:name, 0))"), {"name": name}
    )
    await conn.commit()
    return bool(locked)


async def _unlock(conn: AsyncConnection, name: str) -> None:
    await conn.execute(
        text("SELECT pg_advisory_unlock(hashtextextended(:name, 0))"), {"name": name}
    )
    await conn.commit()


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()
