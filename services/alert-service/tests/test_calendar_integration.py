"""Pace at alert-service counts the organisation's working days, as goal-service's
`CalendarUpdated` last said: at the end of February 2026 a rep who looks behind
on Monday to Friday is on pace once the Spring Festival holidays and the
Saturdays worked in exchange (调休) are counted."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest

from alert_service.main import create_app
from alert_service.settings import AlertSettings
from attain_contracts import (
    CalendarUpdated,
    GoalProgressUpdated,
    GoalUpserted,
    OrgUnitUpserted,
    Period,
)
from attain_devstack.testing import TEST_SECRET, bearer, calendar_version, migrate, publish, running
from servicekit.auth import Role

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN, person_id="admin-1")
FEBRUARY = Period(key="2026-02", start=date(2026, 2, 1), end=date(2026, 2, 28))
TARGET = Decimal(16000)
FRIDAY_27 = datetime(2026, 2, 27, 12, tzinfo=UTC)
UPDATED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def api(fresh_database, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    url = fresh_database()
    await migrate("alert_service", url)
    settings = AlertSettings(
        environment="test",
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,
        outbox_poll_seconds=0.2,
        sweep_interval_seconds=3600,
    )
    async with running(create_app(settings)) as client:
        yield client


async def until(call: Any, holds: Any, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = await call()
        if holds(last):
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"never held; last: {last}")


async def test_pace_counts_the_spring_festival_calendar(
    api: httpx.AsyncClient, kafka_bootstrap: str, changes_the_calendar: None
) -> None:
    s = uuid4().hex[:10]
    team, rep, goal_id = f"team_{s}", f"rep_{s}", f"goal_{s}"
    await publish(
        kafka_bootstrap,
        OrgUnitUpserted(
            org_unit_id=team,
            name=team,
            kind="team",
            parent_id=None,
            manager_id=None,
            path=[team],
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
            period=FEBRUARY,
            timezone="Asia/Shanghai",
            target=TARGET,
            currency="CNY",
            status="active",
            method="manual",
            version=1,
            updated_at=UPDATED,
        ),
    )
    await until(
        lambda: api.get(f"/goals/{goal_id}/rules", headers=ADMIN),
        lambda response: response.status_code == 200,
    )
    await publish(
        kafka_bootstrap,
        GoalProgressUpdated(
            goal_id=goal_id,
            owner_id=rep,
            metric="revenue",
            direction="higher_is_better",
            period=FEBRUARY,
            as_of=FRIDAY_27,
            actual=Decimal(13800),
            target=TARGET,
            attainment=None,
            expected_to_date=Decimal(0),
            pace=None,
            projection=Decimal(13800),
            sequence=1,
            org_unit_id=team,
            person_id=rep,
            timezone="Asia/Shanghai",
        ),
    )

    async def pace_alerts() -> list[dict[str, Any]]:
        response = await api.get(
            "/alerts", params={"goal_id": goal_id, "rule": "pace"}, headers=ADMIN
        )
        return list(response.json()["data"]) if response.status_code == 200 else []

    # Monday to Friday: all 20 weekdays done, 16,000 expected, 13.75% behind.
    [opened] = await until(pace_alerts, lambda alerts: len(alerts) == 1)
    assert (opened["status"], opened["severity"]) == ("open", "warning")
    assert Decimal(opened["expected"]) == TARGET

    await publish(
        kafka_bootstrap,
        CalendarUpdated(
            timezone="Asia/Shanghai",
            fiscal_year_start_month=1,
            holidays=[date(2026, 2, day) for day in range(15, 24)],
            working_weekends=[date(2026, 2, 14), date(2026, 2, 28)],
            version=calendar_version(),
            updated_at=UPDATED,
        ),
    )

    # 15 of the 16 working days: 15,000 expected, 8% behind, under the 10% threshold.
    async def replay() -> list[tuple[str, str]]:
        body = {"as_of": FRIDAY_27.isoformat(), "goal_ids": [goal_id]}
        response = await api.post("/admin/evaluate", json=body, headers=ADMIN)
        assert response.status_code == 200, response.text
        return [(c["rule"], c["transition"]) for c in response.json()["data"]]

    assert ("pace", "resolved") in await until(replay, lambda changes: bool(changes))
    [resolved] = await pace_alerts()
    assert resolved["status"] == "resolved"
