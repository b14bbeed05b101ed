"""goal-service: org tree, people, goals with one owner each, and the
decomposition engine."""

import httpx
from fastapi import FastAPI

from attain_contracts import DeviationDetected
from goal_service.api import goals, imports, org, plans, proposals
from goal_service.handlers import deviations
from goal_service.settings import GoalSettings
from goal_service.store import GoalStore
from goal_service.store.tables import MESSAGING
from servicekit.app import ConsumerSpec, create_service_app
from servicekit.clock import Clock
from servicekit.upstream import service_tokens


def create_app(
    settings: GoalSettings | None = None,
    clock: Clock | None = None,
    tracking_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`tracking_transport` reaches tracking-service in-process (tests)."""
    settings = settings or GoalSettings()
    # It reads tracking-service as itself: without its credentials it must not start.
    service_tokens(settings, settings.service_name)
    app = create_service_app(
        title="Attain goal-service",
        settings=settings,
        tables=MESSAGING,
        store=GoalStore,
        routers=[org.router, goals.router, plans.router, proposals.router, imports.router],
        consumers=[
            ConsumerSpec(
                group_id="goal-service",
                handlers={DeviationDetected: deviations.handler(settings, tracking_transport)},
            )
        ],
        workers={},
        clock=clock,
    )
    app.state.tracking_transport = tracking_transport
    return app
