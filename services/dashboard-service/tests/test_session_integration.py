"""Sign-in and the live channel's door, in-process: development sign-in sets a
secure, HTTP-only, SameSite=Lax cookie and is refused outside development; pages
without a valid token go to sign-in; a bearer header works as the cookie does (in
production, only the identity provider's token); a page token opens the live channel
only for the session that rendered the page."""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from attain_devstack.identity import IdentityProvider
from attain_devstack.testing import TEST_SECRET, bearer, running
from dashboard_service.main import create_app
from dashboard_service.service_layer.live import mint_page_token
from dashboard_service.settings import DashboardSettings
from servicekit.auth import Role

pytestmark = pytest.mark.integration


def settings(environment: str, kafka_bootstrap: str, **more: object) -> DashboardSettings:
    return DashboardSettings(
        environment=environment,  # type: ignore[arg-type]
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
        **more,  # type: ignore[arg-type]
    )


@pytest.fixture
async def development(kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings("test", kafka_bootstrap))) as client:
        client.base_url = httpx.URL("https://test")
        yield client


@pytest.fixture
async def production(
    kafka_bootstrap: str, identity_provider: IdentityProvider
) -> AsyncIterator[httpx.AsyncClient]:
    """Behind a proxy that signs people in: no OpenID Connect client of its own."""
    provider = {"jwt_jwks_url": identity_provider.jwks_url, "jwt_issuer": identity_provider.issuer}
    async with running(create_app(settings("production", kafka_bootstrap, **provider))) as client:
        client.base_url = httpx.URL("https://test")
        yield client


async def test_development_sign_in_sets_a_secure_http_only_cookie_and_sign_out_clears_it(
    development: httpx.AsyncClient,
) -> None:
    signed_in = await development.post(
        "/sign-in/development",
        data={"person_id": "ann", "roles": ["rep"], "next": "/me"},
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/me"
    cookie = signed_in.headers["set-cookie"].lower()
    assert cookie.startswith("attain_session=")
    assert {"secure", "httponly", "samesite=lax"} <= {p.strip() for p in cookie.split(";")}
    assert (await development.get("/me")).headers["location"] == "/people/ann"

    signed_out = await development.post("/sign-out")
    assert signed_out.status_code == 303
    assert 'attain_session=""' in signed_out.headers["set-cookie"]
    development.cookies.clear()
    assert (await development.get("/me")).headers["location"] == "/sign-in?next=%2Fme"


async def test_sign_in_never_sends_the_browser_to_another_site(
    development: httpx.AsyncClient,
) -> None:
    for elsewhere in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        answer = await development.post(
            "/sign-in/development", data={"person_id": "ann", "roles": ["rep"], "next": elsewhere}
        )
        assert answer.headers["location"] == "/"


async def test_outside_development_the_chooser_is_not_found_and_a_bearer_header_signs_in(
    production: httpx.AsyncClient, identity_provider: IdentityProvider
) -> None:
    assert (await production.get("/sign-in/development")).status_code == 404
    refused = await production.post(
        "/sign-in/development", data={"person_id": "ann", "roles": ["admin"]}
    )
    assert refused.status_code == 404 and "set-cookie" not in refused.headers
    page = await production.get("/sign-in")
    assert page.status_code == 401
    assert (await production.get("/me")).headers["location"].startswith("/sign-in")
    for forged in ({"Authorization": "Bearer " + "x.y.z"}, bearer(Role.REP, person_id="ann")):
        refused = await production.get("/me", headers=forged)
        assert refused.headers["location"].startswith("/sign-in")
    ann = {"Authorization": f"Bearer {identity_provider.access_token()}"}
    assert (await production.get("/me", headers=ann)).headers["location"] == "/people/ann"


async def test_a_role_without_the_area_gets_the_not_found_page(
    development: httpx.AsyncClient,
) -> None:
    answer = await development.get("/admin", headers=bearer(Role.REP, person_id="ann"))
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"]


async def test_a_page_token_opens_the_live_channel_only_for_its_own_session(
    development: httpx.AsyncClient,
) -> None:
    token = mint_page_token(TEST_SECRET, "bob", ["goal:g-bob"], timedelta(hours=1))
    ann = bearer(Role.REP, person_id="ann")
    assert (await development.get("/live", params={"page": token}, headers=ann)).status_code == 404
    assert (
        await development.get("/live", params={"page": "not-a-token"}, headers=ann)
    ).status_code == 404
    assert (await development.get("/live", params={"page": token})).status_code in (303, 307)
