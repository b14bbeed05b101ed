"""A goal that falls behind gets a re-plan offered (ARCHITECTURE.md): on
`DeviationDetected`, the remaining periods are re-planned as a proposal that a
planner accepts or rejects. Nothing changes until then."""

from functools import partial
from zoneinfo import ZoneInfo

import httpx
import structlog

from attain_contracts import DeviationDetected
from goal_service.plans import replanning
from goal_service.settings import GoalSettings
from goal_service.store import queries
from goal_service.tracking import TrackingClient
from servicekit.consumer import BatchHandler
from servicekit.problems import InvalidInput
from servicekit.uow import UnitOfWork

log = structlog.get_logger()


async def on_deviations(
    uow: UnitOfWork,
    events: list[DeviationDetected],
    *,
    settings: GoalSettings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    session = uow.session
    calendar = await queries.calendar(session, settings.timezone)
    tracking = TrackingClient.from_settings(settings, transport)
    try:
        for event in events:
            goal = await queries.goal(session, event.goal_id)
            target = await replanning.replan_target(session, goal) if goal else None
            if target is None or target.status != "active":
                log.info("replan.skipped", goal_id=event.goal_id, alert_id=event.alert_id)
                continue
            if any(p.trigger == event.alert_id for p in await queries.plans(session, target.id)):
                continue  # already offered for this alert
            as_of = event.as_of.astimezone(ZoneInfo(calendar.timezone)).date()
            try:
                computed = await replanning.compute(session, tracking, target, as_of)
            except InvalidInput as error:  # nothing left to re-plan
                log.info("replan.not_offered", goal_id=target.id, reason=str(error))
                continue
            await replanning.propose(
                session,
                target,
                computed,
                actor="goal-service",
                at=uow.clock.now(),
                trigger=event.alert_id,
                as_of=as_of,
            )
    finally:
        await tracking.close()
    await session.flush()


def handler(
    settings: GoalSettings, transport: httpx.AsyncBaseTransport | None = None
) -> BatchHandler:
    return partial(on_deviations, settings=settings, transport=transport)
