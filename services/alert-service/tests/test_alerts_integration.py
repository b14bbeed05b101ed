"""alert-service in-process against real PostgreSQL and a real broker: progress
goes in on `attain.progress`, deviations come out on `attain.alerts` and through
the API. The module's tests share one service and database, and topics are
shared by the whole session, so every test uses its own goal and owner ids and
reads only the events and changes about them."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from alert_service.main import create_app
from alert_service.settings import AlertSettings
from attain_contracts import (
    DeviationDetected,
    DeviationResolved,
    Envelope,
    GoalProgressUpdated,
    Period,
    topics,
)
from attain_devstack.testing import TEST_SECRET, bearer, migrate, publish, running
from servicekit.auth import Role

pytestmark = pytest.mark.integration

WAIT_SECONDS = 60.0
# 31 days: a target of 31,000 expects 1,000 a day.
MARCH = Period(start=date(2026, 3, 1), end=date(2026, 3, 31))
TARGET = Decimal(31000)


@pytest.fixture(scope="module")
async def api(module_database: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    """One service for the module, not one a test on `fresh_database`: it joins the
    consumer group once, and each rejoin of a group makes Tansu stall for up to 20 seconds."""
    await migrate("alert_service", module_database)
    settings = AlertSettings(
        environment="test",
        database_url=module_database,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,
        consumer_batch_size=50,
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings)) as client:
        yield client


class AlertsTopic:
    """Reads `attain.alerts` from where it ended when the test began."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer

    async def next_about(self, goal_id: str) -> Envelope:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            batch = await self._consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    envelope = Envelope.from_bytes(record.value or b"")
                    if envelope.subject == goal_id:
                        # One goal's events share a partition, so they arrive in order.
                        return envelope
        raise AssertionError(f"no alert event about {goal_id} within {WAIT_SECONDS}s")


@pytest.fixture
async def alerts_topic(kafka_bootstrap: str) -> AsyncIterator[AlertsTopic]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(topics.ALERTS, p)
            for p in consumer.partitions_for_topic(topics.ALERTS) or ()
        ]
        consumer.assign(partitions)
        for partition, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, offset)
        yield AlertsTopic(consumer)
    finally:
        await consumer.stop()


def progress(
    goal_id: str, owner_id: str, *, sequence: int, as_of: datetime, actual: str
) -> GoalProgressUpdated:
    return GoalProgressUpdated(
        goal_id=goal_id,
        owner_id=owner_id,
        metric="revenue",
        direction="higher_is_better",
        period=MARCH,
        as_of=as_of,
        actual=Decimal(actual),
        target=TARGET,
        attainment=Decimal(actual) / TARGET,
        expected_to_date=Decimal(0),
        pace=None,
        projection=Decimal(actual),
        sequence=sequence,
    )


ADMIN = bearer(Role.ADMIN, person_id="admin-1")


def new_ids() -> tuple[str, str]:
    suffix = uuid4().hex[:12]
    return f"goal_{suffix}", f"rep_{suffix}"


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


async def test_progress_behind_pace_opens_an_alert_that_resolves_on_pace(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    goal_id, owner_id = new_ids()

    await publish(
        kafka_bootstrap, progress(goal_id, owner_id, sequence=1, as_of=at(20), actual="5000")
    )

    detected_envelope = await alerts_topic.next_about(goal_id)
    detected = detected_envelope.event()
    assert isinstance(detected, DeviationDetected)
    assert (detected.rule, detected.severity, detected.owner_id) == ("pace", "critical", owner_id)
    assert (detected.actual, detected.expected_to_date, detected.pace) == (
        5000,
        20000,
        Decimal("0.25"),
    )
    assert goal_id in detected.message and "75% behind" in detected.message

    listed = (await api.get("/alerts", params={"goal_id": goal_id}, headers=ADMIN)).json()
    assert listed["count"] == 1
    [alert] = listed["data"]
    assert (alert["id"], alert["status"], alert["severity"]) == (
        detected.alert_id,
        "open",
        "critical",
    )

    await publish(
        kafka_bootstrap, progress(goal_id, owner_id, sequence=2, as_of=at(21), actual="21000")
    )

    resolved = (await alerts_topic.next_about(goal_id)).event()
    assert isinstance(resolved, DeviationResolved)
    assert (resolved.alert_id, resolved.resolved_at) == (detected.alert_id, at(21))
    alert = (await api.get(f"/alerts/{detected.alert_id}", headers=ADMIN)).json()
    assert (alert["status"], alert["resolved_at"]) == ("resolved", "2026-03-21T12:00:00Z")

    # A late, older update is ignored: the next event about the goal is the one
    # that the newer, mildly behind update opens (a new alert, a warning).
    await publish(
        kafka_bootstrap,
        progress(goal_id, owner_id, sequence=1, as_of=at(20), actual="5000"),
        progress(goal_id, owner_id, sequence=3, as_of=at(22), actual="19000"),
    )

    reopened = (await alerts_topic.next_about(goal_id)).event()
    assert isinstance(reopened, DeviationDetected)
    assert reopened.severity == "warning" and reopened.alert_id != detected.alert_id
    listed = (await api.get("/alerts", params={"goal_id": goal_id}, headers=ADMIN)).json()
    assert [(a["status"], a["severity"]) for a in listed["data"]] == [
        ("open", "warning"),
        ("resolved", "critical"),
    ]


async def test_evaluating_at_an_instant_flags_a_goal_that_stood_still(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    goal_id, owner_id = new_ids()
    await publish(
        kafka_bootstrap, progress(goal_id, owner_id, sequence=1, as_of=at(5), actual="5000")
    )

    # On pace on the 5th; by the 25th, with nothing sold since, far behind.
    [change] = await evaluate_until_changed(api, at(25), goal_id)
    assert (change["transition"], change["severity"]) == ("opened", "critical")
    detected = (await alerts_topic.next_about(goal_id)).event()
    assert isinstance(detected, DeviationDetected) and detected.alert_id == change["alert_id"]

    again = await evaluate(api, at(25))
    assert again["evaluated"] >= 1 and changes_of(again, goal_id) == []

    replayed = await evaluate(api, at(5))
    assert [c["transition"] for c in changes_of(replayed, goal_id)] == ["resolved"]
    resolved = (await alerts_topic.next_about(goal_id)).event()
    assert isinstance(resolved, DeviationResolved) and resolved.alert_id == change["alert_id"]


async def evaluate(api: httpx.AsyncClient, as_of: datetime) -> dict[str, Any]:
    response = await api.post("/admin/evaluate", json={"as_of": as_of.isoformat()}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return dict(response.json())


def changes_of(evaluation: dict[str, Any], goal_id: str) -> list[dict[str, Any]]:
    # The consumer group reads every progress event on the shared topic, so the
    # database may hold other tests' goals too.
    return [change for change in evaluation["data"] if change["goal_id"] == goal_id]


async def evaluate_until_changed(
    api: httpx.AsyncClient, as_of: datetime, goal_id: str
) -> list[dict[str, Any]]:
    """Nothing changes for the goal until the consumer has stored its progress."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if changes := changes_of(await evaluate(api, as_of), goal_id):
            return changes
        await asyncio.sleep(0.2)
    raise AssertionError(f"evaluating at {as_of} changed nothing for {goal_id}")


async def test_a_rep_sees_only_their_own_alerts(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    goal_id, owner_id = new_ids()
    await publish(
        kafka_bootstrap, progress(goal_id, owner_id, sequence=1, as_of=at(20), actual="0")
    )
    detected = (await alerts_topic.next_about(goal_id)).event()
    assert isinstance(detected, DeviationDetected)
    alert_id = detected.alert_id
    owner = bearer(Role.REP, person_id=owner_id)
    someone_else = bearer(Role.REP, person_id="rep_someone_else")

    own = (await api.get("/alerts", headers=owner)).json()
    assert [a["id"] for a in own["data"]] == [alert_id]
    assert (await api.get(f"/alerts/{alert_id}", headers=owner)).status_code == 200

    hidden = (await api.get("/alerts", params={"goal_id": goal_id}, headers=someone_else)).json()
    assert hidden == {"data": [], "count": 0}
    asked_for_owner = await api.get("/alerts", params={"owner_id": owner_id}, headers=someone_else)
    assert asked_for_owner.json()["count"] == 0
    not_theirs = await api.get(f"/alerts/{alert_id}", headers=someone_else)
    assert not_theirs.status_code == 404
    assert not_theirs.headers["content-type"] == "application/problem+json"

    planner = (await api.get(f"/alerts/{alert_id}", headers=bearer(Role.PLANNER))).json()
    assert planner["goal_id"] == goal_id


BAD_REQUESTS = [
    # method, path, body, headers, status, field
    ("GET", "/alerts", None, {}, 401, None),
    ("GET", "/alerts", None, bearer(Role.VIEWER), 404, None),
    ("GET", "/alerts?status=closed", None, ADMIN, 422, "status"),
    ("GET", "/alerts/alert_missing", None, ADMIN, 404, None),
    ("POST", "/admin/evaluate", {"as_of": "2026-03-05T12:00:00Z"}, bearer(Role.PLANNER), 404, None),
    ("POST", "/admin/evaluate", {"as_of": "2026-03-05T12:00:00"}, ADMIN, 422, "as_of"),
    ("POST", "/admin/evaluate", {"as_of": "yesterday"}, ADMIN, 422, "as_of"),
    ("POST", "/admin/evaluate", {}, ADMIN, 422, "as_of"),
    (
        "POST",
        "/admin/evaluate",
        {"as_of": "2026-03-05T12:00:00Z", "rules": []},
        ADMIN,
        422,
        "rules",
    ),
]


async def test_bad_requests_are_problems(api: httpx.AsyncClient) -> None:
    for method, path, body, headers, status, field in BAD_REQUESTS:
        response = await api.request(method, path, json=body, headers=headers)
        case = f"{method} {path} {body}"
        assert response.status_code == status, case
        assert response.headers["content-type"] == "application/problem+json", case
        problem = response.json()
        assert problem["status"] == status, case
        assert problem["type"].startswith("https://attain.dev/problems/"), case
        assert problem.get("field") == field, case
