"""Production sign-in end to end, by hand as a browser does it: the dashboard (production
mode, in process) sends the browser to the test identity provider (real HTTP), the provider
sends it back with a code, the dashboard redeems it with its PKCE verifier and keeps the
provider's access token in the session cookie; the admin pages then read tracking-service
(production mode, in process) with that token. A forged state and a code redeemed with
another sign-in's verifier are refused."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from attain_devstack.identity import IdentityProvider, User
from attain_devstack.testing import TEST_SECRET, migrate, running
from dashboard_service.main import create_app
from dashboard_service.settings import DashboardSettings
from tracking_service.main import create_app as create_tracking_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

PUBLIC_URL = "https://dashboard.test"
ADA = User(subject="ada", person_id="ada", roles=["admin"])


@dataclass
class Deployment:
    provider: IdentityProvider
    tracking: httpx.AsyncClient
    browser: httpx.AsyncClient  # the dashboard's origin; a new one with `new_browser()`
    dashboard_transport: httpx.ASGITransport

    def new_browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.dashboard_transport, base_url=PUBLIC_URL)


@pytest.fixture
async def deployment(
    fresh_database: Callable[[], str], kafka_bootstrap: str, identity_provider: IdentityProvider
) -> AsyncIterator[Deployment]:
    identity_provider.user = ADA
    provider: dict[str, Any] = {
        "environment": "production",
        "kafka_bootstrap": kafka_bootstrap,
        "jwt_secret": TEST_SECRET,
        "jwt_jwks_url": identity_provider.jwks_url,
        "jwt_issuer": identity_provider.issuer,
    }
    database = fresh_database()
    await migrate("tracking_service", database)
    tracking_app = create_tracking_app(TrackingSettings(database_url=database, **provider))
    dashboard = create_app(
        DashboardSettings(
            tracking_url="http://tracking",
            oidc_issuer=identity_provider.issuer,
            oidc_client_id=identity_provider.client_id,
            oidc_client_secret=identity_provider.client_secret,
            public_url=PUBLIC_URL,
            **provider,
        )
    )
    # The dashboard reaches tracking-service in process, and the provider over HTTP.
    upstreams = httpx.AsyncClient(mounts={"http://tracking": httpx.ASGITransport(tracking_app)})
    async with running(tracking_app) as tracking, running(dashboard) as browser, upstreams:
        dashboard.state.http = upstreams
        browser.base_url = httpx.URL(PUBLIC_URL)
        yield Deployment(identity_provider, tracking, browser, httpx.ASGITransport(dashboard))


async def at_the_provider(browser: httpx.AsyncClient, next_path: str = "/admin") -> str:
    """/sign-in, then the provider's approval: the callback URL it sends the browser to."""
    started = await browser.get("/sign-in", params={"next": next_path})
    assert started.status_code == 303, started.text
    assert "attain_sign_in" in started.cookies
    authorize = started.headers["location"]
    asked = parse_qs(urlsplit(authorize).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["nonce"] and asked["state"]
    async with httpx.AsyncClient() as elsewhere:
        approved = await elsewhere.get(authorize)
    assert approved.status_code == 302, approved.text
    callback = approved.headers["location"]
    assert callback.startswith(f"{PUBLIC_URL}/sign-in/callback?")
    return callback.removeprefix(PUBLIC_URL)


async def test_signing_in_at_the_provider_opens_the_pages_as_that_person(
    deployment: Deployment,
) -> None:
    browser = deployment.browser
    ada_token = deployment.provider.access_token()
    created = await deployment.tracking.put(
        "/sources/crm-east",
        json={"name": "East CRM"},
        headers={"Authorization": f"Bearer {ada_token}"},
    )
    assert created.status_code == 200, created.text
    assert (await browser.get("/admin")).headers["location"].startswith("/sign-in")

    signed_in = await browser.get(await at_the_provider(browser))
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == "/admin"
    # The session holds the provider's own access token: what the pages send on to the APIs.
    session = jwt.decode(signed_in.cookies["attain_session"], options={"verify_signature": False})
    assert (session["iss"], session["sub"], session["aud"]) == (
        deployment.provider.issuer,
        "ada",
        "attain",
    )
    cookie = next(
        h.lower() for h in signed_in.headers.get_list("set-cookie") if "attain_session=" in h
    )
    attributes = {p.strip() for p in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= attributes
    # It lasts as long as the provider's token (300 s), not a development session's 12 hours.
    max_age = next(int(a.split("=")[1]) for a in attributes if a.startswith("max-age="))
    assert 250 < max_age <= 300

    page = await browser.get("/admin")
    assert page.status_code == 200, page.text
    assert "East CRM" in page.text  # read from tracking-service with the provider's token
    assert "ada" in page.text

    await browser.post("/sign-out")
    assert (await browser.get("/admin")).headers["location"].startswith("/sign-in")


async def test_a_forged_state_or_a_tampered_sign_in_cookie_is_refused(
    deployment: Deployment,
) -> None:
    browser = deployment.browser
    callback = await at_the_provider(browser)
    path, _, query = callback.partition("?")
    asked = parse_qs(query)
    forged_state = await browser.get(path, params={"code": asked["code"][0], "state": "forged"})
    assert forged_state.status_code == 401
    assert "state" in forged_state.json()["detail"]
    assert "attain_session" not in forged_state.cookies

    pending = browser.cookies["attain_sign_in"]
    browser.cookies.set(
        "attain_sign_in", pending[:-4] + "AAAA", domain="dashboard.test", path="/sign-in/callback"
    )
    tampered = await browser.get(callback)
    assert tampered.status_code == 401 and "attain_session" not in tampered.cookies
    assert "signature" in tampered.json()["detail"].lower()

    async with deployment.new_browser() as stranger:
        never_started = await stranger.get(callback)
    assert never_started.status_code == 401


async def test_a_code_redeemed_with_another_sign_ins_verifier_is_refused(
    deployment: Deployment,
) -> None:
    """A code that leaked from one sign-in, replayed into an attacker's own: the state is
    the attacker's (it matches their cookie), but their PKCE verifier is not the code's."""
    victim_callback = await at_the_provider(deployment.browser)
    victim_code = parse_qs(urlsplit(victim_callback).query)["code"][0]
    async with deployment.new_browser() as attacker:
        own_callback = await at_the_provider(attacker)
        own_state = parse_qs(urlsplit(own_callback).query)["state"][0]
        replayed = await attacker.get(
            "/sign-in/callback", params={"code": victim_code, "state": own_state}
        )
    assert replayed.status_code == 401
    assert "code_verifier" in replayed.json()["detail"]
    assert "attain_session" not in replayed.cookies


async def test_the_development_sign_in_is_not_found_in_production(
    deployment: Deployment,
) -> None:
    assert (await deployment.browser.get("/sign-in/development")).status_code == 404
