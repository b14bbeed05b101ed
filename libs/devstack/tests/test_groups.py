import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from attain_contracts import topics
from attain_devstack.groups import start_groups_at_the_end

pytestmark = pytest.mark.integration


async def test_a_group_moved_to_the_end_reads_only_what_comes_after(kafka_bootstrap: str) -> None:
    # A topic and a group of its own: on a shared broker, services consume the Attain topics.
    topic, group = f"devstack.groups.{uuid.uuid4().hex}", f"devstack-{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, topics.DEFAULT_PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"an earlier stack's", key=b"k")
        await start_groups_at_the_end(kafka_bootstrap, [group], [topic])
        await producer.send_and_wait(topic, b"this stack's", key=b"k")
    finally:
        await producer.stop()

    # As a service's consumer: subscribed, and from the earliest offset where none is committed.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        received = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert received.value == b"this stack's"
