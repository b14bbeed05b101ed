"""One real path through all four services, each a process of its own: an org,
a person and a goal → a signed deal → the ledger and the goal's progress → a
deviation alert → the rep's statement."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from conftest import Stack

from attain_contracts import topics
from servicekit.auth import Role, mint_token
from servicekit.settings import DEVELOPMENT_SECRET
from tracking_service.cli.sign import signed_headers

pytestmark = pytest.mark.e2e

ADMIN = {
    "Authorization": "Bearer "
    + mint_token(DEVELOPMENT_SECRET, subject="e2e", roles=[Role.ADMIN], person_id="admin")
}


async def test_a_signed_deal_flows_from_crm_to_progress_alert_and_statement(stack: Stack) -> None:
    goal_url, tracking_url = stack.urls["goal-service"], stack.urls["tracking-service"]
    alert_url, incentive_url = stack.urls["alert-service"], stack.urls["incentive-service"]
    suffix = uuid4().hex[:6]
    rep, team = f"ann-{suffix}", f"east-{suffix}"
    today = datetime.now(UTC).date()
    watcher = await Watcher.start(stack.kafka_bootstrap)

    async with httpx.AsyncClient(headers=ADMIN, timeout=10) as http:
        await ok(
            http.put(
                f"{goal_url}/org-units/acme-{suffix}", json={"name": "Acme", "kind": "company"}
            )
        )
        await ok(
            http.put(
                f"{goal_url}/org-units/{team}",
                json={"name": "East", "kind": "team", "parent_id": f"acme-{suffix}"},
            )
        )
        await ok(
            http.put(
                f"{goal_url}/people/{rep}",
                json={"name": "Ann", "org_unit_id": team, "member_since": "2020-01-01"},
            )
        )
        # A 30-day goal two thirds gone: 10,000 of 100,000 is far behind a linear pace.
        written = await ok(
            http.post(
                f"{goal_url}/goals",
                json={
                    "metric": "revenue",
                    "org_unit_id": team,
                    "person_id": rep,
                    "owner_id": rep,
                    "period_start": (today - timedelta(days=20)).isoformat(),
                    "period_end": (today + timedelta(days=9)).isoformat(),
                    "target": "100000",
                },
            )
        )
        goal_id = written["goal"]["id"]
        secret = (await ok(http.put(f"{tracking_url}/sources/crm-{suffix}", json={"name": "CRM"})))[
            "secret"
        ]
        await ok(
            http.put(
                f"{incentive_url}/plans/flat-{suffix}",
                json={
                    "name": "5%",
                    "period": "month",
                    "currency": "CNY",
                    "assignments": [{"person_id": rep}],
                },
            )
        )
        await ok(
            http.put(
                f"{incentive_url}/plans/flat-{suffix}/versions/2020-01-01",
                json={
                    "components": [
                        {
                            "kind": "commission",
                            "id": "base",
                            "method": "marginal",
                            "tiers": [{"floor": "0", "ceiling": None, "rate": "0.05"}],
                        }
                    ]
                },
            )
        )
        await eventually(lambda: http.get(f"{tracking_url}/goals/{goal_id}/progress"))

        deal = json.dumps(
            {
                "id": f"D-{suffix}",
                "version": 1,
                "stage": "won",
                "amount": "10000.00",
                "currency": "CNY",
                "owner_id": rep,
                "closed_on": today.isoformat(),
            }
        )
        webhook = f"{tracking_url}/webhooks/crm-{suffix}/deals"
        unsigned = await http.post(
            webhook, content=deal, headers={"content-type": "application/json"}
        )
        assert unsigned.status_code == 401
        forged = signed_headers("whsec_" + "Zm9yZ2Vk" * 5 + "Zm8=", deal)
        assert (await http.post(webhook, content=deal, headers=forged)).status_code == 401
        progress = await ok(http.get(f"{tracking_url}/goals/{goal_id}/progress"))
        assert Decimal(progress["actual"]) == 0, "a rejected webhook changed the ledger"

        accepted = await ok(http.post(webhook, content=deal, headers=signed_headers(secret, deal)))
        assert accepted["duplicate"] is False and len(accepted["ledger_entries"]) == 2

        progress = await ok(http.get(f"{tracking_url}/goals/{goal_id}/progress"))
        assert Decimal(progress["actual"]) == Decimal(10000)
        assert Decimal(progress["attainment"]) == Decimal("0.1")

        updated = await watcher.wait_for(
            topics.PROGRESS, lambda d: d["goal_id"] == goal_id and Decimal(d["actual"]) == 10000
        )
        assert Decimal(updated["pace"]) < Decimal("0.9")
        detected = await watcher.wait_for(
            topics.ALERTS,
            lambda d: d["goal_id"] == goal_id and d.get("rule") == "pace" and "severity" in d,
        )
        assert detected["owner_id"] == rep and detected["severity"] == "critical"
        alerts = await ok(
            http.get(f"{alert_url}/alerts", params={"goal_id": goal_id, "rule": "pace"})
        )
        assert [a["status"] for a in alerts["data"]] == ["open"]

        period = today.strftime("%Y-%m")
        statement = await eventually(
            lambda: http.get(f"{incentive_url}/people/{rep}/statements/{period}"),
            until=lambda body: Decimal(body["revenue"]) == 10000,
        )
        assert Decimal(statement["total"]) == Decimal("500.00")
        assert [deal["deal_id"] for deal in statement["deals"]] == [f"D-{suffix}"]
    await watcher.stop()


async def ok(request) -> dict:  # type: ignore[no-untyped-def, type-arg]
    response = await request
    assert response.status_code in (200, 201), f"{response.request.url}: {response.text}"
    return response.json()  # type: ignore[no-any-return]


async def eventually(request, until=lambda body: True, timeout: float = 30) -> dict:  # type: ignore[no-untyped-def, type-arg]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await request()
        if response.status_code == 200 and until(response.json()):
            return response.json()  # type: ignore[no-any-return]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{response.request.url} never got there: {response.text}")
        await asyncio.sleep(0.2)


class Watcher:
    """Reads the progress and alert topics from the start of the test."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer
        self.seen: list[tuple[str, dict]] = []  # type: ignore[type-arg]

    @classmethod
    async def start(cls, bootstrap: str) -> "Watcher":
        consumer = AIOKafkaConsumer(
            topics.PROGRESS,
            topics.ALERTS,
            bootstrap_servers=bootstrap,
            group_id=f"e2e-{uuid4().hex}",
            auto_offset_reset="latest",
        )
        await consumer.start()
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        return cls(consumer)

    async def wait_for(self, topic: str, predicate, timeout: float = 30) -> dict:  # type: ignore[no-untyped-def, type-arg]
        async with asyncio.timeout(timeout):
            while True:
                for seen_topic, data in self.seen:
                    if seen_topic == topic and predicate(data):
                        return data
                for records in (await self.consumer.getmany(timeout_ms=300)).values():
                    self.seen.extend((r.topic, json.loads(r.value)["data"]) for r in records)

    async def stop(self) -> None:
        await self.consumer.stop()
