"""The live consumer against the real broker: every replica hears every event
(no consumer group), from the newest offset, and turns it into page keys; an
event of a type no page shows, or a record that is no envelope, changes nothing."""

import asyncio
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from attain_contracts import GoalProgressUpdated, Period, topics
from attain_devstack.testing import publish
from dashboard_service.service_layer.live import LiveHub
from dashboard_service.settings import DashboardSettings
from dashboard_service.workers.live import LiveFeed

pytestmark = pytest.mark.integration


def progress(goal_id: str) -> GoalProgressUpdated:
    return GoalProgressUpdated(
        goal_id=goal_id,
        owner_id="ann",
        metric="revenue",
        direction="higher_is_better",
        period=Period(key="2026-03", start=date(2026, 3, 1), end=date(2026, 3, 31)),
        as_of=datetime.now(UTC),
        actual="10",
        target="100",
        attainment="0.1",
        expected_to_date="20",
        pace="0.5",
        projection="50",
        sequence=1,
    )


async def positioned(feed: LiveFeed) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                await feed.broker_answers()
                return
            except RuntimeError:
                await asyncio.sleep(0.1)


async def test_every_replica_hears_every_event_from_the_newest_offset(kafka_bootstrap: str) -> None:
    earlier = f"g-{uuid4().hex[:8]}"
    await publish(kafka_bootstrap, progress(earlier))
    settings = DashboardSettings(kafka_bootstrap=kafka_bootstrap)
    stop = asyncio.Event()
    replicas = []
    for _ in range(2):
        hub = LiveHub()
        feed = LiveFeed(settings, hub)
        replicas.append((hub, feed, asyncio.create_task(feed.run(stop))))
    try:
        for _, feed, _ in replicas:
            await positioned(feed)
        goal_id = f"g-{uuid4().hex[:8]}"
        streams = [
            hub.changes(hub.subscribe(frozenset({f"goal:{goal_id}", f"goal:{earlier}"}), 0), 60)
            for hub, _, _ in replicas
        ]
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topics.PROGRESS, b"not an envelope")
        finally:
            await producer.stop()
        await publish(kafka_bootstrap, progress(goal_id))
        for stream in streams:
            # The event from before the replica started is not replayed.
            assert await asyncio.wait_for(anext(stream), 30) == {f"goal:{goal_id}"}
    finally:
        stop.set()
        for hub, _, task in replicas:
            hub.close()
            await asyncio.wait_for(task, 10)
