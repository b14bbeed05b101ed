"""The scheduled sweep (ARCHITECTURE.md, Schedules): every interval, one replica
(whichever holds the advisory lock) evaluates every active goal at the clock's
instant and sends the escalations due. Idempotent: a sweep at the same instant
again changes nothing."""

import asyncio
import contextlib
from typing import get_args

import structlog
from prometheus_client import Gauge

from alert_service.service_layer import AlertRuntime
from alert_service.service_layer.evaluation import scheduled_sweep
from attain_contracts.types import Severity

log = structlog.get_logger()
OPEN_ALERTS = Gauge(
    "attain_alerts_open",
    "Alerts not resolved (open or acknowledged), by severity, counted after each sweep",
    ["severity"],
)


async def run_sweeps(runtime: AlertRuntime, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await sweep_once(runtime)
        await count_open_alerts(runtime)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), runtime.settings.sweep_interval_seconds)


async def sweep_once(runtime: AlertRuntime) -> None:
    async with runtime.unit_of_work() as uow:
        as_of = uow.clock.now()
        evaluation = await scheduled_sweep(uow, runtime.settings, as_of)
        if evaluation is None:
            return
        await uow.commit()
    log.info(
        "alert.sweep.done",
        as_of=as_of.isoformat(),
        evaluated=evaluation.evaluated,
        changes=len(evaluation.changes),
    )


async def count_open_alerts(runtime: AlertRuntime) -> None:
    """Every replica counts, so the figure stays current whichever one sweeps."""
    async with runtime.unit_of_work() as uow:
        counts = await uow.store.alerts.unresolved_by_severity()
    for severity in get_args(Severity):
        OPEN_ALERTS.labels(severity).set(counts.get(severity, 0))
