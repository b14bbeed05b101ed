"""The scheduled sweep (ARCHITECTURE.md, Schedules): every interval, one replica
(whichever holds the advisory lock) evaluates every active goal at the clock's
instant and sends the escalations due. Idempotent: a sweep at the same instant
again changes nothing."""

import asyncio
import contextlib

import structlog

from alert_service.evaluation import sweep
from alert_service.metrics import EVALUATION_SECONDS
from alert_service.settings import AlertSettings
from alert_service.store import queries
from servicekit.app import ServiceRuntime

log = structlog.get_logger()


async def run_sweeps(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    settings = runtime.settings
    assert isinstance(settings, AlertSettings)
    while not stop.is_set():
        await sweep_once(runtime, settings)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.sweep_interval_seconds)


async def sweep_once(runtime: ServiceRuntime, settings: AlertSettings) -> None:
    async with runtime.unit_of_work() as uow:
        if not await queries.try_sweep_lock(uow.session):
            return
        as_of = uow.clock.now()
        with EVALUATION_SECONDS.labels("sweep").time():
            evaluation = await sweep(uow, settings, as_of)
        await uow.commit()
    log.info(
        "alert.sweep.done",
        as_of=as_of.isoformat(),
        evaluated=evaluation.evaluated,
        changes=len(evaluation.changes),
    )
