"""A service without a database (the dashboard): health, readiness from the probes
it names, metrics, problem responses, and supervised workers that stop with it."""

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from servicekit.app import create_stateless_app
from servicekit.problems import Conflict
from servicekit.settings import ServiceSettings

pytestmark = pytest.mark.unit


async def answers() -> None:
    return None


async def fails() -> None:
    raise ConnectionError("no broker")


def make_app(broker_up: bool, events: list[str]) -> FastAPI:
    router = APIRouter()

    @router.get("/taken")
    def taken() -> None:
        raise Conflict("that name is taken", field="name")

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        events.append("opened")
        yield
        events.append("closed")

    async def worker(stop: asyncio.Event) -> None:
        events.append("worker started")
        await stop.wait()
        events.append("worker stopped")

    def readiness(request: Request) -> dict[str, Awaitable[object]]:
        return {"broker": answers() if broker_up else fails(), "goal-service": answers()}

    # No server answers at this database URL: nothing may try it.
    settings = ServiceSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    return create_stateless_app(
        title="stateless",
        settings=settings,
        readiness=readiness,
        resources=resources,
        routers=[router],
        workers={"worker": worker},
    )


def test_ready_when_every_probe_answers_and_workers_stop_with_the_app() -> None:
    events: list[str] = []
    with TestClient(make_app(True, events)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"broker": "ok", "goal-service": "ok"}
        problem = client.get("/taken")
        assert problem.status_code == 409 and problem.json()["field"] == "name"
        assert "X-Correlation-ID" in problem.headers
        assert 'route="/taken"' in client.get("/metrics").text
    assert events == ["opened", "worker started", "worker stopped", "closed"]


def test_not_ready_names_the_probe_that_failed() -> None:
    with TestClient(make_app(False, [])) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["broker"].startswith("failed: ConnectionError")
    assert ready.json()["checks"]["goal-service"] == "ok"
