"""The progress projector: folds a batch of `ActualRecorded` into one
`GoalProgressUpdated` per affected goal."""

from attain_contracts import ActualRecorded
from servicekit.uow import UnitOfWork
from tracking_service.progress import publish_progress
from tracking_service.store import queries
from tracking_service.store.tables import Goal


async def on_actuals(uow: UnitOfWork, events: list[ActualRecorded]) -> None:
    affected: dict[str, Goal] = {}
    seen = set()
    for event in events:
        match = (
            event.metric,
            event.person_id,
            tuple(event.org_path),
            event.credited_on,
            event.product_line,
        )
        if match in seen:
            continue
        seen.add(match)
        for goal in await queries.goals_matching(
            uow.session, *match[:2], list(match[2]), *match[3:]
        ):
            affected[goal.id] = goal
    await publish_progress(uow, list(affected.values()))
