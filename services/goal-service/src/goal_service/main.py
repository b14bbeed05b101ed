"""goal-service: org tree, people and goals with one owner each."""

from fastapi import FastAPI

from goal_service.api import goals, org
from goal_service.settings import GoalSettings
from goal_service.store.tables import MESSAGING
from servicekit.app import create_service_app
from servicekit.clock import Clock


def create_app(settings: GoalSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        title="Attain goal-service",
        settings=settings or GoalSettings(),
        tables=MESSAGING,
        routers=[org.router, goals.router],
        clock=clock,
    )
