"""A consuming process for test_kill.py: applies probe events to the tally table
until SIGTERM, printing how many redeliveries its inbox dropped so far.

The offset commit is slowed down here (as a slow broker round trip would be) so
that a SIGKILL most likely lands after a batch's database commit and before its
offsets are committed, which is the case that must not apply events twice."""

import asyncio
import signal
import sys

from aiokafka import AIOKafkaProducer
from kit_support import create_store, probe_event_type, tally_handler

from servicekit import metrics
from servicekit.consumer import EventConsumer
from servicekit.settings import ServiceSettings


class SlowCommitConsumer(EventConsumer):
    async def _commit_offsets(self, consumer, batch):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.05)
        await super()._commit_offsets(consumer, batch)


def duplicates_seen() -> int:
    total = 0.0
    for metric in metrics.EVENTS_CONSUMED.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels["outcome"] == "duplicate":
                total += sample.value
    return int(total)


async def main(database_url: str, schema: str, bootstrap: str, topic: str, group: str) -> None:
    settings = ServiceSettings()
    store = await create_store(database_url, schema)
    probe = probe_event_type(topic)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    consumer = SlowCommitConsumer(
        service="kill-test",
        group_id=group,
        bootstrap=bootstrap,
        handlers={probe: tally_handler(store)},
        unit_of_work=store.unit_of_work,
        inbox=store.tables.inbox,
        producer=producer,
        batch_size=100,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def report() -> None:
        while not stop.is_set():
            print(f"duplicates {duplicates_seen()}", flush=True)
            await asyncio.sleep(0.05)

    reporter = asyncio.create_task(report())
    await consumer.run(stop)
    await reporter
    print(f"duplicates {duplicates_seen()}", flush=True)
    await producer.stop()
    await store.engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
