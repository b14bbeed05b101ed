"""alert-service: evaluates goals against their deviation rules, carries alerts
from open to resolved, escalates them, and notifies the people concerned."""

from functools import partial

import httpx
from fastapi import FastAPI

from alert_service.api import admin, alerts, goals, rules, subscriptions
from alert_service.handlers.directory import (
    on_calendar,
    on_goals,
    on_goals_archived,
    on_org_units,
    on_people,
)
from alert_service.handlers.progress import on_goal_progress
from alert_service.settings import AlertSettings
from alert_service.store import AlertStore
from alert_service.store.tables import MESSAGING
from alert_service.workers.deliveries import run_deliveries
from alert_service.workers.sweeps import run_sweeps
from attain_contracts import (
    CalendarUpdated,
    GoalArchived,
    GoalProgressUpdated,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
)
from servicekit.app import ConsumerSpec, create_service_app
from servicekit.clock import Clock
from servicekit.upstream import service_tokens


def create_app(
    settings: AlertSettings | None = None,
    clock: Clock | None = None,
    tracking_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`tracking_transport` reaches tracking-service in-process (tests)."""
    settings = settings or AlertSettings()
    # It reads tracking-service as itself: without its credentials it must not start.
    service_tokens(settings, settings.service_name)
    app = create_service_app(
        title="Attain alert-service",
        settings=settings,
        tables=MESSAGING,
        store=AlertStore,
        routers=[alerts.router, rules.router, goals.router, subscriptions.router, admin.router],
        consumers=[
            ConsumerSpec(
                group_id="alert-service",
                handlers={
                    OrgUnitUpserted: on_org_units,
                    PersonUpserted: on_people,
                    CalendarUpdated: on_calendar,
                    GoalUpserted: partial(on_goals, settings=settings),
                    GoalArchived: partial(on_goals_archived, settings=settings),
                    GoalProgressUpdated: partial(on_goal_progress, settings=settings),
                },
            )
        ],
        workers={"sweeps": run_sweeps, "deliveries": run_deliveries},
        clock=clock,
    )
    app.state.tracking_transport = tracking_transport
    return app
