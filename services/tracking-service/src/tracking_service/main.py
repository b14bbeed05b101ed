"""tracking-service: CRM ingestion, the actuals ledger and live goal progress."""

from functools import partial

from fastapi import FastAPI

from attain_contracts import (
    CalendarUpdated,
    GoalArchived,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
)
from servicekit.app import ConsumerSpec, create_service_app
from servicekit.clock import Clock
from tracking_service.api import admin, fx, imports, progress, sources, statistics, webhooks
from tracking_service.handlers import directory
from tracking_service.settings import TrackingSettings
from tracking_service.store import TrackingStore
from tracking_service.store.tables import MESSAGING
from tracking_service.workers.projector import run_projector


def create_app(settings: TrackingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or TrackingSettings()
    base = settings.base_currency
    return create_service_app(
        title="Attain tracking-service",
        settings=settings,
        tables=MESSAGING,
        store=TrackingStore,
        routers=[
            sources.router,
            webhooks.router,
            imports.router,
            fx.router,
            progress.router,
            statistics.router,
            admin.router,
        ],
        consumers=[
            ConsumerSpec(
                group_id="tracking-service",
                handlers={
                    OrgUnitUpserted: partial(directory.on_org_units, base_currency=base),
                    PersonUpserted: partial(directory.on_people, base_currency=base),
                    GoalUpserted: directory.on_goals,
                    GoalArchived: directory.on_goals_archived,
                    CalendarUpdated: directory.on_calendar,
                },
            )
        ],
        workers={"progress-projector": run_projector},
        clock=clock,
    )
