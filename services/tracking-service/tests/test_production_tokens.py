"""tracking-service in production mode, in process with its database and broker, behind the
test identity provider: a token the provider signed opens the API; a development HS256 token
is refused with a 401 problem, even one signed with the secret this deployment holds; another
service reads it with the provider's token for its own client (client credentials)."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from attain_devstack.identity import IdentityProvider, User
from attain_devstack.testing import TEST_SECRET, bearer, migrate
from servicekit.auth import Role
from servicekit.settings import DEVELOPMENT_SECRET, ServiceSettings
from servicekit.upstream import ServiceReader, UpstreamUnavailable, service_tokens
from tracking_service.main import create_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration


RATES = {"currency": "USD", "start": "2026-01-01", "end": "2026-01-31"}


def production(provider: IdentityProvider, **more: Any) -> dict[str, Any]:
    return {
        "environment": "production",
        "jwt_secret": SecretStr(TEST_SECRET),
        "jwt_jwks_url": provider.jwks_url,
        "jwt_issuer": provider.issuer,
        **more,
    }


@pytest.fixture
async def app(
    fresh_database: Callable[[], str], kafka_bootstrap: str, identity_provider: IdentityProvider
) -> AsyncIterator[FastAPI]:
    url = fresh_database()
    await migrate("tracking_service", url)
    settings = TrackingSettings(
        database_url=url, kafka_bootstrap=kafka_bootstrap, **production(identity_provider)
    )
    tracking = create_app(settings)
    async with tracking.router.lifespan_context(tracking):
        yield tracking


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_the_providers_token_is_accepted_and_a_development_token_refused(
    client: httpx.AsyncClient, identity_provider: IdentityProvider
) -> None:
    admin = User(subject="ada", person_id="ada", roles=["admin"])
    signed = {"Authorization": f"Bearer {identity_provider.access_token(user=admin)}"}
    created = await client.put("/sources/crm", json={"name": "Test CRM"}, headers=signed)
    assert created.status_code == 200, created.text
    listed = await client.get("/sources", headers=signed)
    assert listed.status_code == 200 and [s["id"] for s in listed.json()["data"]] == ["crm"]

    for secret in (TEST_SECRET, DEVELOPMENT_SECRET):
        development = bearer(Role.ADMIN, person_id="ada", secret=secret)
        refused = await client.get("/sources", headers=development)
        assert refused.status_code == 401
        problem = refused.json()
        assert problem["type"].endswith("/unauthorized")
        assert "'HS256' is not accepted" in problem["detail"]

    other_audience = identity_provider.access_token(user=admin, aud="another-api")
    refused = await client.get("/sources", headers={"Authorization": f"Bearer {other_audience}"})
    assert refused.status_code == 401 and "audience" in refused.json()["detail"].lower()


async def test_another_service_reads_it_with_its_own_client_credentials(
    app: FastAPI, identity_provider: IdentityProvider
) -> None:
    def reader(**more: Any) -> ServiceReader:
        goal = ServiceSettings(**production(identity_provider, **more))
        tokens = service_tokens(goal, "goal-service")
        return ServiceReader(
            "tracking-service", "http://tracking", tokens, transport=httpx.ASGITransport(app=app)
        )

    credentials = {
        "oauth_token_url": f"{identity_provider.issuer}/token",
        "oauth_client_id": "goal-service",
        "oauth_client_secret": SecretStr("goal-service-secret"),
    }
    assert (await reader(**credentials).get("/fx-rates", RATES))["data"] == []

    with pytest.raises(ValueError, match="oauth_client_id"):
        reader()
    with pytest.raises(UpstreamUnavailable, match="401"):
        # The provider would not sign for it; the development token it minted before is refused.
        await ServiceReader(
            "tracking-service",
            "http://tracking",
            service_tokens(ServiceSettings(jwt_secret=SecretStr(TEST_SECRET)), "goal-service"),
            transport=httpx.ASGITransport(app=app),
        ).get("/fx-rates", RATES)
