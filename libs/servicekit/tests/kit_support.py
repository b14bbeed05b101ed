"""What the servicekit tests share: a throwaway schema with the outbox, the inbox
and a `tally` table whose rows a handler appends (so applying an event twice
shows up as two rows), and a probe event type on a topic of its own."""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar
from uuid import uuid4

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import Column, Integer, MetaData, Numeric, Table, Text, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from attain_contracts import Event
from attain_contracts.types import DecimalString
from servicekit.clock import SystemClock
from servicekit.consumer import EventConsumer
from servicekit.db import MessagingTables, create_engine, create_sessionmaker, messaging_tables
from servicekit.relay import OutboxRelay
from servicekit.settings import ServiceSettings
from servicekit.uow import UnitOfWork


def probe_event_type(topic: str) -> type[Event]:
    class Probe(Event):
        type: ClassVar[str] = f"attain.test.Probe.{topic}.v1"
        aggregate_type: ClassVar[str] = "probe"
        probe_id: str
        key_: str
        amount: DecimalString
        seq: int = 0

        def key(self) -> str:
            return self.key_

    Probe.topic = topic
    return Probe


@dataclass
class Store:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: MessagingTables
    tally: Table

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.tables, source="/attain/test", clock=SystemClock())

    async def tally_rows(self) -> list[tuple[str, str, Decimal]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(self.tally.c.probe_id, self.tally.c.key, self.tally.c.amount).order_by(
                    self.tally.c.row
                )
            )
            return [(row.probe_id, row.key, row.amount) for row in rows]

    async def count(self, table: Table) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


def tally_table(metadata: MetaData, schema: str) -> Table:
    return Table(
        "tally",
        metadata,
        Column("row", Integer, primary_key=True, autoincrement=True),
        Column("probe_id", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("amount", Numeric, nullable=False),
        schema=schema,
    )


async def create_store(database_url: str, schema: str) -> Store:
    metadata = MetaData()
    tables = messaging_tables(metadata, schema)
    tally = tally_table(metadata, schema)
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(metadata.create_all)
    return Store(engine, create_sessionmaker(engine), tables, tally)


def tally_handler(store: Store):  # type: ignore[no-untyped-def]
    """Appends one tally row per event: not idempotent on purpose."""

    async def handle(uow: UnitOfWork, events: list[Event]) -> None:
        await uow.session.execute(
            store.tally.insert(),
            [{"probe_id": e.probe_id, "key": e.key(), "amount": e.amount} for e in events],  # type: ignore[attr-defined]
        )

    return handle


async def create_topic(bootstrap: str, name: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


async def eventually(check, timeout: float = 30.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll an async predicate until it returns a truthy value or time runs out."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid4().hex[:10]}"


def amounts(events: Iterable[Event]) -> Decimal:
    return sum((e.amount for e in events), Decimal(0))  # type: ignore[attr-defined]


class Running:
    """Runs a relay or consumer loop in a task until the block ends."""

    def __init__(self, loop_owner: OutboxRelay | EventConsumer) -> None:
        self.owner = loop_owner
        self.stop = asyncio.Event()

    async def start(self) -> "Running":
        self.task = asyncio.create_task(self.owner.run(self.stop))
        return self

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=30)

    async def __aenter__(self) -> "Running":
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.finish()


def consumer_for(
    store: Store,
    bootstrap: str,
    producer: AIOKafkaProducer,
    handlers,  # type: ignore[no-untyped-def]
    group_id: str | None = None,
    **options,
) -> EventConsumer:
    """A consumer of the test store, in a group of its own unless `group_id` names one."""
    settings = ServiceSettings()
    return EventConsumer(
        service="test",
        group_id=group_id or unique("group"),
        bootstrap=bootstrap,
        handlers=handlers,
        unit_of_work=store.unit_of_work,
        inbox=store.tables.inbox,
        producer=producer,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        **options,
    )
