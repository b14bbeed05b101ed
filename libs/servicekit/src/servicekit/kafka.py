"""Kafka clients configured the one way every service uses them."""

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from servicekit.settings import ServiceSettings

CONTENT_TYPE = b"application/cloudevents+json"


def create_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=settings.kafka_idempotent_producer,
        linger_ms=5,
    )


def has_failed_for_good(producer: AIOKafkaProducer) -> bool:
    """Whether aiokafka's producer has stopped sending for good: its sender task ends at the
    first fatal error and every later send fails. An idempotent producer gets there after a
    broker outage: the sequence numbers of batches that expired were never written, so the
    broker answers OutOfOrderSequenceNumber to the next ones (Java's client starts a new
    producer epoch instead; aiokafka 0.14 does not)."""
    sender = producer._sender
    return sender is not None and sender.sender_task is not None and sender.sender_task.done()


def must_be_renewed(producer: AIOKafkaProducer, error: BaseException) -> bool:
    """Whether a producer can only be replaced after `error`: one that has failed for good, or
    an idempotent one whose send failed with a Kafka error. aiokafka gives each batch of an
    idempotent producer its sequence number when it leaves the accumulator, also when it fails
    there without being sent (a batch older than the request timeout whose partition has no
    known leader, as in a broker outage); the broker then answers OutOfOrderSequenceNumber to
    every later batch of that partition, a failure of that batch only, so the producer never
    stops and never sends to that partition again. A new producer gets a new producer id and
    starts its sequences afresh."""
    idempotent = producer._txn_manager is not None
    return has_failed_for_good(producer) or (idempotent and isinstance(error, KafkaError))


def event_headers(
    event_id: str, event_type: str, correlation_id: str | None
) -> list[tuple[str, bytes]]:
    headers = [
        ("content-type", CONTENT_TYPE),
        ("ce_id", event_id.encode()),
        ("ce_type", event_type.encode()),
    ]
    if correlation_id:
        headers.append(("correlation_id", correlation_id.encode()))
    return headers


async def partitions_of(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of `topics`, for a consumer that assigns itself partitions. The
    metadata is fetched for these topics: `topics()` names them but, on Apache Kafka,
    leaves their partitions unknown to `partitions_for_topic`."""
    await consumer._client.force_metadata_update()
    missing = [topic for topic in topics if not consumer.partitions_for_topic(topic)]
    if missing:
        raise RuntimeError(f"topics not created yet: {missing}")
    return [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
