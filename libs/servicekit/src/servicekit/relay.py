"""The outbox relay: publishes every unpublished outbox row, in the order rows
were written, with `acks=all`, and marks them sent. It wakes on the NOTIFY a
committing unit of work sends and polls as a fallback, so rows left behind by a
crash (or a missed notification) are always picked up. Rows are claimed with
`FOR UPDATE SKIP LOCKED`, so several replicas never publish the same row at once.
Delivery is at least once: a crash after publishing and before marking re-sends
the row, and consumers drop the duplicate through their inbox. A producer that
that cannot send again (`kafka.must_be_renewed`: failed for good, or an idempotent one whose
send failed) is replaced by a new one from `new_producer`, so the relay outlives any broker
outage."""

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import Text, Uuid, any_, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit import metrics
from servicekit.db import MessagingTables
from servicekit.kafka import event_headers, must_be_renewed
from servicekit.wakeup import Wakeup, listening

log = structlog.get_logger()

MAX_BACKOFF_SECONDS = 30.0


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        tables: MessagingTables,
        producer: AIOKafkaProducer,
        *,
        service: str,
        poll_seconds: float = 1.0,
        batch_size: int = 500,
        new_producer: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = tables.outbox
        self._channel = tables.notify_channel
        self._producer = producer
        self._service = service
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._new_producer = new_producer
        self._next_count = 0.0
        # The oldest unpublished row's age when last looked at, and when that was.
        self._oldest_age = 0.0
        self._looked_at = time.monotonic()
        metrics.OUTBOX_OLDEST_AGE.labels(service).set_function(self._oldest_unpublished_age)

    @property
    def producer(self) -> AIOKafkaProducer:
        return self._producer

    async def run(self, stop: asyncio.Event) -> None:
        async with listening(self._engine, self._channel) as wakeup:
            await self._loop(stop, wakeup)

    async def _loop(self, stop: asyncio.Event, wakeup: Wakeup) -> None:
        failures = 0
        while not stop.is_set():
            wakeup.clear()
            try:
                published = await self.publish_pending()
                failures = 0
            except Exception as error:
                failures += 1
                metrics.OUTBOX_PUBLISH_FAILURES.labels(self._service).inc()
                log.warning("outbox.publish_failed", error=repr(error), attempt=failures)
                await self._record_failure(repr(error))
                await self._renew_producer_if_failed(error)
                await _sleep_or_stop(stop, min(MAX_BACKOFF_SECONDS, 0.2 * 2**failures))
                continue
            if published < self._batch_size:
                await wakeup.wait(stop, self._poll_seconds)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; returns how many were sent."""
        outbox = self._outbox
        async with self._engine.begin() as conn:
            # The payload as PostgreSQL writes its JSON: sent as it is, never parsed here.
            rows = (
                await conn.execute(
                    select(
                        outbox.c.id,
                        outbox.c.type,
                        outbox.c.topic,
                        outbox.c.aggregateid,
                        cast(outbox.c.payload, Text).label("payload"),
                        outbox.c.payload["correlationid"].astext.label("correlationid"),
                    )
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if rows:
                deliveries = [
                    await self._producer.send(
                        row.topic,
                        value=row.payload.encode(),
                        key=row.aggregateid.encode(),
                        headers=event_headers(str(row.id), row.type, row.correlationid),
                    )
                    for row in rows
                ]
                await asyncio.gather(*deliveries)
                await conn.execute(
                    update(outbox)
                    # One array parameter: an IN list of a thousand ids is bound one by one.
                    .where(
                        outbox.c.id == any_(bindparam("ids", [row.id for row in rows], ARRAY(Uuid)))
                    )
                    .values(published_at=func.now(), attempts=outbox.c.attempts + 1)
                )
            # Counted once a second at most: a count per batch costs more than the batch
            # when the backlog is large.
            if len(rows) < self._batch_size or time.monotonic() >= self._next_count:
                self._next_count = time.monotonic() + 1.0
                unpublished = outbox.c.published_at.is_(None)
                backlog, oldest_age = (
                    await conn.execute(
                        select(
                            select(func.count())
                            .select_from(outbox)
                            .where(unpublished)
                            .scalar_subquery(),
                            # The first by seq, through the partial index of unpublished rows.
                            select(_age(outbox.c.created_at))
                            .where(unpublished)
                            .order_by(outbox.c.seq)
                            .limit(1)
                            .scalar_subquery(),
                        )
                    )
                ).one()
                metrics.OUTBOX_BACKLOG.labels(self._service).set(backlog or 0)
                self._saw_oldest(oldest_age)
        for row in rows:
            metrics.EVENTS_PUBLISHED.labels(self._service, row.type).inc()
        return len(rows)

    async def _renew_producer_if_failed(self, error: BaseException) -> None:
        if self._new_producer is None or not must_be_renewed(self._producer, error):
            return
        renewed = self._new_producer()
        try:
            await renewed.start()
        except Exception as error:
            # The broker is still away: the next failure tries again.
            log.warning("outbox.producer_not_renewed", error=repr(error))
            await renewed.stop()
            return
        log.warning("outbox.producer_renewed")
        failed, self._producer = self._producer, renewed
        await failed.stop()

    async def _record_failure(self, error: str) -> None:
        outbox = self._outbox
        try:
            async with self._engine.begin() as conn:
                first_pending = (
                    select(outbox.c.seq)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(1)
                    .scalar_subquery()
                )
                oldest_age = await conn.scalar(
                    update(outbox)
                    .where(outbox.c.seq == first_pending)
                    .values(attempts=outbox.c.attempts + 1, last_error=error[:2000])
                    .returning(_age(outbox.c.created_at))
                )
            # While the broker is away no batch is published (nor counted): the age keeps
            # growing from what the failure saw, and the alert on it fires.
            self._saw_oldest(oldest_age)
        except Exception as db_error:
            log.warning("outbox.failure_not_recorded", error=repr(db_error))

    def _saw_oldest(self, age: Any) -> None:
        self._oldest_age = float(age or 0)
        self._looked_at = time.monotonic()

    def _oldest_unpublished_age(self) -> float:
        if not self._oldest_age:
            return 0.0
        return self._oldest_age + time.monotonic() - self._looked_at


def _age(created_at: Any) -> Any:
    """Seconds since `created_at` by the database's clock, which wrote it."""
    return func.extract("epoch", func.now() - created_at)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
