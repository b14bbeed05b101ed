"""dashboard-service: the pages people open. It owns no business data: every
figure is read from the four services' APIs with the signed-in person's token,
and the live consumer only tells open pages what to re-fetch."""

import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from dashboard_service.api import admin, live, manager, planner, rep, session
from dashboard_service.api.errors import install_page_errors
from dashboard_service.api.templating import build_environments
from dashboard_service.clients import ReadCache
from dashboard_service.service_layer.live import LiveHub
from dashboard_service.service_layer.oidc import OidcSignIn
from dashboard_service.settings import DashboardSettings
from dashboard_service.workers.live import LiveFeed
from servicekit.app import create_stateless_app
from servicekit.auth import token_verifier

STATIC_DIR = Path(__file__).parent / "static"
ROUTERS = [session.router, live.router, rep.router, manager.router, planner.router, admin.router]


def create_app(settings: DashboardSettings | None = None) -> FastAPI:
    settings = settings or DashboardSettings()
    if not (settings.vendor_dir / "htmx.org").is_dir():
        raise RuntimeError(
            f"the browser libraries are not installed in {settings.vendor_dir}: run make install"
        )
    hub = LiveHub()
    feed = LiveFeed(settings, hub)

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        # Every page makes several API calls; httpx would log each at INFO.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        async with httpx.AsyncClient(timeout=settings.upstream_timeout_seconds) as http:
            app.state.http = http
            app.state.read_cache = (
                ReadCache(settings.read_cache_seconds) if settings.read_cache_seconds else None
            )
            try:
                yield
            finally:
                hub.close()

    def readiness(request: Request) -> dict[str, Awaitable[object]]:
        http: httpx.AsyncClient = request.app.state.http
        upstreams = {
            "goal-service": settings.goal_url,
            "tracking-service": settings.tracking_url,
            "alert-service": settings.alert_url,
            "incentive-service": settings.incentive_url,
        }
        return {
            "broker": feed.broker_answers(),
            **{name: _answers(http, url) for name, url in upstreams.items()},
        }

    app = create_stateless_app(
        title="Attain dashboard",
        settings=settings,
        readiness=readiness,
        resources=resources,
        routers=ROUTERS,
        workers={"live-feed": feed.run},
    )
    app.state.hub = hub
    # Sign-in checks the provider's access token with the same verifier as every page.
    app.state.oidc = OidcSignIn(settings, token_verifier(app)) if settings.oidc_issuer else None
    app.state.templates = build_environments(settings.timezone, {})
    install_page_errors(app)
    # Vendor first: /static/vendor/... must not fall into our own folder.
    app.mount("/static/vendor", StaticFiles(directory=settings.vendor_dir), name="vendor")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


async def _answers(http: httpx.AsyncClient, base_url: str) -> None:
    response = await http.get(f"{base_url.rstrip('/')}/healthz")
    response.raise_for_status()
