"""incentive-service: flat-rate plans, and the earnings they price from the actuals ledger."""

from fastapi import FastAPI

from attain_contracts import ActualRecorded
from incentive_service.api import earnings, plans
from incentive_service.handlers import actuals
from incentive_service.settings import IncentiveSettings
from incentive_service.store.tables import MESSAGING
from servicekit.app import ConsumerSpec, create_service_app
from servicekit.clock import Clock


def create_app(settings: IncentiveSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        title="Attain incentive-service",
        settings=settings or IncentiveSettings(),
        tables=MESSAGING,
        routers=[plans.router, earnings.router],
        consumers=[
            ConsumerSpec(
                group_id="incentive-service",
                handlers={ActualRecorded: actuals.record_earnings},
            )
        ],
        clock=clock,
    )
