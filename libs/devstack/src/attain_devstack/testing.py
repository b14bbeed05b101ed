"""What service tests share: a migrated database, the app running in-process
with its relay and consumers, bearer tokens, and events published to the broker."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from attain_contracts import CalendarUpdated, Envelope, Event
from attain_contracts.calendar import FiscalCalendar
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


# The calendar is one per organisation, so a test that changes it changes it for every test of
# the session that runs after it, in every service. Its versions must rise across the session
# (tenths of a second since 2026 fit the copies' 32-bit column), and a test restores the default.
_CALENDAR_EPOCH = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
_last_calendar_version = 0


def calendar_version() -> int:
    """A calendar version above every one published before it in this session."""
    global _last_calendar_version
    now = int((datetime.now(UTC).timestamp() - _CALENDAR_EPOCH) * 10)
    _last_calendar_version = max(_last_calendar_version + 1, now)
    return _last_calendar_version


def default_calendar() -> CalendarUpdated:
    """What every service counts on before it has heard of a calendar (FiscalCalendar())."""
    default = FiscalCalendar()
    return CalendarUpdated(
        timezone=default.timezone,
        fiscal_year_start_month=default.fiscal_year_start_month,
        holidays=sorted(default.holidays),
        working_weekends=sorted(default.working_weekends),
        version=calendar_version(),
        updated_at=datetime.now(UTC),
    )


@asynccontextmanager
async def calendar_changed(bootstrap: str) -> AsyncIterator[None]:
    """For a test that publishes calendars (with `calendar_version()`): the default calendar
    before it, whatever an earlier test left, and again after it, for the tests that follow."""
    await publish(bootstrap, default_calendar())
    try:
        yield
    finally:
        await publish(bootstrap, default_calendar())
