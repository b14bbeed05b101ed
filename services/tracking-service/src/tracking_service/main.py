"""tracking-service: CRM webhooks, the actuals ledger and live goal progress."""

from fastapi import FastAPI

from attain_contracts import (
    ActualRecorded,
    GoalArchived,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
)
from servicekit.app import ConsumerSpec, create_service_app
from servicekit.clock import Clock
from tracking_service.api import progress, sources, webhooks
from tracking_service.handlers import actuals, directory
from tracking_service.settings import TrackingSettings
from tracking_service.store.tables import MESSAGING


def create_app(settings: TrackingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        title="Attain tracking-service",
        settings=settings or TrackingSettings(),
        tables=MESSAGING,
        routers=[sources.router, webhooks.router, progress.router],
        consumers=[
            ConsumerSpec(
                group_id="tracking-service",
                handlers={
                    OrgUnitUpserted: directory.on_org_units,
                    PersonUpserted: directory.on_people,
                    GoalUpserted: directory.on_goals,
                    GoalArchived: directory.on_goals_archived,
                    ActualRecorded: actuals.on_actuals,
                },
            )
        ],
        clock=clock,
    )
