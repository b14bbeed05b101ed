"""The progress projector: a background loop that folds new ledger rows into
goals' live progress and publishes one `GoalProgressUpdated` per goal it changed.
It wakes on the NOTIFY each ledger append sends, and takes whatever is queued,
so a quiet system answers in milliseconds and a busy one in large batches (fewer
events per row)."""

import asyncio
from functools import partial

from prometheus_client import Counter

from servicekit.wakeup import drain_queue
from tracking_service.service_layer.progress import publish_progress
from tracking_service.service_layer.unit import Runtime
from tracking_service.store.ledger import LEDGER_CHANNEL

ROWS_PROJECTED = Counter(
    "attain_tracking_ledger_rows_projected_total", "Ledger rows folded into live progress"
)
GOALS_UPDATED = Counter(
    "attain_tracking_goal_progress_updates_total", "GoalProgressUpdated events written"
)


async def run_projector(runtime: Runtime, stop: asyncio.Event) -> None:
    settings = runtime.settings
    await drain_queue(
        runtime.engine,
        LEDGER_CHANNEL,
        stop,
        partial(project_once, runtime, settings.projection_batch_size),
        batch_size=settings.projection_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
    )


async def project_once(runtime: Runtime, limit: int) -> int:
    """Fold up to `limit` queued ledger rows; returns how many."""
    async with runtime.unit_of_work() as uow:
        await uow.store.projection.lock()
        seqs = await uow.store.projection.claim(limit)
        if seqs:
            goals = await uow.store.goals.many(await uow.store.projection.fold(seqs))
            await publish_progress(uow, goals)
            GOALS_UPDATED.inc(sum(1 for goal in goals if goal.status == "active"))
        await uow.commit()
    ROWS_PROJECTED.inc(len(seqs))
    return len(seqs)
