"""alert-service: evaluates goals' progress against their rules and carries
deviation alerts from open to resolved."""

from functools import partial

from fastapi import FastAPI

from alert_service.api import admin, alerts
from alert_service.handlers.progress import on_goal_progress
from alert_service.settings import AlertSettings
from alert_service.store.tables import MESSAGING
from attain_contracts import GoalProgressUpdated
from servicekit.app import ConsumerSpec, create_service_app
from servicekit.clock import Clock


def create_app(settings: AlertSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or AlertSettings()
    return create_service_app(
        title="Attain alert-service",
        settings=settings,
        tables=MESSAGING,
        routers=[alerts.router, admin.router],
        consumers=[
            ConsumerSpec(
                group_id="alert-service",
                handlers={GoalProgressUpdated: partial(on_goal_progress, settings=settings)},
            )
        ],
        clock=clock,
    )
