"""The live consumer: every replica reads every partition of the topics the pages
show, from the newest offset, with no consumer group and nothing committed. The
events only tell open pages to re-fetch; a replica that starts late has no page
that missed anything, so there is nothing to replay."""

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer

from attain_contracts import Envelope
from dashboard_service.domain.live import LIVE_EVENTS, changed_keys
from dashboard_service.service_layer.live import LiveHub
from dashboard_service.settings import DashboardSettings
from servicekit.kafka import partitions_of

log = structlog.get_logger()

BATCH_SIZE = 500
POLL_MS = 200


class LiveFeed:
    def __init__(self, settings: DashboardSettings, hub: LiveHub) -> None:
        self._settings = settings
        self._hub = hub
        self._consumer: AIOKafkaConsumer | None = None
        self._topics = sorted({model.topic for model in LIVE_EVENTS.values()})

    async def broker_answers(self) -> None:
        """Readiness: positioned at the end of every partition, so an event published
        from now on reaches the open pages."""
        if self._consumer is None:
            raise RuntimeError("the live consumer is not positioned yet")
        await self._consumer.topics()

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap,
            client_id=self._settings.service_name,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        try:
            await consumer.start()
            partitions = await partitions_of(consumer, self._topics)
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for partition in partitions:
                await consumer.position(partition)
            self._consumer = consumer
            log.info("dashboard.live.positioned", partitions=len(partitions))
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=POLL_MS, max_records=BATCH_SIZE)
                keys: set[str] = set()
                for records in batches.values():
                    for record in records:
                        keys |= _keys_of(record.value)
                if keys:
                    self._hub.publish(keys)
        finally:
            self._consumer = None
            await consumer.stop()


def _keys_of(raw: bytes | None) -> set[str]:
    try:
        envelope = Envelope.from_bytes(raw or b"")
        model = LIVE_EVENTS.get(envelope.type)
        if model is None:
            return set()
        return changed_keys(model.model_validate(envelope.data))
    except ValueError:
        # A record we cannot read is another service's concern (its dead-letter
        # topic); here it only means no page hears about it.
        log.warning("dashboard.live.unreadable_record")
        return set()
