"""The organisation's calendar over HTTP: the weekend days worked in exchange for a
holiday (China's 调休) are kept next to the holidays, refused when they are no
weekend day, and every change reaches the other services as `CalendarUpdated`."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from attain_contracts import topics
from attain_devstack.testing import TEST_SECRET, bearer, migrate, running
from goal_service.main import create_app
from goal_service.settings import GoalSettings
from servicekit.auth import Role

pytestmark = pytest.mark.integration

PLANNER = bearer(Role.PLANNER, person_id="planner")
SPRING_FESTIVAL = [f"2026-02-{day}" for day in range(15, 24)]
MAKE_UP_DAYS = ["2026-02-14", "2026-02-28"]  # Saturdays


@pytest.fixture
async def client(fresh_database, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    url = fresh_database()
    await migrate("goal_service", url)
    settings = GoalSettings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings)) as client:
        yield client


async def calendar_events(bootstrap: str, wanted: Any, count: int) -> list[dict[str, Any]]:
    """The `CalendarUpdated` data on the org topic for which `wanted` holds."""
    consumer = AIOKafkaConsumer(
        topics.ORG,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(30):
            while len(seen) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        envelope = json.loads(record.value or b"{}")
                        if envelope.get("type") == "attain.goal.CalendarUpdated.v1" and wanted(
                            envelope["data"]
                        ):
                            seen.append(envelope["data"])
    finally:
        await consumer.stop()
    return seen


async def test_the_calendar_keeps_its_working_weekend_days_and_is_published(
    client: httpx.AsyncClient, kafka_bootstrap: str, changes_the_calendar: None
) -> None:
    marker = f"2031-01-{int(uuid4().hex[:2], 16) % 28 + 1:02d}"  # tells this test's events apart
    body = {
        "timezone": "Asia/Shanghai",
        "holidays": [*SPRING_FESTIVAL, marker],
        "working_weekends": MAKE_UP_DAYS,
    }
    response = await client.put("/calendar", json=body, headers=PLANNER)
    assert response.status_code == 200, response.text
    assert response.json()["working_weekends"] == MAKE_UP_DAYS
    got = await client.get("/calendar", headers=PLANNER)
    assert got.json()["working_weekends"] == MAKE_UP_DAYS

    moved = {**body, "working_weekends": ["2026-02-28"]}
    assert (await client.put("/calendar", json=moved, headers=PLANNER)).status_code == 200

    seen = await calendar_events(kafka_bootstrap, lambda d: marker in d["holidays"], count=2)
    assert [(e["version"], e["working_weekends"]) for e in seen] == [
        (1, MAKE_UP_DAYS),
        (2, ["2026-02-28"]),
    ]
    assert seen[0]["timezone"] == "Asia/Shanghai"
    assert seen[0]["holidays"] == sorted([*SPRING_FESTIVAL, marker])


@pytest.mark.parametrize(
    ("working_weekends", "holidays"),
    [
        (["2026-02-16"], []),  # a Monday: a working day already
        (["2026-02-14"], ["2026-02-14"]),  # off and worked at once
    ],
)
async def test_a_working_weekend_day_must_be_a_weekend_day_that_is_no_holiday(
    client: httpx.AsyncClient, working_weekends: list[str], holidays: list[str]
) -> None:
    response = await client.put(
        "/calendar",
        json={"timezone": "UTC", "holidays": holidays, "working_weekends": working_weekends},
        headers=PLANNER,
    )
    assert response.status_code == 422, response.text
    assert "working_weekends" in response.text
