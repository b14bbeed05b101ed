"""Delivery guarantees of the outbox relay and the consumer runtime, against the
real broker and database."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kit_support import (
    Running,
    Store,
    consumer_for,
    create_store,
    create_topic,
    eventually,
    probe_event_type,
    tally_handler,
    unique,
)
from sqlalchemy import select, update

from attain_contracts import Envelope, topics
from servicekit import metrics
from servicekit.consumer import EventConsumer
from servicekit.kafka import create_producer
from servicekit.relay import OutboxRelay
from servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = await create_store(database_url, unique("kit"))
    yield store
    await store.engine.dispose()


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def read_topic(
    bootstrap: str, topic: str, count: int, timeout: float = 30, key: bytes | None = None
) -> list:  # type: ignore[type-arg]
    """The first `count` records of a topic (with the given key, when one is given)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=unique("reader"), auto_offset_reset="earliest"
    )
    await consumer.start()
    records = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(r for r in batch if key is None or r.key == key)
    finally:
        await consumer.stop()
    return records


async def test_rows_committed_before_a_crash_are_published_on_restart(
    store: Store, kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    topic = unique("outbox")
    await create_topic(kafka_bootstrap, topic)
    probe = probe_event_type(topic)
    async with store.unit_of_work() as uow:
        for seq in range(30):
            uow.publish(probe(probe_id=str(seq), key_=f"k{seq % 3}", amount=Decimal(seq), seq=seq))
        await uow.commit()
    # The process "crashed" after the commit: nothing ran the relay yet.
    assert await store.count(store.tables.outbox) == 30

    async with Running(OutboxRelay(store.engine, store.tables, producer, service="test")):
        records = await read_topic(kafka_bootstrap, topic, 30)

    envelopes = [Envelope.from_bytes(r.value) for r in records]
    assert sorted(int(e.data["probe_id"]) for e in envelopes) == list(range(30))
    for key in ("k0", "k1", "k2"):
        in_partition_order = [e.data["seq"] for e in envelopes if e.subject == key]
        assert in_partition_order == sorted(in_partition_order)
    assert {r.key for r in records} == {b"k0", b"k1", b"k2"}
    assert all(dict(r.headers)["ce_type"] == probe.type.encode() for r in records)
    async with store.engine.connect() as conn:
        unpublished = await conn.scalar(
            select(store.tables.outbox.c.id).where(store.tables.outbox.c.published_at.is_(None))
        )
    assert unpublished is None


async def test_notify_wakes_the_relay_before_its_poll(
    store: Store, kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    topic = unique("notify")
    await create_topic(kafka_bootstrap, topic)
    probe = probe_event_type(topic)
    relay = OutboxRelay(store.engine, store.tables, producer, service="test", poll_seconds=120)
    async with Running(relay):
        await asyncio.sleep(0.5)  # the relay is now waiting for a notification
        async with store.unit_of_work() as uow:
            uow.publish(probe(probe_id="1", key_="k", amount=Decimal(1)))
            await uow.commit()
        records = await read_topic(kafka_bootstrap, topic, 1, timeout=20)
    assert Envelope.from_bytes(records[0].value).data["probe_id"] == "1"


async def test_rolled_back_unit_of_work_publishes_nothing(
    store: Store, kafka_bootstrap: str
) -> None:
    probe = probe_event_type(unique("never"))
    async with store.unit_of_work() as uow:
        uow.publish(probe(probe_id="1", key_="k", amount=Decimal(1)))
        # leaving the block without commit
    assert await store.count(store.tables.outbox) == 0


async def test_redelivered_event_changes_state_once(
    store: Store, kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    topic = unique("redeliver")
    await create_topic(kafka_bootstrap, topic)
    probe = probe_event_type(topic)
    async with store.unit_of_work() as uow:
        for seq in range(10):
            uow.publish(
                probe(probe_id=str(seq), key_=f"k{seq % 2}", amount=Decimal("1.10"), seq=seq)
            )
        await uow.commit()
    relay = OutboxRelay(store.engine, store.tables, producer, service="test")
    await relay.publish_pending()
    # The relay crashed after publishing and before marking three rows as sent:
    # it publishes them again.
    async with store.engine.begin() as conn:
        await conn.execute(
            update(store.tables.outbox)
            .where(store.tables.outbox.c.seq.in_(select(store.tables.outbox.c.seq).limit(3)))
            .values(published_at=None)
        )
    assert await relay.publish_pending() == 3
    consumer = consumer_for(store, kafka_bootstrap, producer, {probe: tally_handler(store)})
    async with Running(consumer):
        await eventually(lambda: _tally_at_least(store, 10))
        await asyncio.sleep(1.0)  # time for the duplicates to arrive and be dropped
    rows = await store.tally_rows()
    assert sorted(probe_id for probe_id, _, _ in rows) == sorted(str(s) for s in range(10))
    assert sum(amount for _, _, amount in rows) == Decimal("11.00")

    # The whole stream delivered once more (a consumer group reset, a replay) changes nothing.
    for record in await read_topic(kafka_bootstrap, topic, 13):
        await producer.send_and_wait(topic, record.value, key=record.key)
    async with Running(consumer):
        await asyncio.sleep(3)
    assert len(await store.tally_rows()) == 10


async def test_failing_handler_dead_letters_its_event_and_the_partition_moves_on(
    store: Store, kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    topic = unique("poison")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    await create_topic(kafka_bootstrap, topics.DEAD_LETTER, partitions=6)
    probe = probe_event_type(topic)
    store_handler = tally_handler(store)
    attempts = 0

    async def handler(uow, events):  # type: ignore[no-untyped-def]
        nonlocal attempts
        if any(e.probe_id == "poison" for e in events):
            attempts += 1
            raise ValueError("cannot credit a deal without an owner")
        await store_handler(uow, events)

    marker = uuid4().hex
    async with store.unit_of_work() as uow:
        for probe_id in ("before", "poison", "after"):
            uow.publish(probe(probe_id=probe_id, key_=marker, amount=Decimal(1)))
        await uow.commit()
    await OutboxRelay(store.engine, store.tables, producer, service="test").publish_pending()
    await producer.send_and_wait(topic, b"this is not an envelope", key=marker.encode())
    async with store.unit_of_work() as uow:
        uow.publish(probe(probe_id="last", key_=marker, amount=Decimal(1)))
        await uow.commit()
    await OutboxRelay(store.engine, store.tables, producer, service="test").publish_pending()

    consumer = consumer_for(
        store,
        kafka_bootstrap,
        producer,
        {probe: handler},
        max_attempts=3,
        retry_backoff_seconds=0.01,
    )
    async with Running(consumer):
        await eventually(lambda: _tally_at_least(store, 3))

    assert [probe_id for probe_id, _, _ in await store.tally_rows()] == ["before", "after", "last"]
    assert attempts == 1 + 3  # once in the batch, then max_attempts alone
    dead = await read_topic(kafka_bootstrap, topics.DEAD_LETTER, 2, key=marker.encode())
    by_reason = {dict(r.headers)["dlq_error"].decode(): r for r in dead}
    assert any("cannot credit a deal without an owner" in reason for reason in by_reason)
    assert any("not a CloudEvents envelope" in reason for reason in by_reason)
    poisoned = next(r for reason, r in by_reason.items() if "owner" in reason)
    assert json.loads(poisoned.value)["data"]["probe_id"] == "poison"
    assert dict(poisoned.headers)["dlq_topic"] == topic.encode()
    assert dict(poisoned.headers)["dlq_group"] == consumer.group_id.encode()


async def _tally_at_least(store: Store, count: int) -> bool:
    return len(await store.tally_rows()) >= count


async def test_lag_counts_the_events_that_arrived_while_a_batch_was_handled(
    store: Store, kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    topic = unique("lag")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    probe = probe_event_type(topic)
    store_handler = tally_handler(store)
    handled_first = asyncio.Event()
    release = asyncio.Event()

    async def handler(uow, events):  # type: ignore[no-untyped-def]
        if not handled_first.is_set():
            # Five more events reach the partition while the first batch is in hand.
            for n in range(5):
                await producer.send_and_wait(topic, envelope_of(probe, f"late-{n}"), key=b"k")
            handled_first.set()
        else:
            await release.wait()
        await store_handler(uow, events)

    for n in range(20):
        await producer.send_and_wait(topic, envelope_of(probe, str(n)), key=b"k")
    consumer = consumer_for(store, kafka_bootstrap, producer, {probe: handler}, batch_size=10)
    async with Running(consumer):
        await eventually(lambda: _tally_at_least(store, 10))
        lag = await eventually(lambda: _lag_of(consumer, topic))
        release.set()
        await eventually(lambda: _tally_at_least(store, 25))
    assert lag == 20 + 5 - 10


def envelope_of(probe: type, probe_id: str) -> bytes:  # type: ignore[type-arg]
    event = probe(probe_id=probe_id, key_="k", amount=Decimal(1))
    return Envelope.wrap(event, source="/test", time=datetime.now(UTC)).to_bytes()


async def _lag_of(consumer: EventConsumer, topic: str) -> float | None:
    for metric in metrics.CONSUMER_LAG.collect():
        for sample in metric.samples:
            if sample.labels["group"] == consumer.group_id and sample.labels["topic"] == topic:
                return sample.value
    return None


async def test_consumers_joining_and_leaving_mid_stream_apply_every_event_once(
    store: Store, kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    topic = unique("rebalance")
    await create_topic(kafka_bootstrap, topic, partitions=6)
    probe = probe_event_type(topic)
    count = 3_000
    sends = []
    for n in range(count):
        event = probe(probe_id=str(n), key_=f"deal-{n % 50}", amount=Decimal(1))
        envelope = Envelope.wrap(event, source="/test", time=store.unit_of_work().clock.now())
        sends.append(await producer.send(topic, envelope.to_bytes(), key=event.key().encode()))
    await asyncio.gather(*sends)

    first = consumer_for(
        store, kafka_bootstrap, producer, {probe: tally_handler(store)}, batch_size=50
    )
    second = consumer_for(
        store, kafka_bootstrap, producer, {probe: tally_handler(store)}, batch_size=50
    )
    second.group_id = first.group_id
    running_first = await Running(first).start()
    await eventually(lambda: _tally_at_least(store, 300), interval=0.01)
    async with Running(second):  # joins: the partitions are split between the two
        await eventually(lambda: _tally_at_least(store, 1_500), interval=0.01)
        await running_first.finish()  # leaves: the second takes everything over
        await eventually(lambda: _tally_at_least(store, count), timeout=60)
        await asyncio.sleep(1)
    rows = await store.tally_rows()
    assert len(rows) == count, "an event was applied twice"
    assert {probe_id for probe_id, _, _ in rows} == {str(n) for n in range(count)}


async def test_a_large_unit_of_work_is_copied_and_published_in_order(
    store: Store, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    """Past the COPY threshold the outbox is written by COPY: same rows, same order."""
    probe = probe_event_type(unique("bulk"))
    await create_topic(kafka_bootstrap, probe.topic)
    count = 1_500
    async with store.unit_of_work() as uow:
        uow.publish(probe(probe_id="first", key_="k", amount=Decimal(1)))
        for number in range(count - 1):
            data = {"probe_id": str(number), "key_": "k", "amount": str(number)}
            uow.publish_json(probe, "k", data)
        await uow.commit()
    assert await store.count(store.tables.outbox) == count
    relay = OutboxRelay(store.engine, store.tables, producer, service="test")
    while await relay.publish_pending():
        pass
    records = await read_topic(kafka_bootstrap, probe.topic, count)
    data = [json.loads(r.value)["data"] for r in records]
    assert [d["probe_id"] for d in data] == ["first", *(str(n) for n in range(count - 1))]
    assert probe.model_validate(data[-1]).amount == Decimal(count - 2)  # type: ignore[attr-defined]


async def test_an_idempotent_producer_with_a_gap_in_its_sequence_is_replaced(
    store: Store, kafka_bootstrap: str
) -> None:
    """After a broker outage aiokafka's idempotent producer can skip a sequence number (a batch
    that expired in its accumulator had taken one); Kafka then refuses every later batch of that
    partition with OutOfOrderSequenceNumber while the producer stays up. The relay replaces it,
    as it does one that failed for good, and the rows go out."""
    # Read once the session's broker is up: the devstack names its settings then.
    if not ServiceSettings().kafka_idempotent_producer:
        pytest.skip("the broker has no idempotent producer for aiokafka (Tansu)")
    topic = unique("gap")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    probe = probe_event_type(topic)
    settings = ServiceSettings(kafka_bootstrap=kafka_bootstrap)
    broken = create_producer(settings)
    await broken.start()
    await broken.send_and_wait(topic, value=b"{}", key=b"k")
    # The gap an expired batch leaves: the next batch's sequence is one past what Kafka expects.
    assert broken._txn_manager is not None
    broken._txn_manager.increment_sequence_number(TopicPartition(topic, 0), 1)
    async with store.unit_of_work() as uow:
        uow.publish(probe(probe_id="after-the-gap", key_="k", amount=Decimal(1)))
        await uow.commit()
    relay = OutboxRelay(
        store.engine,
        store.tables,
        broken,
        service="test",
        new_producer=lambda: create_producer(settings),
    )
    try:
        async with Running(relay):
            records = await read_topic(kafka_bootstrap, topic, 2)
    finally:
        await relay.producer.stop()
        await broken.stop()
    assert Envelope.from_bytes(records[1].value).data["probe_id"] == "after-the-gap"
    assert relay.producer is not broken
