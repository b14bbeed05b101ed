"""The progress projector: a background loop that folds new ledger rows into
goals' live progress and publishes one `GoalProgressUpdated` per goal it changed.
It wakes on the NOTIFY each ledger append sends, and takes whatever is queued,
so a quiet system answers in milliseconds and a busy one in large batches (fewer
events per row)."""

import asyncio

from prometheus_client import Counter

from servicekit.app import ServiceRuntime
from servicekit.wakeup import listening
from tracking_service.progress import publish_progress
from tracking_service.settings import TrackingSettings
from tracking_service.store import projection, queries
from tracking_service.store.ledger import LEDGER_CHANNEL

ROWS_PROJECTED = Counter(
    "attain_tracking_ledger_rows_projected_total", "Ledger rows folded into live progress"
)
GOALS_UPDATED = Counter(
    "attain_tracking_goal_progress_updates_total", "GoalProgressUpdated events written"
)


async def run_projector(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    settings = runtime.settings
    assert isinstance(settings, TrackingSettings)
    async with listening(runtime.engine, LEDGER_CHANNEL) as wakeup:
        while not stop.is_set():
            wakeup.clear()
            if await project_once(runtime, settings.projection_batch_size) < (
                settings.projection_batch_size
            ):
                await wakeup.wait(stop, settings.outbox_poll_seconds)


async def project_once(runtime: ServiceRuntime, limit: int) -> int:
    """Fold up to `limit` queued ledger rows; returns how many."""
    async with runtime.unit_of_work() as uow:
        await projection.lock(uow.session)
        seqs = await projection.claim(uow.session, limit)
        if seqs:
            goals = await queries.goals(uow.session, await projection.fold(uow.session, seqs))
            await publish_progress(uow, goals)
            GOALS_UPDATED.inc(sum(1 for goal in goals if goal.status == "active"))
        await uow.commit()
    ROWS_PROJECTED.inc(len(seqs))
    return len(seqs)
