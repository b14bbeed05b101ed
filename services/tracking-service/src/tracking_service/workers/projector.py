"""The progress projector: a background loop that folds new ledger rows into
goals' live progress and publishes one `GoalProgressUpdated` per goal it changed.
It wakes on the NOTIFY each ledger append sends, and takes whatever is queued,
so a quiet system answers in milliseconds and a busy one in large batches (fewer
events per row)."""

import asyncio
from functools import partial

from prometheus_client import Counter, Gauge, Histogram

from servicekit.metrics import QueueDepth
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
PROGRESS_FRESHNESS = Histogram(
    "attain_tracking_progress_freshness_seconds",
    "From deals accepted (their ledger rows' recorded_at) to the commit of the projector "
    "transaction that folded them into goal progress and wrote the GoalProgressUpdated events "
    "to the outbox; the relay publishes them next (attain_outbox_oldest_unpublished_age_seconds "
    "covers that leg). One observation per ingest transaction per projector batch",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)
PROJECTION_BACKLOG = Gauge(
    "attain_tracking_projection_backlog",
    "Ledger rows queued for the projector, as it last counted them",
)


async def run_projector(runtime: Runtime, stop: asyncio.Event) -> None:
    settings = runtime.settings
    await drain_queue(
        runtime.engine,
        LEDGER_CHANNEL,
        stop,
        partial(
            project_once,
            runtime,
            settings.projection_batch_size,
            QueueDepth(PROJECTION_BACKLOG),
        ),
        batch_size=settings.projection_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
    )


async def project_once(runtime: Runtime, limit: int, depth: QueueDepth) -> int:
    """Fold up to `limit` queued ledger rows; returns how many."""
    async with runtime.unit_of_work() as uow:
        projection = uow.store.projection
        await projection.lock()
        claimed = await projection.claim(limit)
        if claimed.seqs:
            goals = await uow.store.goals.many(await projection.fold(claimed.seqs))
            await publish_progress(uow, goals, numbered=True)
            GOALS_UPDATED.inc(sum(1 for goal in goals if goal.status == "active"))
        await depth.after_batch(len(claimed.seqs), limit, projection.queued)
        await uow.commit()
    ROWS_PROJECTED.inc(len(claimed.seqs))
    committed = runtime.clock.now()
    for recorded_at in claimed.recorded:
        PROGRESS_FRESHNESS.observe(max(0.0, (committed - recorded_at).total_seconds()))
    return len(claimed.seqs)
