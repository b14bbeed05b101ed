"""SIGKILL a consuming process in the middle of a stream of 10,000 events: none
is lost and none is applied twice."""

import asyncio
import os
import re
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from kit_support import create_store, create_topic, eventually, probe_event_type, unique
from sqlalchemy import func, select

from attain_contracts import Envelope

pytestmark = pytest.mark.integration

EVENTS = 10_000
WORKER = Path(__file__).with_name("kill_worker.py")


async def start_worker(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(WORKER.parent)},
    )


async def duplicates_reported(process: asyncio.subprocess.Process) -> int:
    assert process.stdout is not None
    output = (await process.stdout.read()).decode()
    counts = [int(n) for n in re.findall(r"duplicates (\d+)", output)]
    return max(counts, default=0)


async def test_sigkill_mid_stream_loses_nothing_and_applies_nothing_twice(
    database_url: str, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    schema, topic, group = unique("kill"), unique("kill"), unique("kill")
    await create_topic(kafka_bootstrap, topic, partitions=6)
    store = await create_store(database_url, schema)
    probe = probe_event_type(topic)

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=20)
    await producer.start()
    sends = []
    for n in range(EVENTS):
        event = probe(probe_id=str(n), key_=f"deal-{n % 97}", amount=Decimal(n % 100) / 10)
        envelope = Envelope.wrap(event, source="/test", time=store.unit_of_work().clock.now())
        sends.append(await producer.send(topic, envelope.to_bytes(), key=event.key().encode()))
    await asyncio.gather(*sends)
    await producer.stop()

    args = (database_url, schema, kafka_bootstrap, topic, group)
    redeliveries = 0
    kills = 0
    for kill_after in (1_500, 4_000, 6_500):
        worker = await start_worker(*args)
        await eventually(
            lambda n=kill_after: _applied_at_least(store, n), timeout=120, interval=0.01
        )
        worker.send_signal(signal.SIGKILL)
        redeliveries += await duplicates_reported(worker)
        await worker.wait()
        kills += 1
    worker = await start_worker(*args)
    await eventually(lambda: _applied_at_least(store, EVENTS), timeout=180)
    await asyncio.sleep(1)
    worker.send_signal(signal.SIGTERM)
    redeliveries += await duplicates_reported(worker)
    assert await worker.wait() == 0

    async with store.engine.connect() as conn:
        tally = store.tally
        applied, distinct, total = (
            await conn.execute(
                select(
                    func.count(), func.count(tally.c.probe_id.distinct()), func.sum(tally.c.amount)
                )
            )
        ).one()
    await store.engine.dispose()
    with capsys.disabled():
        print(f"\nSIGKILL test: {kills} kills, {redeliveries} redeliveries dropped by the inbox")
    assert distinct == EVENTS, "events were lost"
    assert applied == EVENTS, "events were applied twice"
    assert total == sum(Decimal(n % 100) / 10 for n in range(EVENTS))
    assert redeliveries > 0, "no redelivery happened, so the test proved nothing"


async def _applied_at_least(store, count: int) -> bool:  # type: ignore[no-untyped-def]
    return await store.count(store.tally) >= count
