"""Expected to date counts the organisation's working days, as goal-service's
`CalendarUpdated` last said: around the Spring Festival of 2026 the holidays are
no working days and the Saturdays worked in exchange (调休) are."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from attain_contracts import CalendarUpdated, GoalUpserted, OrgUnitUpserted, Period, topics
from attain_devstack.testing import (
    TEST_SECRET,
    bearer,
    calendar_version,
    migrate,
    publish,
    running,
)
from servicekit.auth import Role
from servicekit.clock import FixedClock
from tracking_service.main import create_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN, person_id="admin")
FEBRUARY = Period(key="2026-02", start=date(2026, 2, 1), end=date(2026, 2, 28))
FESTIVAL = [date(2026, 2, day) for day in range(15, 24)]  # 15 to 23 February off
MAKE_UP = [date(2026, 2, 14), date(2026, 2, 28)]  # Saturdays worked
# The end of Saturday 14 February in Shanghai.
AS_OF = "2026-02-14T12:00:00Z"


@pytest.fixture
async def client(fresh_database, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    url = fresh_database()
    await migrate("tracking_service", url)
    settings = TrackingSettings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
        outbox_poll_seconds=0.2,
    )
    clock = FixedClock(datetime.fromisoformat(AS_OF))
    async with running(create_app(settings, clock=clock)) as client:
        yield client


def calendar(version: int, working_weekends: list[date]) -> CalendarUpdated:
    return CalendarUpdated(
        timezone="Asia/Shanghai",
        fiscal_year_start_month=1,
        holidays=FESTIVAL,
        working_weekends=working_weekends,
        version=version,
        updated_at=datetime.now(UTC),
    )


async def until(
    client: httpx.AsyncClient, url: str, holds: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 30
    last: httpx.Response | None = None
    while asyncio.get_running_loop().time() < deadline:
        last = await client.get(url, headers=ADMIN)
        if last.status_code == 200 and holds(last.json()):
            return last.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never held; last: {last and last.text}")


async def published_expected(bootstrap: str, goal_id: str, amount: str) -> None:
    """Until a `GoalProgressUpdated` of the goal says `amount` is expected to date."""
    consumer = AIOKafkaConsumer(
        topics.PROGRESS,
        bootstrap_servers=bootstrap,
        group_id=f"t-{uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        # Other tests publish here too, a record that is no envelope among them.
                        if not (record.value and record.value.startswith(b"{")):
                            continue
                        data = json.loads(record.value).get("data") or {}
                        if data.get("goal_id") == goal_id and Decimal(
                            data["expected_to_date"]
                        ) == Decimal(amount):
                            return
    finally:
        await consumer.stop()


def expected(amount: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: Decimal(body["expected_to_date"]) == Decimal(amount)


async def test_expected_to_date_counts_the_spring_festival_calendar(
    client: httpx.AsyncClient, kafka_bootstrap: str, changes_the_calendar: None
) -> None:
    team = f"team-{uuid4().hex[:6]}"
    goal = GoalUpserted(
        goal_id=f"g-{uuid4().hex[:8]}",
        parent_id=None,
        metric="revenue",
        direction="higher_is_better",
        org_unit_id=team,
        owner_id="boss",
        period=FEBRUARY,
        timezone="Asia/Shanghai",
        target=Decimal(16000),
        currency="CNY",
        status="active",
        method="manual",
        version=1,
        updated_at=datetime.now(UTC),
    )
    unit = OrgUnitUpserted(
        org_unit_id=team,
        name=team,
        kind="team",
        parent_id=None,
        manager_id="boss",
        path=[team],
        version=1,
        updated_at=datetime.now(UTC),
    )
    await publish(kafka_bootstrap, unit, goal)
    url = f"/goals/{goal.goal_id}/progress?as_of={AS_OF}"
    # Before any calendar: Monday to Friday, 10 of February's 20 weekdays done.
    await until(client, url, expected("8000"))

    # 11 of the 16 working days: 2 to 13 February and Saturday the 14th.
    await publish(kafka_bootstrap, calendar(calendar_version(), MAKE_UP))
    await until(client, url, expected("11000"))
    # The change is announced: the goal's progress is published again at once.
    await published_expected(kafka_bootstrap, goal.goal_id, "11000")

    # Without the Saturdays: 10 of 14.
    await publish(kafka_bootstrap, calendar(calendar_version(), []))
    body = await until(client, url, expected("11428.57"))
    assert body["pace"] == "0.0000"

    # The series to that day counts the same working days.
    series = await until(
        client,
        f"/goals/{goal.goal_id}/series?step=day&as_of={AS_OF}",
        lambda b: len(b["points"]) == 14,
    )
    by_day = {p["on"]: Decimal(p["expected_to_date"]) for p in series["points"]}
    assert by_day["2026-02-13"] == by_day["2026-02-14"] == Decimal("11428.57")
