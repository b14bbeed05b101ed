"""The one place a service is wired: `create_service_app` builds the FastAPI app
with problem responses, metrics, logs and health checks, and its lifespan runs
the outbox relay, the consumers and the service's workers until the app stops (none in
a web replica: `background_work` off)."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, Generic, Self, TypeVar, cast

import structlog
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attain_contracts import Event
from servicekit import metrics
from servicekit.auth import verifier_for
from servicekit.clock import Clock, SystemClock
from servicekit.consumer import BatchHandler, EventConsumer
from servicekit.db import MessagingTables, create_engine, create_sessionmaker, is_transient
from servicekit.deadletter_api import dead_letter_router
from servicekit.kafka import create_producer
from servicekit.limits import RequestGuard, body_limits
from servicekit.logs import CORRELATION_HEADER, configure_logging, correlation
from servicekit.problems import install_problem_handlers, unexpected_error
from servicekit.ratelimit import RateLimiter, rate_limits
from servicekit.relay import OutboxRelay
from servicekit.retention import prune_on_schedule
from servicekit.settings import ServiceSettings
from servicekit.uow import StoreFactory, StoreT, UnitOfWork

log = structlog.get_logger()

READINESS_TIMEOUT_SECONDS = 2.0
RESTART_BACKOFF_SECONDS = 1.0
STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class ConsumerSpec:
    group_id: str
    handlers: dict[type[Event], BatchHandler]


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
SharedT = TypeVar("SharedT")


@dataclass
class ServiceRuntime(Generic[SettingsT, StoreT]):
    """What the lifespan creates; routes reach it as `request.app.state.runtime`.
    Typed by the service's settings and store: `ServiceRuntime[GoalSettings, GoalStore]`."""

    settings: SettingsT
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: MessagingTables
    producer: AIOKafkaProducer
    clock: Clock
    store: StoreFactory[StoreT] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _shared: dict[type, object] = field(default_factory=dict)

    def unit_of_work(self) -> UnitOfWork[StoreT]:
        return UnitOfWork(
            self.sessions,
            self.tables,
            source=f"/attain/{self.settings.service_name}",
            clock=self.clock,
            store=self.store,
        )

    def shared(self, kind: type[SharedT], make: Callable[[Self], SharedT]) -> SharedT:
        """The one `kind` of this runtime, made on first use: state that the requests of a
        replica share, such as the deliveries waiting to be committed together."""
        found = self._shared.get(kind)
        if found is None:
            found = self._shared[kind] = make(self)
        return cast(SharedT, found)


Worker = Callable[[ServiceRuntime[SettingsT, StoreT], asyncio.Event], Awaitable[None]]


def create_service_app(
    *,
    title: str,
    settings: SettingsT,
    tables: MessagingTables,
    store: StoreFactory[StoreT] | None = None,
    routers: Sequence[APIRouter] = (),
    consumers: Sequence[ConsumerSpec] = (),
    workers: Mapping[str, Worker[SettingsT, StoreT]] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """`store` builds the service's store on each unit of work's session; `workers`
    are background loops by name, run until the app stops and restarted after a
    pause when they fail. Every such service also prunes its outbox and inbox
    (servicekit.retention) and lets admins list and replay its dead letters
    (servicekit.deadletter_api)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        engine = create_engine(settings.database_url, settings.database_pool_size)
        metrics.watch_pool(settings.service_name, engine)
        producer = create_producer(settings)
        await producer.start()
        runtime = ServiceRuntime(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            tables=tables,
            producer=producer,
            clock=clock or SystemClock(),
            store=store,
        )
        app.state.runtime = runtime
        relay = await _start_relay(settings, tables, engine) if settings.background_work else None
        loops: dict[str, Callable[[asyncio.Event], Awaitable[None]]] = {}
        if relay is not None:
            loops["outbox-relay"] = relay.run
            loops["retention"] = partial(prune_on_schedule, engine, tables, settings)
            for spec in consumers:
                loops[f"consumer:{spec.group_id}"] = _consumer(settings, runtime, spec).run
            for name, worker in (workers or {}).items():
                loops[name] = partial(worker, runtime)
        tasks = [
            asyncio.create_task(_supervised(name, run, runtime.stop)) for name, run in loops.items()
        ]
        log.info(
            "service.started",
            service=settings.service_name,
            background=sorted(loops) if loops else "none (web replica)",
        )
        try:
            yield
        finally:
            runtime.stop.set()
            await _stopped(tasks)
            if relay is not None:
                await relay.producer.stop()
            await producer.stop()
            await engine.dispose()
            log.info("service.stopped", service=settings.service_name)

    dead_letters = dead_letter_router(settings.service_name, [spec.group_id for spec in consumers])
    return _web_app(title, settings, lifespan, [*routers, dead_letters], _database_and_broker)


async def _start_relay(
    settings: ServiceSettings, tables: MessagingTables, engine: AsyncEngine
) -> OutboxRelay:
    # The relay's own producer: it replaces it when a broker outage breaks it for good,
    # which it could not do to one that the consumers hold too.
    producer = create_producer(settings)
    await producer.start()
    return OutboxRelay(
        engine,
        tables,
        producer,
        service=settings.service_name,
        poll_seconds=settings.outbox_poll_seconds,
        batch_size=settings.outbox_batch_size,
        new_producer=partial(create_producer, settings),
    )


def _consumer(
    settings: ServiceSettings, runtime: ServiceRuntime[Any, Any], spec: ConsumerSpec
) -> EventConsumer:
    return EventConsumer(
        service=settings.service_name,
        group_id=spec.group_id,
        bootstrap=settings.kafka_bootstrap,
        handlers=spec.handlers,
        unit_of_work=runtime.unit_of_work,
        inbox=runtime.tables.inbox,
        producer=runtime.producer,
        batch_size=settings.consumer_batch_size,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_attempts=settings.consumer_max_attempts,
        retry_backoff_seconds=settings.consumer_retry_backoff_seconds,
    )


Readiness = Callable[[Request], Mapping[str, Awaitable[object]]]
StatelessWorker = Callable[[asyncio.Event], Awaitable[None]]


def create_stateless_app(
    *,
    title: str,
    settings: ServiceSettings,
    readiness: Readiness,
    resources: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter] = (),
    workers: Mapping[str, StatelessWorker] | None = None,
) -> FastAPI:
    """A service that owns no data (the dashboard): the same problem responses,
    metrics, logs, correlation ids and health checks, but no database, outbox or
    producer. `resources` opens and closes what the service holds (its HTTP
    clients); `readiness` names the probes /readyz awaits (its broker, the APIs it
    reads); `workers` run supervised, as in `create_service_app`, until it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        async with resources(app):
            stop = asyncio.Event()
            tasks = [
                asyncio.create_task(_supervised(name, worker, stop))
                for name, worker in (workers or {}).items()
            ]
            log.info("service.started", service=settings.service_name)
            try:
                yield
            finally:
                stop.set()
                await _stopped(tasks)
                log.info("service.stopped", service=settings.service_name)

    return _web_app(title, settings, lifespan, routers, readiness)


def _web_app(
    title: str,
    settings: ServiceSettings,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    readiness: Readiness,
) -> FastAPI:
    app = FastAPI(title=title, lifespan=lifespan)
    app.state.settings = settings
    # One per app: the identity provider's keys are fetched and cached once for all requests.
    app.state.token_verifier = verifier_for(settings)
    install_problem_handlers(app)
    # Innermost first: the guard reads the body only for requests the limiter let through,
    # and both answer with the correlation id the outermost binds.
    app.add_middleware(
        RequestGuard,
        limits=body_limits(settings),
        routes=[route for router in routers for route in router.routes],
    )
    app.add_middleware(
        RateLimiter,
        limits=rate_limits(settings),
        verifier=app.state.token_verifier,
    )
    app.add_middleware(RequestMiddleware, service=settings.service_name)
    app.include_router(_health_router(readiness))
    for router in routers:
        app.include_router(router)
    return app


async def _stopped(tasks: Sequence["asyncio.Task[None]"]) -> None:
    # Loops finish their batch and return; one stuck in a broker call (a
    # consumer still joining its group) is cancelled after a grace period.
    if not tasks:
        return
    _, stuck = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
    for task in stuck:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _supervised(
    name: str, run: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event
) -> None:
    """Keep a background loop alive: an infrastructure failure (database or broker
    gone) restarts it after a pause instead of silently ending it."""
    while not stop.is_set():
        try:
            await run(stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("service.worker_crashed", worker=name)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=RESTART_BACKOFF_SECONDS)


def _database_and_broker(request: Request) -> dict[str, Awaitable[object]]:
    runtime: ServiceRuntime = request.app.state.runtime
    return {
        "database": _database_answers(runtime.engine),
        "broker": runtime.producer.client.fetch_all_metadata(),
    }


def _health_router(readiness: Readiness = _database_and_broker) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        checks = {name: await _check(probe) for name, probe in readiness(request).items()}
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _database_answers(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, timeout=READINESS_TIMEOUT_SECONDS)
    except Exception as error:
        return f"failed: {error!r}"
    return "ok"


class RequestMiddleware:
    """Binds a correlation id to the request (from the header, or a new one) and
    records HTTP metrics by route template, so `/goals/{goal_id}` is one series."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(CORRELATION_HEADER.lower().encode(), b"").decode() or None
        status = 500
        responded = False
        started = time.perf_counter()
        with correlation(incoming) as correlation_id:

            async def send_with_id(message: Message) -> None:
                nonlocal status, responded
                if message["type"] == "http.response.start":
                    status, responded = message["status"], True
                    message.setdefault("headers", [])
                    message["headers"] = [
                        *message["headers"],
                        (CORRELATION_HEADER.encode(), correlation_id.encode()),
                    ]
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            except Exception as error:
                # Answered here, not by Starlette's outermost error middleware, so the
                # 500 (or 503) and its log line still carry the request's correlation id.
                # A logger fetched here follows the logging configuration of the moment.
                where = {
                    "service": self.service,
                    "method": scope["method"],
                    "route": _route_template(scope),
                    "correlation_id": correlation_id,
                }
                if is_transient(error):
                    structlog.get_logger().warning(
                        "http.infrastructure_unavailable", error=repr(error), **where
                    )
                else:
                    structlog.get_logger().exception("http.unhandled_error", **where)
                if responded:
                    raise
                await unexpected_error(error, scope["path"])(scope, receive, send_with_id)
            finally:
                route = _route_template(scope)
                metrics.HTTP_REQUESTS.labels(
                    self.service, scope["method"], route, str(status)
                ).inc()
                metrics.HTTP_LATENCY.labels(self.service, scope["method"], route).observe(
                    time.perf_counter() - started
                )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", []):
        # A router included whole (FastAPI's `_IncludedRouter`) matches without a path of its own.
        if not hasattr(candidate, "path"):
            continue
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            return str(candidate.path)
    return "unmatched"


def get_runtime(request: Request) -> ServiceRuntime[Any, Any]:
    runtime: ServiceRuntime[Any, Any] = request.app.state.runtime
    return runtime


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork[Any]]:
    """One transaction per request: the endpoint commits; anything else rolls back."""
    async with get_runtime(request).unit_of_work() as uow:
        yield uow


RuntimeDep = Annotated[ServiceRuntime[Any, Any], Depends(get_runtime)]
UnitOfWorkDep = Annotated[UnitOfWork[Any], Depends(unit_of_work)]
"""The untyped forms; a service declares its own typed ones, e.g.
`Annotated[UnitOfWork[GoalStore], Depends(unit_of_work)]` and
`Annotated[ServiceRuntime[GoalSettings, GoalStore], Depends(get_runtime)]`."""
