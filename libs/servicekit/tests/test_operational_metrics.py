"""The figures deploy/prometheus alerts on, as servicekit exports them: the oldest unpublished
outbox row's age (growing while the broker refuses), the database pool's use, and a work
queue's depth as its worker counts it."""

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaProducer
from kit_support import (
    Running,
    Store,
    create_store,
    create_topic,
    eventually,
    probe_event_type,
    unique,
)
from prometheus_client import REGISTRY, Gauge
from sqlalchemy import text, update

from servicekit import metrics
from servicekit.db import POOL_MAX_OVERFLOW, create_engine
from servicekit.relay import OutboxRelay


def sample(name: str, service: str) -> float:
    value = REGISTRY.get_sample_value(name, {"service": service})
    assert value is not None, name
    return value


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = await create_store(database_url, unique("kit"))
    yield store
    await store.engine.dispose()


@pytest.mark.integration
async def test_the_oldest_unpublished_row_ages_while_the_broker_refuses_and_is_0_once_sent(
    store: Store, kafka_bootstrap: str
) -> None:
    topic = unique("outbox")
    await create_topic(kafka_bootstrap, topic)
    probe = probe_event_type(topic)
    async with store.unit_of_work() as uow:
        uow.publish(probe(probe_id="1", key_="k", amount=Decimal(1)))
        await uow.commit()
    async with store.engine.begin() as conn:
        await conn.execute(
            update(store.tables.outbox).values(created_at=text("now() - interval '300 seconds'"))
        )
    service = unique("svc")
    # A real producer whose every send fails, as with the broker refusing writes.
    refusing = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=16)
    await refusing.start()
    age = "attain_outbox_oldest_unpublished_age_seconds"
    try:
        async with Running(OutboxRelay(store.engine, store.tables, refusing, service=service)):
            await eventually(lambda: _at_least(age, service, 300))
    finally:
        await refusing.stop()
    first = sample(age, service)
    # Nobody looks any more, and the figure still grows: a stuck relay cannot hide its row.
    await eventually(lambda: _at_least(age, service, first + 0.2))

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        relay = OutboxRelay(store.engine, store.tables, producer, service=service)
        assert await relay.publish_pending() == 1
    finally:
        await producer.stop()
    assert sample(age, service) == 0
    assert sample("attain_outbox_backlog", service) == 0


async def _at_least(name: str, service: str, floor: float) -> bool:
    return (REGISTRY.get_sample_value(name, {"service": service}) or 0) >= floor


@pytest.mark.integration
async def test_the_pool_gauges_count_connections_checked_out_against_the_pool_limit(
    database_url: str,
) -> None:
    service = unique("svc")
    engine = create_engine(database_url, pool_size=3)
    metrics.watch_pool(service, engine)
    try:
        assert sample("attain_db_pool_connections_limit", service) == 3 + POOL_MAX_OVERFLOW
        async with engine.connect(), engine.connect():
            assert sample("attain_db_pool_connections_in_use", service) == 2
        assert sample("attain_db_pool_connections_in_use", service) == 0
    finally:
        await engine.dispose()


@pytest.mark.unit
async def test_a_queue_is_counted_after_full_batches_at_most_once_a_second() -> None:
    gauge = Gauge(unique("attain_test_queue"), "a queue", registry=None)
    counted = []

    async def count() -> int:
        counted.append(1)
        return 700

    depth = metrics.QueueDepth(gauge)
    await depth.after_batch(500, 500, count)
    assert gauge._value.get() == 700
    await depth.after_batch(500, 500, count)  # within the second: not counted again
    assert len(counted) == 1
    await depth.after_batch(12, 500, count)  # a short batch emptied the queue
    assert gauge._value.get() == 0
    assert len(counted) == 1
