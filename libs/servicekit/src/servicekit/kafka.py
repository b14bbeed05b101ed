"""Kafka clients configured the one way every service uses them."""

from aiokafka import AIOKafkaProducer

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
