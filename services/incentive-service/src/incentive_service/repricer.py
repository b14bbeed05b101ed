"""The background loop that prices queued statements: woken by the NOTIFY of
the transaction that queued them, polling as the fallback."""

import asyncio

from prometheus_client import Counter

from incentive_service.settings import IncentiveSettings
from incentive_service.statements import StatementEngine
from incentive_service.store import queries
from servicekit.app import ServiceRuntime
from servicekit.wakeup import listening

STATEMENTS_PRICED = Counter(
    "incentive_statements_priced_total", "Statements priced by the repricer, changed or not"
)
STATEMENTS_CHANGED = Counter(
    "incentive_statements_changed_total", "Statements whose figures changed when priced"
)


async def run_repricer(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    settings = runtime.settings
    assert isinstance(settings, IncentiveSettings)
    async with listening(runtime.engine, queries.REPRICE_CHANNEL) as wakeup:
        while not stop.is_set():
            wakeup.clear()
            if await reprice_once(runtime, settings) < settings.reprice_batch_size:
                await wakeup.wait(stop, settings.outbox_poll_seconds)


async def reprice_once(runtime: ServiceRuntime, settings: IncentiveSettings) -> int:
    """Price up to a batch of queued statements; how many were taken."""
    calendar = settings.calendar()
    async with runtime.unit_of_work() as uow:
        keys = await queries.claim(uow.session, settings.reprice_batch_size)
        changed = await StatementEngine(uow, calendar).reprice(keys) if keys else 0
        await uow.commit()
    STATEMENTS_PRICED.inc(len(keys))
    STATEMENTS_CHANGED.inc(changed)
    return len(keys)
