"""Replaying a past instant across the process boundary: tracking-service and
alert-service on one broker, each with its own database, deals through
tracking-service's API, and alert-service asking it for the progress as of the
instant replayed (its own copy holds only the newest figures)."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest

from alert_service.main import create_app as create_alert_app
from alert_service.settings import AlertSettings
from attain_contracts import GoalUpserted, Membership, OrgUnitUpserted, Period, PersonUpserted
from attain_devstack.testing import TEST_SECRET, bearer, migrate, publish, running
from servicekit.auth import Role
from tracking_service.main import create_app as create_tracking_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN, person_id="admin-1")
INTEGRATION = bearer(Role.INTEGRATION)
WAIT_SECONDS = 60.0
# June 2026 has 22 working days; by Monday the 15th, 11 of them: half the target.
JUNE = Period(key="2026-06", start=date(2026, 6, 1), end=date(2026, 6, 30))
TARGET = Decimal(300_000)
JUNE_15 = datetime(2026, 6, 15, 12, tzinfo=UTC)
UPDATED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Stack:
    alerts: httpx.AsyncClient
    tracking: httpx.AsyncClient
    bootstrap: str


@pytest.fixture
async def stack(fresh_database: Callable[[], str], kafka_bootstrap: str) -> AsyncIterator[Stack]:
    alert_db, tracking_db = fresh_database(), fresh_database()
    await migrate("alert_service", alert_db)
    await migrate("tracking_service", tracking_db)
    common: dict[str, Any] = {
        "environment": "test",
        "kafka_bootstrap": kafka_bootstrap,
        "jwt_secret": TEST_SECRET,
        "outbox_poll_seconds": 0.2,
    }
    tracking_app = create_tracking_app(TrackingSettings(database_url=tracking_db, **common))
    async with running(tracking_app) as tracking:
        alert_app = create_alert_app(
            AlertSettings(database_url=alert_db, sweep_interval_seconds=3600, **common),
            tracking_transport=httpx.ASGITransport(app=tracking_app),
        )
        async with running(alert_app) as alerts:
            response = await tracking.put("/sources/crm", json={"name": "CRM"}, headers=ADMIN)
            assert response.status_code == 200, response.text
            yield Stack(alerts, tracking, kafka_bootstrap)


async def until(call: Any, holds: Callable[[httpx.Response], bool]) -> httpx.Response:
    deadline = time.monotonic() + WAIT_SECONDS
    last = None
    while time.monotonic() < deadline:
        last = await call()
        if holds(last):
            return last  # type: ignore[no-any-return]
        await asyncio.sleep(0.2)
    raise AssertionError(f"never held; last: {last and last.text}")


async def june_goal(stack: Stack) -> tuple[str, str]:
    """A rep's revenue goal for June, known to both services: (goal id, rep)."""
    s = uuid4().hex[:8]
    team, rep, goal_id = f"team_{s}", f"rep_{s}", f"goal_{s}"
    await publish(
        stack.bootstrap,
        OrgUnitUpserted(
            org_unit_id=team,
            name=f"Team {s}",
            kind="team",
            parent_id=None,
            manager_id=None,
            path=[team],
            version=1,
            updated_at=UPDATED,
        ),
        PersonUpserted(
            person_id=rep,
            name=f"Rep {s}",
            email=f"{rep}@example.com",
            maturity="experienced",
            memberships=[Membership(org_unit_id=team, valid_from=date(2025, 1, 1))],
            version=1,
            updated_at=UPDATED,
        ),
        GoalUpserted(
            goal_id=goal_id,
            parent_id=None,
            metric="revenue",
            direction="higher_is_better",
            org_unit_id=team,
            person_id=rep,
            owner_id=rep,
            period=JUNE,
            timezone="UTC",
            target=TARGET,
            currency="CNY",
            status="active",
            method="manual",
            version=1,
            updated_at=UPDATED,
        ),
    )
    await until(
        lambda: stack.alerts.get(f"/goals/{goal_id}/rules", headers=ADMIN),
        lambda r: r.status_code == 200,
    )
    await until(
        lambda: stack.tracking.get(f"/goals/{goal_id}/progress", headers=ADMIN),
        lambda r: r.status_code == 200,
    )
    return goal_id, rep


def deal(owner: str, amount: int, closed_on: str) -> dict[str, Any]:
    return {
        "id": f"D-{uuid4().hex[:10]}",
        "version": 1,
        "stage": "won",
        "amount": str(amount),
        "currency": "CNY",
        "owner_id": owner,
        "created_on": "2026-05-20",
        "closed_on": closed_on,
    }


async def sold_in_june(stack: Stack) -> str:
    """100,000 won by June 15 and another 100,000 on June 25, and alert-service's
    copy caught up with the 200,000 (its read endpoint says so)."""
    goal_id, rep = await june_goal(stack)
    response = await stack.tracking.post(
        "/sources/crm/batch",
        json={"deals": [deal(rep, 100_000, "2026-06-10"), deal(rep, 100_000, "2026-06-25")]},
        headers=INTEGRATION,
    )
    assert response.status_code == 200, response.text
    copy = await until(
        lambda: stack.alerts.get(f"/goals/{goal_id}", headers=ADMIN),
        lambda r: r.status_code == 200 and Decimal(r.json()["actual"]) == 200_000,
    )
    assert copy.json()["progress_as_of"] is not None
    return goal_id


async def replay(stack: Stack, goal_id: str, **extra: Any) -> dict[str, Any]:
    response = await stack.alerts.post(
        "/admin/evaluate",
        json={"as_of": JUNE_15.isoformat(), "goal_ids": [goal_id], **extra},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_replay_judges_the_progress_as_of_its_instant_not_the_live_one(
    stack: Stack,
) -> None:
    goal_id = await sold_in_june(stack)
    # As of the 15th, 100,000 of the 150,000 expected: 33.3% behind, critical. The
    # live 200,000 would be 33.3% ahead. A forecast of 200,000 by the 30th too.
    changes = (await replay(stack, goal_id))["data"]
    assert {(c["rule"], c["transition"], c["severity"]) for c in changes} == {
        ("pace", "opened", "critical"),
        ("forecast", "opened", "warning"),
    }
    listed = await stack.alerts.get(
        "/alerts", params={"goal_id": goal_id, "rule": "pace"}, headers=ADMIN
    )
    [alert] = listed.json()["data"]
    assert (Decimal(alert["actual"]), Decimal(alert["expected"])) == (100_000, 150_000)
    assert alert["detail"] == "33.3% behind pace"


async def test_a_dry_run_says_what_each_rule_decides_and_changes_nothing(
    stack: Stack,
) -> None:
    goal_id = await sold_in_june(stack)

    body = await replay(stack, goal_id, dry_run=True)
    assert (body["dry_run"], body["data"], body["count"]) == (True, [], 0)
    decisions = {d["rule"]: d for d in body["decisions"] if d["goal_id"] == goal_id}
    assert set(decisions) == {
        "pace",
        "consecutive_low",
        "ratio_floor",
        "forecast",
        "silence",
        "ahead",
    }
    pace = decisions["pace"]
    assert (pace["verdict"], pace["transition"], pace["severity"]) == (
        "fires",
        "opened",
        "critical",
    )
    assert (Decimal(pace["actual"]), Decimal(pace["expected"])) == (100_000, 150_000)
    assert pace["figures"]["shortfall"] == "0.3333"
    assert decisions["ahead"]["verdict"] == "clear"
    assert decisions["ahead"]["transition"] is None
    # 100,000 in 11 working days, 11 left: 200,000 projected by the 30th.
    forecast = decisions["forecast"]
    assert forecast["detail"] == (
        "projected to reach 66.7% of target (200,000 of 300,000) by 2026-06-30"
    )

    listed = await stack.alerts.get("/alerts", params={"goal_id": goal_id}, headers=ADMIN)
    assert listed.json()["data"] == []
    # The dry run decided what the real one then does.
    changes = (await replay(stack, goal_id))["data"]
    assert {c["rule"] for c in changes} == {
        rule for rule, d in decisions.items() if d["transition"] == "opened"
    }


async def test_the_copy_of_a_goal_shows_what_alert_service_judges(stack: Stack) -> None:
    goal_id = await sold_in_june(stack)
    copy = (
        await stack.alerts.get(
            f"/goals/{goal_id}", params={"as_of": JUNE_15.isoformat()}, headers=ADMIN
        )
    ).json()
    assert (copy["metric"], copy["period_start"], copy["status"]) == (
        "revenue",
        "2026-06-01",
        "active",
    )
    assert (Decimal(copy["target"]), Decimal(copy["actual"]), Decimal(copy["expected"])) == (
        TARGET,
        200_000,
        150_000,
    )
    assert copy["day"] == "2026-06-15" and copy["progress_sequence"] >= 1
    # The instant of the last progress event applied is tracking-service's own.
    tracked = (await stack.tracking.get(f"/goals/{goal_id}/progress", headers=ADMIN)).json()
    assert datetime.fromisoformat(copy["progress_as_of"]) <= datetime.fromisoformat(
        tracked["as_of"]
    )

    manager = bearer(Role.MANAGER, person_id="someone-else")
    assert (await stack.alerts.get(f"/goals/{goal_id}", headers=manager)).status_code == 404
    assert (await stack.alerts.get("/goals/no-such-goal", headers=ADMIN)).status_code == 404
