"""What tracking-service tells Prometheus about deals and their way into progress: records by
kind and status once committed, the freshness from a deal accepted to its progress written (one
observation per ingest transaction), and the projector's queue once it has caught up."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from prometheus_client import REGISTRY

from attain_devstack.testing import TEST_SECRET, bearer, migrate, running
from servicekit.auth import Role
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
        jwt_secret=TEST_SECRET,
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings)) as client:
        response = await client.put("/sources/crm", json={"name": "CRM"}, headers=ADMIN)
        assert response.status_code == 200, response.text
        yield client


def deal(owner: str, amount: str) -> dict[str, Any]:
    return {
        "id": f"D-{uuid4().hex[:10]}",
        "version": 1,
        "stage": "won",
        "amount": amount,
        "currency": "CNY",
        "owner_id": owner,
        "created_on": "2026-02-20",
        "closed_on": "2026-03-10",
    }


def figure(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def batch(client: httpx.AsyncClient, *deals: dict[str, Any]) -> None:
    response = await client.post("/sources/crm/batch", json={"deals": deals}, headers=INTEGRATION)
    assert response.status_code == 200, response.text


async def test_deals_are_counted_once_committed_and_their_freshness_once_projected(
    client: httpx.AsyncClient,
) -> None:
    accepted = {"kind": "deal", "status": "accepted"}
    duplicate = {"kind": "deal", "status": "duplicate"}
    before = {
        "accepted": figure("attain_tracking_records_total", **accepted),
        "duplicate": figure("attain_tracking_records_total", **duplicate),
        "observed": figure("attain_tracking_progress_freshness_seconds_count"),
        "waited": figure("attain_tracking_progress_freshness_seconds_sum"),
    }
    owner = f"ann-{uuid4().hex[:6]}"
    again = deal(owner, "100")
    await batch(client, deal(owner, "30000"), again)
    await batch(client, deal(owner, "5"))
    await batch(client, again)

    deadline = asyncio.get_running_loop().time() + 30
    while figure("attain_tracking_progress_freshness_seconds_count") < before["observed"] + 2:
        assert asyncio.get_running_loop().time() < deadline, "the projector never observed"
        await asyncio.sleep(0.1)

    assert figure("attain_tracking_records_total", **accepted) - before["accepted"] == 3
    assert figure("attain_tracking_records_total", **duplicate) - before["duplicate"] == 1
    # Two transactions wrote ledger rows (the duplicate wrote none): two observations.
    await asyncio.sleep(0.5)
    assert figure("attain_tracking_progress_freshness_seconds_count") - before["observed"] == 2
    waited = figure("attain_tracking_progress_freshness_seconds_sum") - before["waited"]
    assert 0 <= waited < 20
    assert REGISTRY.get_sample_value("attain_tracking_projection_backlog") == 0
