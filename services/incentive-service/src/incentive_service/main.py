"""incentive-service: plans, statements priced from the actuals ledger against
each person's goal, payout runs and closing, leaderboards, badges and scorecards."""

from functools import partial

from fastapi import FastAPI

from attain_contracts import (
    ActualRecorded,
    CalendarUpdated,
    GoalArchived,
    GoalProgressUpdated,
    GoalUpserted,
    OrgUnitUpserted,
    PersonUpserted,
)
from incentive_service.api import periods, plans, standings, statements
from incentive_service.handlers.actuals import on_actuals
from incentive_service.handlers.directory import (
    on_calendar,
    on_goals,
    on_goals_archived,
    on_org_units,
    on_people,
)
from incentive_service.handlers.progress import on_progress
from incentive_service.settings import IncentiveSettings
from incentive_service.store import IncentiveStore
from incentive_service.store.tables import MESSAGING
from incentive_service.workers.repricer import run_repricer
from servicekit.app import ConsumerSpec, create_service_app
from servicekit.clock import Clock


def create_app(settings: IncentiveSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or IncentiveSettings()
    return create_service_app(
        title="Attain incentive-service",
        settings=settings,
        tables=MESSAGING,
        store=IncentiveStore,
        routers=[plans.router, statements.router, periods.router, standings.router],
        consumers=[
            ConsumerSpec(
                group_id="incentive-service",
                handlers={
                    OrgUnitUpserted: partial(on_org_units, settings=settings),
                    CalendarUpdated: on_calendar,
                    PersonUpserted: partial(on_people, settings=settings),
                    GoalUpserted: partial(on_goals, settings=settings),
                    GoalArchived: partial(on_goals_archived, settings=settings),
                    GoalProgressUpdated: on_progress,
                    ActualRecorded: partial(on_actuals, settings=settings),
                },
            )
        ],
        workers={"repricer": run_repricer},
        clock=clock,
    )
