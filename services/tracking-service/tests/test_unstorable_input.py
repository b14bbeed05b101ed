"""Input tracking-service cannot store or compute on is a 4xx, never a 500 and never stored:
days out of range in `as_of` and the statistics window, offsets past 64 bits, NUL bytes in
webhooks and queries, a signed 20 MB deal (413), JSON nested without end at the webhooks and
the batch endpoint, a CSV with a bare carriage return; and wrong secrets are rate limited."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest

from attain_contracts import GoalUpserted, OrgUnitUpserted, Period
from attain_devstack.testing import TEST_SECRET, bearer, migrate, publish, running
from servicekit.auth import Role
from tracking_service.cli.sign import signed_headers
from tracking_service.main import create_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN, person_id="admin")
INTEGRATION = bearer(Role.INTEGRATION)


@pytest.fixture(scope="module")
async def client(module_database: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    await migrate("tracking_service", module_database)
    settings = TrackingSettings(
        database_url=module_database,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
        outbox_poll_seconds=0.2,
        # Failed authentications earn no new tries while the module runs, however slowly.
        rate_limit_failed_auth_per_second=0.0001,
    )
    async with running(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
async def secret(client: httpx.AsyncClient) -> str:
    response = await client.put("/sources/crm", json={"name": "CRM"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return str(response.json()["secret"])


@pytest.fixture(scope="module")
async def team_goal(client: httpx.AsyncClient, kafka_bootstrap: str) -> tuple[str, str]:
    """(org unit, goal) known to tracking-service from goal-service's events."""
    unit, goal_id = f"east-{uuid4().hex[:6]}", f"g-{uuid4().hex[:8]}"
    now = datetime.now(UTC)
    march = Period(key="2026-03", start=date(2026, 3, 1), end=date(2026, 3, 31))
    await publish(
        kafka_bootstrap,
        OrgUnitUpserted(
            org_unit_id=unit,
            name=unit,
            kind="team",
            parent_id=None,
            manager_id=None,
            path=[unit],
            version=1,
            updated_at=now,
        ),
        GoalUpserted(
            goal_id=goal_id,
            parent_id=None,
            person_id=None,
            metric="revenue",
            direction="higher_is_better",
            org_unit_id=unit,
            owner_id="ann",
            period=march,
            timezone="Asia/Shanghai",
            target=Decimal(1000),
            currency="CNY",
            status="active",
            method="manual",
            version=1,
            updated_at=now,
        ),
    )
    for _ in range(300):
        if (await client.get(f"/goals/{goal_id}/progress", headers=ADMIN)).status_code == 200:
            return unit, goal_id
        await asyncio.sleep(0.1)
    raise AssertionError("the goal never arrived")


def deal(**fields: object) -> dict[str, object]:
    return {
        "id": f"D-{uuid4().hex[:8]}",
        "version": 1,
        "stage": "won",
        "amount": "100.00",
        "currency": "CNY",
        "owner_id": "ann",
        "closed_on": "2026-03-10",
        **fields,
    }


def assert_refused(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert response.json()["field"] == field


async def test_an_as_of_in_year_one_is_422(
    client: httpx.AsyncClient, team_goal: tuple[str, str]
) -> None:
    _, goal_id = team_goal
    for as_of in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-10:00"):
        response = await client.get(
            f"/goals/{goal_id}/progress", params={"as_of": as_of}, headers=ADMIN
        )
        assert_refused(response, 422, "as_of")


async def test_a_statistics_window_out_of_range_is_422(
    client: httpx.AsyncClient, team_goal: tuple[str, str]
) -> None:
    unit, _ = team_goal
    response = await client.get(
        f"/org-units/{unit}/statistics", params={"end": "0001-01-31"}, headers=ADMIN
    )
    assert_refused(response, 422, "end")


async def test_an_offset_past_64_bits_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/progress", params={"offset": 2**63}, headers=ADMIN)
    assert_refused(response, 422, "offset")


async def test_a_nul_in_a_query_or_a_signed_deal_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, secret: str
) -> None:
    assert_refused(await client.get("/progress?owner_id=a%00", headers=ADMIN), 422, "owner_id")
    body = json.dumps(deal(customer_id="C\x00", id="D-nul"))
    response = await client.post(
        "/webhooks/crm/deals", content=body, headers=signed_headers(secret, body)
    )
    assert_refused(response, 422, "customer_id")
    history = await client.get("/sources/crm/deals/D-nul/history", headers=ADMIN)
    assert history.status_code == 404


async def test_a_signed_20_mb_deal_is_413_and_nothing_is_stored(
    client: httpx.AsyncClient, secret: str
) -> None:
    body = json.dumps(deal(id="D-huge", customer_id="C" * (20 * 1024 * 1024)))
    response = await client.post(
        "/webhooks/crm/deals", content=body, headers=signed_headers(secret, body)
    )
    assert_refused(response, 413)
    history = await client.get("/sources/crm/deals/D-huge/history", headers=ADMIN)
    assert history.status_code == 404


async def test_json_nested_without_end_is_refused_at_the_webhooks_and_the_batch(
    client: httpx.AsyncClient, secret: str
) -> None:
    deep = '{"id": "D-deep", "version": 1, "x": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = await client.post(
        "/webhooks/crm/deals", content=deep, headers=signed_headers(secret, deep)
    )
    assert_refused(response, 422, "body")
    response = await client.post(
        "/sources/crm/batch",
        content='{"deals": [' + deep + "]}",
        headers={**INTEGRATION, "content-type": "application/json"},
    )
    assert_refused(response, 422, "body")


async def test_a_batch_may_be_larger_than_plain_json(client: httpx.AsyncClient) -> None:
    deals = [deal(customer_id="C" * 300) for _ in range(5_000)]
    response = await client.post("/sources/crm/batch", json={"deals": deals}, headers=INTEGRATION)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["accepted"] == 5_000


async def test_a_csv_with_a_bare_carriage_return_in_its_header_is_read(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/sources/crm/imports/deals",
        content=b"id,version,stage,amount,currency,owner_id,closed_on\r"
        b"D-cr,1,won,10.00,CNY,ann,2026-03-10\r",
        headers={**INTEGRATION, "content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1


async def test_wrong_secrets_are_answered_429_with_retry_after_after_a_few(
    client: httpx.AsyncClient, secret: str
) -> None:
    body = json.dumps(deal())
    wrong = signed_headers("whsec_" + "A" * 32, body)
    statuses = [
        (await client.post("/webhooks/crm/deals", content=body, headers=wrong)).status_code
        for _ in range(100)
    ]
    burst = TrackingSettings().rate_limit_failed_auth_burst
    assert statuses == [401] * burst + [429] * (100 - burst)
    refused = await client.post("/webhooks/crm/deals", content=body, headers=wrong)
    assert int(refused.headers["retry-after"]) >= 1
