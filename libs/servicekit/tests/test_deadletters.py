"""Dead letters an operator can act on (servicekit.deadletters), against the real broker and
database: an event that failed in one group until its cause was fixed is listed with where it
came from and why, and its replay is applied once, by that group alone, through the library, the
admin endpoints of a service app and the command."""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from kit_support import (
    Running,
    Store,
    consumer_for,
    create_store,
    create_topic,
    eventually,
    probe_event_type,
    unique,
)
from sqlalchemy import delete

from attain_contracts import Envelope, Event, topics
from attain_devstack.testing import TEST_SECRET, bearer, running
from servicekit import metrics
from servicekit.app import ConsumerSpec, create_service_app
from servicekit.auth import Role
from servicekit.consumer import BatchHandler
from servicekit.deadletters import DeadLetter, read_dead_letters, replay, replayable
from servicekit.kafka import event_headers
from servicekit.settings import ServiceSettings
from servicekit.uow import UnitOfWork

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN, person_id="admin-1")


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[Callable[[], Any]]:
    """Call it for a new store (a schema of its own, as a service has)."""
    made: list[Store] = []

    async def make() -> Store:
        made.append(await create_store(database_url, unique("dlq")))
        return made[-1]

    yield make
    for store in made:
        await store.engine.dispose()


class Cause:
    """The bug behind a failure: the handler fails while it is there."""

    def __init__(self) -> None:
        self.present = True

    def fix(self) -> None:
        self.present = False


def handler_failing_while(cause: Cause, store: Store) -> BatchHandler:
    async def handle(uow: UnitOfWork, events: list[Event]) -> None:
        if cause.present:
            raise ValueError("no exchange rate for XYZ on 2026-11-24")
        await uow.session.execute(
            store.tally.insert(),
            [{"probe_id": e.probe_id, "key": e.key(), "amount": e.amount} for e in events],  # type: ignore[attr-defined]
        )

    return handle


def handler_applying(store: Store) -> BatchHandler:
    fixed = Cause()
    fixed.fix()
    return handler_failing_while(fixed, store)


def consuming(
    store: Store,
    bootstrap: str,
    producer: AIOKafkaProducer,
    group: str,
    handlers: dict[type[Event], BatchHandler],
) -> Running:
    """The group's consumer running until the block ends; a failing event is dead-lettered
    after a second attempt, so the tests wait milliseconds for it, not seconds."""
    consumer = consumer_for(
        store, bootstrap, producer, handlers, group, max_attempts=2, retry_backoff_seconds=0.01
    )
    return Running(consumer)


async def send_probe(producer: AIOKafkaProducer, probe: type[Event], probe_id: str) -> Envelope:
    event = probe(probe_id=probe_id, key_=f"deal-{probe_id}", amount=Decimal(5))
    envelope = Envelope.wrap(event, source="/test", time=datetime.now(UTC))
    await producer.send_and_wait(
        event.topic,
        envelope.to_bytes(),
        key=event.key().encode(),
        headers=event_headers(str(envelope.id), envelope.type, "corr-1"),
    )
    return envelope


async def dead_letters_of(bootstrap: str, group: str) -> list[DeadLetter]:
    return [d for d in await read_dead_letters(bootstrap) if d.group == group]


def consumed(group: str, outcome: str) -> float:
    return sum(
        sample.value
        for metric in metrics.EVENTS_CONSUMED.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
        and sample.labels["group"] == group
        and sample.labels["outcome"] == outcome
    )


def replayed_count(group: str) -> float:
    return sum(
        sample.value
        for metric in metrics.DEAD_LETTERS_REPLAYED.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels["group"] == group
    )


async def test_a_fixed_dead_letter_replays_once_for_its_group_and_no_other(
    stores: Callable[[], Any], kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    topic = unique("dlq")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    probe = probe_event_type(topic)
    # Two services reading one topic: `failing` cannot handle the event yet, `other` applied it.
    failing_store, other_store = await stores(), await stores()
    failing, other = unique("failing"), unique("other")
    cause = Cause()
    async with (
        consuming(
            failing_store,
            kafka_bootstrap,
            producer,
            failing,
            {probe: handler_failing_while(cause, failing_store)},
        ),
        consuming(
            other_store,
            kafka_bootstrap,
            producer,
            other,
            {probe: handler_applying(other_store)},
        ),
    ):
        sent = await send_probe(producer, probe, "p-1")
        [letter] = await eventually(lambda: dead_letters_of(kafka_bootstrap, failing))
        await eventually(lambda: _rows(other_store, 1))

        assert "no exchange rate for XYZ" in letter.error
        assert (letter.topic, letter.original_partition, letter.original_offset) == (topic, 0, 0)
        assert (letter.event_type, letter.event_id) == (probe.type, str(sent.id))
        assert letter.replays == ()
        assert letter.dead_lettered_at <= datetime.now(UTC)

        cause.fix()
        # The other group's inbox forgot the event (retention): only the replay header stops it.
        async with other_store.engine.begin() as conn:
            await conn.execute(delete(other_store.tables.inbox))
        ignored_before = consumed(other, "ignored")
        chosen, refusals = replayable(await read_dead_letters(kafka_bootstrap), [letter.entry])
        assert refusals == []
        [done] = await replay(producer, chosen, service="test")
        assert done.topic == topic

        await eventually(lambda: _rows(failing_store, 1))
        await eventually(lambda: _above(lambda: consumed(other, "ignored"), ignored_before))
        assert replayed_count(failing) == 1

        [listed] = await dead_letters_of(kafka_bootstrap, failing)
        assert [(r.group, r.topic, r.offset) for r in listed.replays] == [(failing, topic, 1)]
        again, refusals = replayable(await read_dead_letters(kafka_bootstrap), [letter.entry])
        assert again == []
        assert [(r.index, r.code) for r in refusals] == [(0, "already-replayed")]

        # Forced anyway (an operator who did not trust the first): the inbox drops it.
        duplicates_before = consumed(failing, "duplicate")
        forced, _ = replayable(await read_dead_letters(kafka_bootstrap), [letter.entry], force=True)
        await replay(producer, forced, service="test")
        await eventually(lambda: _above(lambda: consumed(failing, "duplicate"), duplicates_before))

    assert len(await failing_store.tally_rows()) == 1
    assert len(await other_store.tally_rows()) == 1


async def _rows(store: Store, count: int) -> bool:
    return len(await store.tally_rows()) == count


async def _above(value: Callable[[], float], floor: float) -> bool:
    return value() > floor


async def test_unknown_entries_are_refused_by_name(kafka_bootstrap: str) -> None:
    letters = await read_dead_letters(kafka_bootstrap)
    chosen, refusals = replayable(letters, ["999999:0"])
    assert chosen == []
    assert [(r.index, r.entry, r.code) for r in refusals] == [(0, "999999:0", "unknown")]


async def test_the_admin_endpoints_of_a_service_list_and_replay_its_dead_letters(
    stores: Callable[[], Any], kafka_bootstrap: str, database_url: str, producer: AIOKafkaProducer
) -> None:
    topic = unique("dlqapp")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    probe = probe_event_type(topic)
    store = await stores()
    group = unique("svc")
    cause = Cause()
    settings = ServiceSettings(
        service_name=group,
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,
        consumer_max_attempts=2,
        consumer_retry_backoff_seconds=0.01,
    )
    app = create_service_app(
        title="dead letters",
        settings=settings,
        tables=store.tables,
        consumers=[ConsumerSpec(group, {probe: handler_failing_while(cause, store)})],
    )
    # An entry of another service's group, on the same topic.
    foreign = await producer.send_and_wait(
        topics.DEAD_LETTER,
        b"{}",
        headers=[("dlq_group", b"someone-else"), ("dlq_topic", topic.encode())],
    )
    async with running(app) as client:
        await send_probe(producer, probe, "p-9")

        async def listed() -> list[dict[str, Any]]:
            response = await client.get("/admin/dead-letters", headers=ADMIN)
            assert response.status_code == 200, response.text
            return response.json()["data"]

        [entry] = await eventually(listed)
        assert entry["group"] == group and entry["topic"] == topic
        assert entry["original_offset"] == 0 and "no exchange rate" in entry["error"]
        assert entry["event_type"] == probe.type and entry["replays"] == []
        filtered = await client.get("/admin/dead-letters", params={"group": group}, headers=ADMIN)
        assert filtered.json()["count"] == 1
        not_ours = await client.get(
            "/admin/dead-letters", params={"group": "someone-else"}, headers=ADMIN
        )
        assert (not_ours.status_code, not_ours.json()["field"]) == (422, "group")

        rep = bearer(Role.REP, person_id="rep-1")
        assert (await client.get("/admin/dead-letters", headers=rep)).status_code == 404
        assert (await client.get("/admin/dead-letters")).status_code == 401
        replay_url = "/admin/dead-letters/replay"
        refused = await client.post(replay_url, json={"entries": [entry["entry"]]}, headers=rep)
        assert refused.status_code == 404

        unknown = await client.post(
            replay_url,
            json={"entries": [entry["entry"], "999999:0", f"{foreign.partition}:{foreign.offset}"]},
            headers=ADMIN,
        )
        assert unknown.status_code == 422
        body = unknown.json()
        assert body["field"] == "entries.1"
        assert [(e["field"], e["code"]) for e in body["errors"]] == [
            ("entries.1", "unknown"),
            ("entries.2", "not-this-service"),
        ]
        malformed = await client.post(replay_url, json={"entries": ["zero"]}, headers=ADMIN)
        assert (malformed.status_code, malformed.json()["field"]) == (422, "entries.0")
        assert await store.tally_rows() == []  # a refused request replays nothing

        cause.fix()
        replayed = await client.post(replay_url, json={"entries": [entry["entry"]]}, headers=ADMIN)
        assert replayed.status_code == 200, replayed.text
        [done] = replayed.json()["data"]
        assert (done["entry"], done["group"], done["topic"]) == (entry["entry"], group, topic)
        await eventually(lambda: _rows(store, 1))

        twice = await client.post(replay_url, json={"entries": [entry["entry"]]}, headers=ADMIN)
        assert twice.status_code == 409
        assert (twice.json()["field"], twice.json()["errors"][0]["code"]) == (
            "entries.0",
            "already-replayed",
        )
        [shown] = await listed()
        assert [r["offset"] for r in shown["replays"]] == [done["offset"]]
        forced = await client.post(
            replay_url, json={"entries": [entry["entry"]], "force": True}, headers=ADMIN
        )
        assert forced.status_code == 200
        await asyncio.sleep(2)  # time for the forced copy to arrive and be dropped
    assert len(await store.tally_rows()) == 1

    document = app.openapi()["paths"]
    assert document["/admin/dead-letters"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "/admin/dead-letters/replay" in document


async def test_the_command_lists_and_replays(
    stores: Callable[[], Any], kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    topic = unique("dlqcli")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    probe = probe_event_type(topic)
    store = await stores()
    group = unique("cli")
    cause = Cause()
    async with consuming(
        store, kafka_bootstrap, producer, group, {probe: handler_failing_while(cause, store)}
    ):
        await send_probe(producer, probe, "p-3")
        await eventually(lambda: dead_letters_of(kafka_bootstrap, group))

        code, out, _ = await command("list", "--group", group, "--json", bootstrap=kafka_bootstrap)
        [entry] = json.loads(out)
        assert code == 0
        assert (entry["group"], entry["topic"], entry["original_offset"]) == (group, topic, 0)
        code, out, _ = await command("list", "--group", group, bootstrap=kafka_bootstrap)
        assert code == 0 and entry["entry"] in out and "no exchange rate" in out

        code, _, err = await command("replay", "--entry", "999999:0", bootstrap=kafka_bootstrap)
        assert code != 0 and "no dead-letter entry 999999:0" in err

        cause.fix()
        code, out, _ = await command("replay", "--group", group, "--all", bootstrap=kafka_bootstrap)
        assert code == 0 and f"replayed {entry['entry']} for group {group}" in out
        await eventually(lambda: _rows(store, 1))
        code, _, err = await command("replay", "--entry", entry["entry"], bootstrap=kafka_bootstrap)
        assert code != 0 and "replayed at" in err
        code, out, _ = await command("list", "--group", group, bootstrap=kafka_bootstrap)
        assert "replayed 20" in out
    assert len(await store.tally_rows()) == 1


async def command(*args: str, bootstrap: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "servicekit.deadletters",
        *args,
        "--bootstrap",
        bootstrap,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
