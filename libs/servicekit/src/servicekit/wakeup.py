"""Waking a background loop when PostgreSQL says there is work: a `LISTEN` on a
channel that committing transactions `NOTIFY`, with polling as the fallback for a
notification missed while the loop was busy or disconnected."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self, *_: Any) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Until notified, stopped, or `seconds` passed."""
        stopped = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._event.wait())
        try:
            await asyncio.wait(
                {stopped, woken}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stopped.cancel()
            woken.cancel()


@asynccontextmanager
async def listening(engine: AsyncEngine, channel: str) -> AsyncIterator[Wakeup]:
    """A `Wakeup` set by every NOTIFY on `channel` while the block runs."""
    wakeup = Wakeup()
    async with engine.connect() as listener:
        raw = await listener.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.add_listener(channel, wakeup.notify)
        try:
            yield wakeup
        finally:
            await driver.remove_listener(channel, wakeup.notify)


async def notify(session: AsyncSession, channel: str) -> None:
    """Wake the loops listening on `channel` when the session's transaction commits
    (PostgreSQL delivers a NOTIFY only then)."""
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})


async def drain_queue(
    engine: AsyncEngine,
    channel: str,
    stop: asyncio.Event,
    take: Callable[[], Awaitable[int]],
    *,
    batch_size: int,
    poll_seconds: float,
) -> None:
    """The loop of every queue worker (the projector, the repricer, deliveries):
    `take` handles up to `batch_size` queued items in its own transaction and says
    how many it took; a full batch means more may be waiting, so it takes again at
    once; otherwise it sleeps until a NOTIFY on `channel`, `stop`, or `poll_seconds`."""
    async with listening(engine, channel) as wakeup:
        while not stop.is_set():
            wakeup.clear()
            if await take() < batch_size:
                await wakeup.wait(stop, poll_seconds)
