import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from attain_contracts import topics
from attain_devstack._process import run_blocking
from servicekit.topics import ensure_topics

pytestmark = pytest.mark.integration


async def test_every_topic_exists_with_the_default_partitions(kafka_bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics.ALL))
    finally:
        await admin.close()

    partitions = {topic["topic"]: len(topic["partitions"]) for topic in described}
    assert partitions == dict.fromkeys(topics.ALL, topics.DEFAULT_PARTITIONS)


def test_ensuring_topics_again_changes_nothing(kafka_bootstrap: str) -> None:
    assert run_blocking(ensure_topics(kafka_bootstrap)) == []


async def test_a_produced_message_is_consumed(kafka_bootstrap: str) -> None:
    # A topic of its own: on a shared broker, services may consume the Attain topics.
    topic = f"devstack.probe.{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, topics.DEFAULT_PARTITIONS, 1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, b"hello", key=b"goal-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await consumer.start()
    try:
        partition = TopicPartition(topic, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        received = await asyncio.wait_for(consumer.getone(), timeout=10)
    finally:
        await consumer.stop()

    assert (received.key, received.value) == (b"goal-1", b"hello")
