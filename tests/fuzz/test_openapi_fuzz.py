"""Every operation of every service's OpenAPI document, fuzzed by schemathesis with an admin's
and a rep's token against the services running in-process on real PostgreSQL and the broker:
no answer is a 5xx, and every answer matches the schema its operation declares.

Bounded and derandomized (a fixed number of examples per operation, the same ones each run),
so the tier takes minutes and a failure reproduces. `ATTAIN_FUZZ_MAX_EXAMPLES` raises it."""

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from alert_service.main import create_app as alert_app
from alert_service.settings import AlertSettings
from attain_devstack.stack import Infrastructure
from attain_devstack.testing import TEST_SECRET, bearer
from goal_service.main import create_app as goal_app
from goal_service.settings import GoalSettings
from incentive_service.main import create_app as incentive_app
from incentive_service.settings import IncentiveSettings
from servicekit.auth import Role
from servicekit.migrations import upgrade
from servicekit.settings import ServiceSettings
from tracking_service.main import create_app as tracking_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = int(os.environ.get("ATTAIN_FUZZ_MAX_EXAMPLES", "5"))
BASE_URL = "http://test"

SERVICES: dict[str, tuple[str, type[ServiceSettings], Callable[..., FastAPI]]] = {
    "goal-service": ("goal_service", GoalSettings, goal_app),
    "tracking-service": ("tracking_service", TrackingSettings, tracking_app),
    "alert-service": ("alert_service", AlertSettings, alert_app),
    "incentive-service": ("incentive_service", IncentiveSettings, incentive_app),
}

TOKENS = {
    "admin": bearer(Role.ADMIN, person_id="p-admin"),
    "rep": bearer(Role.REP, person_id="p-rep"),
}

T = TypeVar("T")


class Service:
    """A service app with its lifespan running on an event loop of its own thread, so the
    synchronous hypothesis loop can call it."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.client: httpx.AsyncClient | None = None
        self.stopped: asyncio.Event | None = None
        self.serving: Future[None] | None = None

    def start(self) -> None:
        self.thread.start()
        started: Future[None] = Future()
        self.serving = asyncio.run_coroutine_threadsafe(self._serve(started), self.loop)
        started.result()

    async def _serve(self, started: Future[None]) -> None:
        self.stopped = asyncio.Event()
        # A 500 comes back as the response it is, not as the exception behind it.
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        async with (
            self.app.router.lifespan_context(self.app),
            httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
        ):
            self.client = client
            started.set_result(None)
            await self.stopped.wait()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def call(self, case: schemathesis.Case, headers: dict[str, str]) -> httpx.Response | None:
        """The answer to `case`, or None when it is no request httpx can send (a negative
        case's number where a multipart file goes)."""
        assert self.client is not None
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
        data = kwargs.pop("data", None)
        if isinstance(data, bytes | str):
            kwargs["content"] = data
        elif data is not None:
            kwargs["data"] = data
        kwargs.pop("cookies", None)
        try:
            request = self.client.build_request(**kwargs)
            # Read now, so the checks can look at what was sent (a multipart body is a stream).
            request.read()
        except (TypeError, AttributeError, ValueError):
            return None
        return self.run(self.client.send(request))

    def stop(self) -> None:
        assert self.stopped is not None and self.serving is not None
        self.loop.call_soon_threadsafe(self.stopped.set)
        self.serving.result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


@pytest.fixture(scope="module")
def services(infrastructure: Infrastructure, module_database: str) -> Iterator[dict[str, Service]]:
    for package, _, _ in SERVICES.values():
        upgrade(package, module_database)
    started: dict[str, Service] = {}
    try:
        for name, (_, settings_class, factory) in SERVICES.items():
            service = Service(
                factory(
                    settings_class(
                        database_url=module_database,
                        kafka_bootstrap=infrastructure.kafka_bootstrap,
                        jwt_secret=TEST_SECRET,
                    )
                )
            )
            service.start()
            started[name] = service
        yield started
    finally:
        for service in started.values():
            service.stop()


@pytest.mark.parametrize("role", list(TOKENS))
@pytest.mark.parametrize("name", list(SERVICES))
def test_no_server_error_and_answers_match_their_schema(
    services: dict[str, Service], name: str, role: str
) -> None:
    service = services[name]
    document = service.run(service.client.get("/openapi.json")).json()  # type: ignore[union-attr]
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    examples = 0
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        # Failures are collected, not raised: hypothesis would spend the budget shrinking one.
        @given(case=cases)
        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            nonlocal examples
            response = service.call(case, TOKENS[role])
            if response is None:
                reject()
            examples += 1
            try:
                case.validate_response(
                    response, checks=[not_a_server_error, response_schema_conformance]
                )
            except (AssertionError, FailureGroup) as failure:
                failures.append(f"{case.operation.label}: {failure}\n  {case.as_curl_command()}")

        call()
    print(f"{name} as {role}: {len(operations)} operations, {examples} examples")
    assert not failures, "\n".join(failures)
