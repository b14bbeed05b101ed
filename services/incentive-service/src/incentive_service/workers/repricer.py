"""The background loop that prices queued statements: woken by the NOTIFY of
the transaction that queued them, polling as the fallback."""

import asyncio
from functools import partial

from prometheus_client import Counter, Gauge

from incentive_service.service_layer import Runtime
from incentive_service.service_layer.directory import organisation_calendar
from incentive_service.service_layer.repricing import reprice_queued
from incentive_service.store import REPRICE_CHANNEL
from servicekit.metrics import QueueDepth
from servicekit.wakeup import drain_queue

STATEMENTS_PRICED = Counter(
    "incentive_statements_priced_total", "Statements priced by the repricer, changed or not"
)
STATEMENTS_CHANGED = Counter(
    "incentive_statements_changed_total", "Statements whose figures changed when priced"
)
REPRICE_BACKLOG = Gauge(
    "attain_incentive_reprice_backlog",
    "Statements queued to be priced again, as the repricer last counted them",
)


async def run_repricer(runtime: Runtime, stop: asyncio.Event) -> None:
    settings = runtime.settings
    await drain_queue(
        runtime.engine,
        REPRICE_CHANNEL,
        stop,
        partial(reprice_once, runtime, QueueDepth(REPRICE_BACKLOG)),
        batch_size=settings.reprice_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
    )


async def reprice_once(runtime: Runtime, depth: QueueDepth) -> int:
    """Price up to a batch of queued statements; how many were taken."""
    batch_size = runtime.settings.reprice_batch_size
    async with runtime.unit_of_work() as uow:
        calendar = await organisation_calendar(uow, runtime.settings.calendar())
        taken, changed = await reprice_queued(uow, calendar, batch_size)
        await depth.after_batch(taken, batch_size, uow.store.queue.queued)
        await uow.commit()
    STATEMENTS_PRICED.inc(taken)
    STATEMENTS_CHANGED.inc(changed)
    return taken
