"""A goal that falls behind gets a re-plan offered (ARCHITECTURE.md): on
`DeviationDetected`, the remaining periods are re-planned as a proposal that a
planner accepts or rejects. Nothing changes until then."""

from functools import partial

import httpx

from attain_contracts import DeviationDetected
from goal_service.service_layer import Unit, replanning
from goal_service.settings import GoalSettings
from servicekit.consumer import BatchHandler


async def on_deviations(
    uow: Unit,
    events: list[DeviationDetected],
    *,
    settings: GoalSettings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    await replanning.offer(uow, events, settings=settings, transport=transport)


def handler(
    settings: GoalSettings, transport: httpx.AsyncBaseTransport | None = None
) -> BatchHandler:
    return partial(on_deviations, settings=settings, transport=transport)
