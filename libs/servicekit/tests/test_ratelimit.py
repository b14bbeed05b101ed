"""Rate limits: the token bucket's arithmetic (property-tested), and the middleware's keys (a
webhook source, a token's subject, a client address), its 429 with `Retry-After`, and the
failure bucket that stops a client guessing secrets long before the normal limits."""

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from servicekit.auth import CurrentPrincipal, Role, mint_token, token_verifier
from servicekit.problems import Unauthorized, install_problem_handlers
from servicekit.ratelimit import Buckets, Rate, RateLimiter, RateLimits, TokenBucket
from servicekit.settings import ServiceSettings

pytestmark = pytest.mark.unit

KEY = "unit-test-secret-of-at-least-32-bytes"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@given(
    per_second=st.floats(0.1, 1000),
    burst=st.integers(1, 1000),
    gaps=st.lists(st.floats(0, 10), max_size=200),
)
def test_a_bucket_never_grants_more_than_its_burst_plus_its_refill(
    per_second: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket.full(Rate(per_second, burst), now=0.0)
    now = 0.0
    granted = 0
    for gap in gaps:
        now += gap
        if bucket.take(now) == 0:
            granted += 1
    assert granted <= burst + now * per_second + 1e-6


@given(per_second=st.floats(0.1, 1000), burst=st.integers(1, 100))
def test_a_refused_take_says_how_long_until_a_token_is_there(per_second: float, burst: int) -> None:
    bucket = TokenBucket.full(Rate(per_second, burst), now=0.0)
    for _ in range(burst):
        assert bucket.take(0.0) == 0
    wait = bucket.take(0.0)
    assert wait > 0
    assert bucket.take(wait * (1 + 1e-9)) == 0


def test_buckets_forget_the_least_recently_seen_beyond_their_capacity() -> None:
    buckets = Buckets(Rate(1, 1), capacity=2)
    buckets.get("a", 0).take(0)
    buckets.get("b", 0)
    buckets.get("a", 0)
    buckets.get("c", 0)
    assert buckets.get("a", 0).tokens == 0
    assert buckets.get("b", 0).tokens == 1


def make_client(clock: Clock) -> TestClient:
    router = APIRouter()

    @router.post("/webhooks/{source}/deals")
    def webhook(source: str, signature: str = "") -> dict[str, str]:
        if signature != "right":
            raise Unauthorized("the webhook signature does not verify")
        return {"source": source}

    @router.get("/goals")
    def goals(principal: CurrentPrincipal) -> dict[str, str]:
        return {"subject": principal.subject}

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app = FastAPI()
    app.state.settings = ServiceSettings(jwt_secret=KEY)  # type: ignore[arg-type]
    install_problem_handlers(app)
    limits = RateLimits(webhook=Rate(10, 5), api=Rate(10, 3), failed_auth=Rate(1, 2))
    app.add_middleware(RateLimiter, limits=limits, verifier=token_verifier(app), clock=clock)
    app.include_router(router)
    return TestClient(app)


def token(subject: str) -> dict[str, str]:
    value = mint_token(KEY, subject=subject, roles=[Role.REP], person_id=subject)
    return {"Authorization": f"Bearer {value}"}


def statuses(client: TestClient, count: int, **request: Any) -> list[int]:
    method = request.pop("method", "GET")
    return [client.request(method, **request).status_code for _ in range(count)]


def test_an_api_caller_is_limited_by_token_subject_with_retry_after() -> None:
    clock = Clock()
    client = make_client(clock)
    assert statuses(client, 4, url="/goals", headers=token("ann")) == [200, 200, 200, 429]
    refused = client.get("/goals", headers=token("ann"))
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["status"] == 429
    assert client.get("/goals", headers=token("bob")).status_code == 200
    clock.now += 0.1
    assert client.get("/goals", headers=token("ann")).status_code == 200


def test_webhooks_are_limited_by_source() -> None:
    client = make_client(Clock())
    sent = {"method": "POST", "params": {"signature": "right"}}
    assert statuses(client, 6, url="/webhooks/crm/deals", **sent)[-1] == 429
    assert client.post("/webhooks/other/deals", params={"signature": "right"}).status_code == 200


def test_wrong_secrets_are_cut_off_after_the_failure_burst_and_health_stays_open() -> None:
    client = make_client(Clock())
    answers = statuses(client, 5, method="POST", url="/webhooks/crm/deals")
    assert answers == [401, 401, 429, 429, 429]
    assert client.get("/healthz").status_code == 200
