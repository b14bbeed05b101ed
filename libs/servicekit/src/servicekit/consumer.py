"""The consumer runtime: reads a batch, applies it in one database transaction
together with the inbox (consumer group, event id), and commits Kafka offsets
per partition only after that transaction has committed.

- A redelivered event finds its id in the inbox and changes nothing.
- A batch that fails is retried event by event, so one poison event cannot hold
  back the others; an event that still fails after `max_attempts` goes to the
  dead-letter topic with its error, and the partition moves on.
- A dead letter replayed for one group (servicekit.deadletters) is ignored by every other:
  they applied that event long ago, and their inbox may have forgotten it since.
- A rebalance waits for the batch in hand to be committed (see
  `_FinishBatchBeforeRevoke`); a commit that fails anyway (`CommitFailedError`)
  only means redelivery, which the inbox absorbs.
"""

import asyncio
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import OffsetAndMetadata
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert

from attain_contracts import Envelope, Event, topics
from servicekit import metrics
from servicekit.db import is_transient
from servicekit.deadletters import is_replayed_for_another_group
from servicekit.logs import correlation
from servicekit.uow import UnitOfWork

log = structlog.get_logger()

# How long the broker waits, in a rebalance, for a live member to rejoin (it first finishes the
# batch in hand, `_FinishBatchBeforeRevoke`). aiokafka makes it the session timeout unless told,
# and the embedded brokers' sessions are 2 s: under load a member still committing its batch
# missed that, was dropped from the generation, rejoined and started the next rebalance, so a
# group with two replicas could go minutes without settling on both. A dead member is still
# dropped after its session timeout; only a live, busy one is waited for longer.
REBALANCE_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Delivery:
    """One consumed event, typed, with where it came from."""

    envelope: Envelope
    event: Event
    record: ConsumerRecord[bytes, bytes]


BatchHandler = Callable[[UnitOfWork, list[Any]], Awaitable[None]]
"""Called with the unit of work of the batch and the new events of one type, in
partition order. It may fold them (e.g. one update per goal) and publish events."""


class PoisonMessage(Exception):
    """A record that can never be handled (not an envelope, or a broken event)."""


class _FinishBatchBeforeRevoke(ConsumerRebalanceListener):
    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self._lock:
            pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        pass


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        group_id: str,
        bootstrap: str,
        handlers: dict[type[Event], BatchHandler],
        unit_of_work: Callable[[], UnitOfWork],
        inbox: Any,
        producer: AIOKafkaProducer,
        batch_size: int = 500,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        rebalance_timeout_ms: int = REBALANCE_TIMEOUT_MS,
        max_attempts: int = 5,
        retry_backoff_seconds: float = 0.2,
    ) -> None:
        self.group_id = group_id
        self._service = service
        self._bootstrap = bootstrap
        self._handlers = {cls.type: handler for cls, handler in handlers.items()}
        self._models = {cls.type: cls for cls in handlers}
        self._topics = sorted({cls.topic for cls in handlers})
        # Every series this consumer may dead-letter into starts at 0: a counter first seen at
        # 1 shows Prometheus no increase, and the first dead letter would raise no alert.
        for event_type in (*self._handlers, "undecodable"):
            metrics.EVENTS_DEAD_LETTERED.labels(service, group_id, event_type)
        self._unit_of_work = unit_of_work
        self._inbox = inbox
        self._producer = producer
        self._batch_size = batch_size
        self._session_timeout_ms = session_timeout_ms
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._rebalance_timeout_ms = max(rebalance_timeout_ms, session_timeout_ms)
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_seconds
        self._batch_lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            client_id=f"{self._service}-{self.group_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._batch_size,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=self._heartbeat_interval_ms,
            rebalance_timeout_ms=self._rebalance_timeout_ms,
        )
        consumer.subscribe(self._topics, listener=_FinishBatchBeforeRevoke(self._batch_lock))
        await consumer.start()
        self._consumer = consumer
        log.info("consumer.started", group=self.group_id, topics=self._topics)
        try:
            while not stop.is_set():
                # Not under the lock: once a rebalance has begun, getmany waits for the new
                # assignment, which waits for `_FinishBatchBeforeRevoke`, which waits for the lock
                # (a deadlock until the service stopped: the surviving replica of a SIGKILL held
                # its partitions unread for minutes).
                fetched = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
                async with self._batch_lock:
                    # A rebalance that came between the two took the partitions it revoked;
                    # their records are the new owner's to read now.
                    assigned = consumer.assignment()
                    batch = {tp: records for tp, records in fetched.items() if tp in assigned}
                    if batch:
                        await self._handle(consumer, batch)
        finally:
            await consumer.stop()
            log.info("consumer.stopped", group=self.group_id)

    async def _handle(
        self,
        consumer: AIOKafkaConsumer,
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    ) -> None:
        records = [record for partition in batch.values() for record in partition]
        deliveries: list[Delivery] = []
        for record in records:
            if is_replayed_for_another_group(record, self.group_id):
                metrics.EVENTS_CONSUMED.labels(self._service, self.group_id, "", "ignored").inc()
                continue
            try:
                delivery = self._decode(record)
            except PoisonMessage as error:
                await self._dead_letter(record, "undecodable", error)
                continue
            if delivery is None:
                metrics.EVENTS_CONSUMED.labels(self._service, self.group_id, "", "ignored").inc()
            else:
                deliveries.append(delivery)
        if deliveries:
            await self._apply_batch(deliveries)
        await self._commit_offsets(consumer, batch)
        await self._record_lag(consumer, batch)

    def _decode(self, record: ConsumerRecord[bytes, bytes]) -> Delivery | None:
        """The typed delivery, or None for an event type this consumer does not handle."""
        try:
            envelope = Envelope.from_bytes(record.value or b"")
        except ValidationError as error:
            raise PoisonMessage(f"not a CloudEvents envelope: {error}") from error
        if envelope.type not in self._handlers:
            return None
        try:
            return Delivery(
                envelope, self._models[envelope.type].model_validate(envelope.data), record
            )
        except ValidationError as error:
            raise PoisonMessage(f"invalid {envelope.type}: {error}") from error

    async def _apply_batch(self, deliveries: list[Delivery]) -> None:
        try:
            await self._apply(deliveries)
            return
        except Exception as error:
            if is_transient(error):
                raise
            if len(deliveries) == 1:
                await self._retry_then_dead_letter(deliveries[0], error)
                return
            log.warning(
                "consumer.batch_failed",
                group=self.group_id,
                size=len(deliveries),
                error=repr(error),
            )
        for delivery in deliveries:
            try:
                await self._apply([delivery])
            except Exception as error:
                if is_transient(error):
                    raise
                await self._retry_then_dead_letter(delivery, error)

    async def _retry_then_dead_letter(self, delivery: Delivery, error: Exception) -> None:
        for attempt in range(2, self._max_attempts + 1):
            await asyncio.sleep(self._backoff * 2 ** (attempt - 2))
            try:
                await self._apply([delivery])
                return
            except Exception as again:
                if is_transient(again):
                    raise
                error = again
        await self._dead_letter(delivery.record, delivery.envelope.type, error)

    async def _apply(self, deliveries: Sequence[Delivery]) -> None:
        async with self._unit_of_work() as uow:
            fresh_ids = set(
                (
                    await uow.session.execute(
                        insert(self._inbox)
                        .values(
                            [
                                {
                                    "consumer_group": self.group_id,
                                    "event_id": d.envelope.id,
                                    "event_type": d.envelope.type,
                                }
                                for d in _unique(deliveries)
                            ]
                        )
                        .on_conflict_do_nothing()
                        .returning(self._inbox.c.event_id)
                    )
                ).scalars()
            )
            fresh = [d for d in _unique(deliveries) if d.envelope.id in fresh_ids]
            for event_type, run in _runs_of_one_type(fresh):
                with correlation(run[0].envelope.correlationid):
                    await self._handlers[event_type](uow, [d.event for d in run])
            await uow.commit()
        now = uow.clock.now()
        for delivery in deliveries:
            outcome = "applied" if delivery.envelope.id in fresh_ids else "duplicate"
            metrics.EVENTS_CONSUMED.labels(
                self._service, self.group_id, delivery.envelope.type, outcome
            ).inc()
            metrics.EVENT_AGE.labels(self._service, delivery.envelope.type).observe(
                max(0.0, (now - delivery.envelope.time).total_seconds())
            )

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], event_type: str, error: BaseException
    ) -> None:
        reason = "".join(traceback.format_exception_only(error)).strip()
        log.error(
            "consumer.dead_lettered",
            group=self.group_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            type=event_type,
            error=reason,
        )
        headers = [
            *[(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq_")],
            ("dlq_error", reason[:4000].encode()),
            ("dlq_group", self.group_id.encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
        ]
        await self._producer.send_and_wait(
            topics.DEAD_LETTER, value=record.value, key=record.key, headers=headers
        )
        metrics.EVENTS_DEAD_LETTERED.labels(self._service, self.group_id, event_type).inc()

    async def _commit_offsets(
        self,
        consumer: AIOKafkaConsumer,
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    ) -> None:
        assigned = consumer.assignment()
        offsets = {
            tp: OffsetAndMetadata(records[-1].offset + 1, "")
            for tp, records in batch.items()
            if records and tp in assigned
        }
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as error:
            metrics.CONSUMER_COMMIT_FAILURES.labels(self._service, self.group_id).inc()
            log.warning("consumer.commit_failed", group=self.group_id, error=repr(error))

    async def _record_lag(
        self,
        consumer: AIOKafkaConsumer,
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    ) -> None:
        """Lag from the broker's end offsets now, not from the high watermark the batch was
        fetched with: events that arrived while the batch was being handled count too."""
        handled = {tp: records[-1].offset for tp, records in batch.items() if records}
        try:
            ends = await consumer.end_offsets(list(handled))
        except KafkaError as error:
            log.warning("consumer.lag_unknown", group=self.group_id, error=repr(error))
            return
        for tp, last in handled.items():
            metrics.CONSUMER_LAG.labels(
                self._service, self.group_id, tp.topic, str(tp.partition)
            ).set(max(0, ends[tp] - last - 1))


def _unique(deliveries: Sequence[Delivery]) -> list[Delivery]:
    """The first delivery of each event id: a batch may hold the same event twice."""
    seen: set[Any] = set()
    unique = []
    for delivery in deliveries:
        if delivery.envelope.id not in seen:
            seen.add(delivery.envelope.id)
            unique.append(delivery)
    return unique


def _runs_of_one_type(deliveries: list[Delivery]) -> list[tuple[str, list[Delivery]]]:
    """Consecutive deliveries of the same type, so a handler can fold them while
    events of different types stay in the order they arrived."""
    return [
        (event_type, list(run))
        for event_type, run in groupby(deliveries, key=lambda d: d.envelope.type)
    ]
