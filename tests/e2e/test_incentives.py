"""Incentives across the four processes: signed deal webhooks move a rep's
statement and the team's leaderboard; after the month is closed, a cancelled
deal comes back as a clawback in the next open month."""

import json
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from conftest import Stack
from test_one_deal_through_all_four import ADMIN, eventually, ok

from tracking_service.cli.sign import signed_headers

pytestmark = pytest.mark.e2e

# October's statements are closed in November, within the 90-day clawback window.
MONTH, NEXT_MONTH = "2026-10", "2026-11"


async def test_deals_move_statements_and_the_leaderboard_and_a_late_cancel_is_clawed_back(
    stack: Stack,
) -> None:
    goal_url, tracking_url = stack.urls["goal-service"], stack.urls["tracking-service"]
    incentive_url = stack.urls["incentive-service"]
    suffix = uuid4().hex[:6]
    company, team = f"acme-{suffix}", f"east-{suffix}"
    ann, bob = f"ann-{suffix}", f"bob-{suffix}"

    async with httpx.AsyncClient(headers=ADMIN, timeout=10) as http:
        await ok(
            http.put(f"{goal_url}/org-units/{company}", json={"name": "Acme", "kind": "company"})
        )
        await ok(
            http.put(
                f"{goal_url}/org-units/{team}",
                json={"name": "East", "kind": "team", "parent_id": company},
            )
        )
        # Ann's quota is five times Bob's: he can lead on attainment with less revenue.
        for person, target in ((ann, "100000"), (bob, "20000")):
            await ok(
                http.put(
                    f"{goal_url}/people/{person}",
                    json={"name": person, "org_unit_id": team, "member_since": "2025-01-01"},
                )
            )
            await ok(
                http.post(
                    f"{goal_url}/goals",
                    json={
                        "metric": "revenue",
                        "org_unit_id": team,
                        "person_id": person,
                        "owner_id": person,
                        "period_start": "2026-10-01",
                        "period_end": "2026-10-31",
                        "target": target,
                    },
                )
            )
        plan = f"{incentive_url}/plans/east-{suffix}"
        await ok(
            http.put(
                plan,
                json={
                    "name": "East reps",
                    "period": "month",
                    "currency": "CNY",
                    "assignments": [{"role": "rep", "org_unit_id": team}],
                },
            )
        )
        await ok(
            http.put(
                f"{plan}/versions/2026-01-01",
                json={
                    "components": [
                        {
                            "kind": "commission",
                            "id": "base",
                            "method": "marginal",
                            "tiers": [
                                {"floor": "0", "ceiling": "1", "rate": "0.05"},
                                {"floor": "1", "ceiling": None, "rate": "0.08"},
                            ],
                        }
                    ]
                },
            )
        )
        source = f"crm-{suffix}"
        secret = (await ok(http.put(f"{tracking_url}/sources/{source}", json={"name": "CRM"})))[
            "secret"
        ]

        async def deal(deal_id: str, owner: str, amount: str, stage: str, version: int) -> None:
            body = json.dumps(
                {
                    "id": deal_id,
                    "version": version,
                    "stage": stage,
                    "amount": amount,
                    "currency": "CNY",
                    "owner_id": owner,
                    "closed_on": "2026-10-12",
                }
            )
            await ok(
                http.post(
                    f"{tracking_url}/webhooks/{source}/deals",
                    content=body,
                    headers=signed_headers(secret, body),
                )
            )

        def board() -> Any:
            return http.get(
                f"{incentive_url}/org-units/{team}/leaderboard", params={"period": MONTH}
            )

        def statement(person: str, period: str) -> Any:
            return http.get(f"{incentive_url}/people/{person}/statements/{period}")

        await deal(f"A-{suffix}", ann, "50000.00", "won", 1)
        ranked = await eventually(board, until=lambda b: _actual(b, ann) == 50000)
        assert _ranks(ranked) == {ann: 1, bob: 2}

        await deal(f"B-{suffix}", bob, "30000.00", "won", 1)
        ranked = await eventually(board, until=lambda b: _actual(b, bob) == 30000)
        assert _ranks(ranked) == {bob: 1, ann: 2}, "150% outranks 50%, whatever the amounts"
        # 20,000 at 5% + 10,000 at 8%.
        bobs = await eventually(
            lambda: statement(bob, MONTH), until=lambda s: Decimal(s["total"]) == Decimal("1800")
        )
        assert [line["amount"] for line in bobs["lines"]] == ["1000.00", "800.00"]

        closed = await ok(http.post(f"{incentive_url}/periods/{MONTH}/close"))
        assert closed["statements"] == 2

        await deal(f"B-{suffix}", bob, "30000.00", "cancelled", 2)
        november = await eventually(
            lambda: statement(bob, NEXT_MONTH),
            until=lambda s: any(line["kind"] == "clawback" for line in s["lines"]),
        )
        (clawback,) = [line for line in november["lines"] if line["kind"] == "clawback"]
        assert Decimal(clawback["amount"]) == Decimal("-1800.00")
        assert clawback["source"] == f"statement:{MONTH}"
        october = await ok(statement(bob, MONTH))
        assert october["status"] == "closed" and Decimal(october["total"]) == Decimal("1800")
        assert [Decimal(a["amount"]) for a in october["carried_out"]] == [Decimal("-1800")]
        ranked = await eventually(board, until=lambda b: _actual(b, bob) == 0)
        assert _ranks(ranked) == {ann: 1, bob: 2}


def _ranks(board: dict[str, Any]) -> dict[str, int]:
    return {row["person_id"]: row["rank"] for row in board["data"]}


def _actual(board: dict[str, Any], person: str) -> Decimal | None:
    return next(
        (Decimal(row["actual"]) for row in board["data"] if row["person_id"] == person), None
    )
