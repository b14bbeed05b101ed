"""What service tests share: a migrated database, the app running in-process
with its relay and consumers, bearer tokens, and events published to the broker."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from attain_contracts import Envelope, Event
from servicekit.auth import Role, mint_token
from servicekit.kafka import event_headers
from servicekit.migrations import upgrade

TEST_SECRET = "attain-test-secret-of-at-least-32-bytes"
TEST_SOURCE = "/attain/test"


async def migrate(package: str, database_url: str) -> None:
    await asyncio.to_thread(upgrade, package, database_url)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay, consumers) running, and a client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def bearer(*roles: Role, person_id: str | None = None, secret: str = TEST_SECRET) -> dict[str, str]:
    token = mint_token(secret, subject=person_id or "test", roles=list(roles), person_id=person_id)
    return {"Authorization": f"Bearer {token}"}


def envelope(event: Event, *, time: datetime | None = None) -> Envelope:
    """`event` in a new envelope (a new event id each call), as a test's producer sends it."""
    return Envelope.wrap(event, source=TEST_SOURCE, time=time or datetime.now(UTC))


async def publish(bootstrap: str, *events: Event, time: datetime | None = None) -> list[Envelope]:
    """Send each event, in a new envelope, to its topic as a service's relay does (its key, the
    relay's headers, acks from all replicas), in order; return the envelopes sent."""
    envelopes = [envelope(event, time=time) for event in events]
    await publish_envelopes(bootstrap, *envelopes)
    return envelopes


async def publish_envelopes(bootstrap: str, *envelopes: Envelope) -> None:
    """Send these envelopes as they are, in order: the same one again is a redelivery."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for item in envelopes:
            event = item.event()
            await producer.send_and_wait(
                event.topic,
                item.to_bytes(),
                key=event.key().encode(),
                headers=event_headers(str(item.id), item.type, item.correlationid),
            )
    finally:
        await producer.stop()
