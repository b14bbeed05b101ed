"""alert-service in-process against real PostgreSQL and a real broker: the org,
goals and progress go in as events, deviations come out on `attain.alerts`,
through the API and to a real HTTP receiver. The module's tests share one
service and database, and topics are shared by the whole session, so every
test builds its own org and goals and reads only the events about them."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from standardwebhooks.webhooks import Webhook

from alert_service.main import create_app
from alert_service.settings import AlertSettings
from attain_contracts import (
    AlertEscalated,
    DeviationDetected,
    DeviationResolved,
    Envelope,
    Event,
    GoalProgressUpdated,
    GoalUpserted,
    Membership,
    OrgUnitUpserted,
    Period,
    PersonUpserted,
    topics,
)
from attain_devstack.receivers import HttpReceiver, http_receiver
from attain_devstack.testing import TEST_SECRET, bearer, migrate, publish, running
from servicekit.auth import Role

pytestmark = pytest.mark.integration

WAIT_SECONDS = 60.0
ESCALATION_DELAY = timedelta(hours=24)
# March 2026 has 22 working days: a target of 22,000 expects 1,000 a working day.
MARCH = Period(start=date(2026, 3, 1), end=date(2026, 3, 31))
TARGET = Decimal(22000)
ADMIN = bearer(Role.ADMIN, person_id="admin-1")
UPDATED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
async def api(module_database: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    """One service for the module: it joins the consumer group once, and each
    rejoin of a group makes Tansu stall for up to 20 seconds. The sweep is driven
    by the tests through `/admin/evaluate`, not by the clock."""
    await migrate("alert_service", module_database)
    settings = AlertSettings(
        environment="test",
        database_url=module_database,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,
        consumer_batch_size=50,
        outbox_poll_seconds=0.2,
        sweep_interval_seconds=3600,
        delivery_poll_seconds=0.2,
        delivery_retry_base_seconds=0.2,
        escalation_delay_seconds=ESCALATION_DELAY.total_seconds(),
        http_timeout_seconds=2,
    )
    async with running(create_app(settings, tracking_transport=UNTRACKED)) as client:
        yield client


def _untracked(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/progress", request.url
    return httpx.Response(200, json={"data": [], "count": 0, "next_after": None})


# These tests fake tracking-service's progress events, so it has no ledger to count
# a past instant's progress from: it knows none of their goals, and a replay of an
# instant before a goal's copy judges the copy (test_replay_integration.py replays
# against the real one).
UNTRACKED = httpx.MockTransport(_untracked)


class AlertsTopic:
    """Reads `attain.alerts` from where it ended when the test began."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer

    async def next_about(self, goal_id: str) -> Event:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            batch = await self._consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    envelope = Envelope.from_bytes(record.value or b"")
                    if envelope.subject == goal_id:
                        # One goal's events share a partition, so they arrive in order.
                        return envelope.event()
        raise AssertionError(f"no alert event about {goal_id} within {WAIT_SECONDS}s")


@pytest.fixture
async def alerts_topic(kafka_bootstrap: str) -> AsyncIterator[AlertsTopic]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        # `topics()` would name the topics but, on Apache Kafka, leave their partitions unknown.
        await consumer._client.force_metadata_update()
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


@dataclass(frozen=True)
class Org:
    """A region managed by `boss`, a team in it managed by `lead`, and `rep` in the team."""

    region: str
    team: str
    boss: str
    lead: str
    rep: str


async def new_org(bootstrap: str) -> Org:
    s = uuid4().hex[:10]
    org = Org(f"region_{s}", f"team_{s}", f"boss_{s}", f"lead_{s}", f"rep_{s}")
    await publish(
        bootstrap,
        OrgUnitUpserted(
            org_unit_id=org.region,
            name=f"Region {s}",
            kind="region",
            parent_id=None,
            manager_id=org.boss,
            path=[org.region],
            version=1,
            updated_at=UPDATED,
        ),
        OrgUnitUpserted(
            org_unit_id=org.team,
            name=f"Team {s}",
            kind="team",
            parent_id=org.region,
            manager_id=org.lead,
            path=[org.region, org.team],
            version=1,
            updated_at=UPDATED,
        ),
        *(
            PersonUpserted(
                person_id=person,
                name=person.replace("_", " ").title(),
                email=f"{person}@example.com",
                maturity="experienced",
                memberships=[Membership(org_unit_id=unit, valid_from=date(2025, 1, 1))],
                version=1,
                updated_at=UPDATED,
            )
            for person, unit in ((org.boss, org.region), (org.lead, org.team), (org.rep, org.team))
        ),
    )
    return org


async def new_goal(
    api: httpx.AsyncClient,
    bootstrap: str,
    org: Org,
    *,
    period: Period = MARCH,
    target: Decimal = TARGET,
    metric: str = "revenue",
    parent_id: str | None = None,
    goal_id: str | None = None,
) -> str:
    """A rep goal, known to the service when this returns."""
    goal_id = goal_id or f"goal_{uuid4().hex[:12]}"
    await publish(
        bootstrap,
        GoalUpserted(
            goal_id=goal_id,
            parent_id=parent_id,
            metric=metric,
            direction="higher_is_better",
            org_unit_id=org.team,
            person_id=org.rep,
            owner_id=org.rep,
            period=period,
            timezone="UTC",
            target=target,
            currency="EUR" if metric == "revenue" else None,
            status="active",
            method="manual",
            version=1,
            updated_at=UPDATED,
        ),
    )
    await until(lambda: api.get(f"/goals/{goal_id}/rules", headers=ADMIN), 200)
    return goal_id


def progress(
    goal_id: str,
    org: Org,
    *,
    sequence: int,
    as_of: datetime,
    actual: str,
    period: Period = MARCH,
    target: Decimal = TARGET,
    parent_id: str | None = None,
) -> GoalProgressUpdated:
    return GoalProgressUpdated(
        goal_id=goal_id,
        owner_id=org.rep,
        metric="revenue",
        direction="higher_is_better",
        period=period,
        as_of=as_of,
        actual=Decimal(actual),
        target=target,
        attainment=None,
        expected_to_date=Decimal(0),
        pace=None,
        projection=Decimal(actual),
        sequence=sequence,
        parent_id=parent_id,
        org_unit_id=org.team,
        person_id=org.rep,
        timezone="UTC",
    )


def at(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


async def until(call: Any, status: int) -> httpx.Response:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        response = await call()
        if response.status_code == status:
            return response  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {status} within {WAIT_SECONDS}s")


async def evaluate(
    api: httpx.AsyncClient, as_of: datetime, goal_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"as_of": as_of.isoformat()}
    if goal_ids is not None:
        body["goal_ids"] = goal_ids
    response = await api.post("/admin/evaluate", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def about(changes: list[dict[str, Any]], goal_id: str) -> list[tuple[str, str, str]]:
    # The database may hold other tests' goals too.
    return [(c["rule"], c["transition"], c["severity"]) for c in changes if c["goal_id"] == goal_id]


async def test_progress_behind_pace_opens_an_alert_that_resolves_on_pace(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    org = await new_org(kafka_bootstrap)
    goal_id = await new_goal(api, kafka_bootstrap, org)

    # By the 20th, 15 of 22 working days: 15,000 expected, 5,000 done.
    await publish(kafka_bootstrap, progress(goal_id, org, sequence=1, as_of=at(20), actual="5000"))

    detected = await alerts_topic.next_about(goal_id)
    assert isinstance(detected, DeviationDetected)
    assert (detected.rule, detected.severity, detected.owner_id) == ("pace", "critical", org.rep)
    assert (detected.actual, detected.expected_to_date) == (5000, 15000)
    assert "66.7% behind pace" in detected.message and "15,000 expected by 2026-03-20" in (
        detected.message
    )

    listed = await api.get("/alerts", params={"goal_id": goal_id, "rule": "pace"}, headers=ADMIN)
    [alert] = listed.json()["data"]
    assert (alert["id"], alert["status"], alert["org_path"]) == (
        detected.alert_id,
        "open",
        [org.region, org.team],
    )
    # Money as money is written when its currency is not known; the pace a ratio.
    assert (alert["actual"], alert["expected"], alert["target"], alert["pace"]) == (
        "5000.00",
        "15000.00",
        f"{TARGET:.2f}",
        "0.3333",
    )

    await publish(kafka_bootstrap, progress(goal_id, org, sequence=2, as_of=at(23), actual="16500"))
    resolved = await alerts_topic.next_about(goal_id)
    assert isinstance(resolved, DeviationResolved)
    assert (resolved.alert_id, resolved.resolved_at) == (detected.alert_id, at(23))
    detail = (await api.get(f"/alerts/{detected.alert_id}", headers=ADMIN)).json()
    assert (detail["status"], detail["resolution"]) == ("resolved", "cleared")
    assert [h["kind"] for h in detail["history"]] == ["opened", "resolved"]


async def test_the_sweep_flags_a_rep_who_stood_still_and_replays_any_date(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    org = await new_org(kafka_bootstrap)
    goal_id = await new_goal(api, kafka_bootstrap, org)
    # Behind on the 9th (4,000 of 6,000): the consumer opens `pace`.
    await publish(kafka_bootstrap, progress(goal_id, org, sequence=1, as_of=at(9), actual="4000"))
    detected = await alerts_topic.next_about(goal_id)
    assert isinstance(detected, DeviationDetected) and detected.rule == "pace"

    # Nothing recorded since: by the 25th only the sweep can notice.
    assert ("silence", "opened", "warning") in about(await evaluate(api, at(25)), goal_id)
    # The same instant again changes nothing (idempotent).
    assert about(await evaluate(api, at(25)), goal_id) == []
    # Replaying the 9th: the rep had just recorded something.
    assert ("silence", "resolved", "warning") in about(await evaluate(api, at(9)), goal_id)
    # After the period, every alert of the goal resolves: the month is over.
    changes = about(await evaluate(api, at(2, month=4)), goal_id)
    assert changes and {transition for _, transition, _ in changes} == {"resolved"}
    alerts = (await api.get("/alerts", params={"goal_id": goal_id}, headers=ADMIN)).json()["data"]
    assert {a["status"] for a in alerts} == {"resolved"}
    assert {a["resolution"] for a in alerts} == {"cleared", "period_ended"}


async def test_a_critical_alert_nobody_acknowledges_goes_to_the_managers_webhook(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    org = await new_org(kafka_bootstrap)
    goal_id = await new_goal(api, kafka_bootstrap, org)
    async with http_receiver() as owner_hook, http_receiver() as lead_hook:
        owner_secret = await subscribe(api, org.rep, owner_hook)
        lead_secret = await subscribe(api, org.lead, lead_hook)
        await publish(kafka_bootstrap, progress(goal_id, org, sequence=1, as_of=at(20), actual="0"))
        detected = await alerts_topic.next_about(goal_id)
        assert isinstance(detected, DeviationDetected) and detected.severity == "critical"

        [sent] = await owner_hook.wait_for()
        body = Webhook(owner_secret).verify(sent.body, sent.headers)
        assert body["type"] == "attain.alert.opened"
        assert body["data"]["alert_id"] == detected.alert_id
        assert body["data"]["link"].endswith(f"/goals/{goal_id}")
        figures = [body["data"][k] for k in ("actual", "expected_to_date", "target", "pace")]
        assert figures == ["0.00", "15000.00", f"{TARGET:.2f}", "0.0000"]

        # A minute before the delay is up, nothing; at the delay it goes to the
        # team lead, the rep's manager.
        due = at(20) + ESCALATION_DELAY
        assert about(await evaluate(api, due - timedelta(minutes=1)), goal_id) == []
        assert ("pace", "escalated", "critical") in about(await evaluate(api, due), goal_id)
        escalated = await alerts_topic.next_about(goal_id)
        assert isinstance(escalated, AlertEscalated)
        assert (escalated.alert_id, escalated.escalated_to) == (detected.alert_id, org.lead)

        [to_lead] = await lead_hook.wait_for()
        assert Webhook(lead_secret).verify(to_lead.body, to_lead.headers)["type"] == (
            "attain.alert.escalated"
        )
        # Escalated once only.
        assert about(await evaluate(api, due + timedelta(hours=1)), goal_id) == []

        detail = (await api.get(f"/alerts/{detected.alert_id}", headers=ADMIN)).json()
        assert [h["kind"] for h in detail["history"]] == ["opened", "escalated"]
        assert {(d["person_id"], d["status"]) for d in detail["deliveries"]} == {
            (org.rep, "sent"),
            (org.lead, "sent"),
        }


async def test_an_acknowledged_alert_is_not_escalated_and_a_snoozed_one_waits(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    # A snooze ends in the future of the clock, so this story happens around today.
    now = datetime.now(UTC).replace(microsecond=0)
    period = Period(start=now.date() - timedelta(days=60), end=now.date() + timedelta(days=60))
    org = await new_org(kafka_bootstrap)
    first = await new_goal(api, kafka_bootstrap, org, period=period)
    second = await new_goal(api, kafka_bootstrap, org, period=period, metric="deals_won")
    for goal_id in (first, second):
        await publish(
            kafka_bootstrap,
            progress(goal_id, org, sequence=1, as_of=now, actual="0", period=period),
        )
        detected = await alerts_topic.next_about(goal_id)
        assert isinstance(detected, DeviationDetected) and detected.severity == "critical"
    [one] = await alert_ids(api, first)
    [two] = await alert_ids(api, second)

    manager = bearer(Role.MANAGER, person_id=org.lead)
    stranger = bearer(Role.MANAGER, person_id="someone_else")
    refused = await api.post(f"/alerts/{one}/acknowledge", json={}, headers=stranger)
    assert refused.status_code == 404
    acked = await api.post(f"/alerts/{one}/acknowledge", json={"note": "on it"}, headers=manager)
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"

    owner = bearer(Role.REP, person_id=org.rep)
    snooze_until = now + ESCALATION_DELAY * 2
    snoozed = await api.post(
        f"/alerts/{two}/snooze", json={"until": snooze_until.isoformat()}, headers=owner
    )
    assert snoozed.status_code == 200 and snoozed.json()["snoozed_until"] is not None
    past = await api.post(
        f"/alerts/{two}/snooze", json={"until": "2020-01-01T00:00:00Z"}, headers=owner
    )
    assert (past.status_code, past.json()["field"]) == (422, "until")

    due = now + ESCALATION_DELAY + timedelta(minutes=1)
    assert about(await evaluate(api, due, [first, second]), first) == []
    assert ("pace", "escalated", "critical") not in about(await evaluate(api, due), second)
    later = snooze_until + timedelta(minutes=1)
    assert ("pace", "escalated", "critical") in about(await evaluate(api, later), second)
    assert ("pace", "escalated", "critical") not in about(await evaluate(api, later), first)
    history = (await api.get(f"/alerts/{one}", headers=manager)).json()["history"]
    assert [(h["kind"], h["actor"], h["note"]) for h in history] == [
        ("opened", "system", None),
        ("acknowledged", org.lead, "on it"),
    ]


async def test_a_failing_channel_retries_without_holding_up_the_others(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    org = await new_org(kafka_bootstrap)
    goal_id = await new_goal(api, kafka_bootstrap, org)
    async with http_receiver() as broken, http_receiver() as working:
        broken.status = 503
        await subscribe(api, org.rep, broken)
        secret = await subscribe(api, org.rep, working)
        await publish(kafka_bootstrap, progress(goal_id, org, sequence=1, as_of=at(20), actual="0"))
        [sent] = await working.wait_for()
        assert Webhook(secret).verify(sent.body, sent.headers)
        await broken.wait_for(count=3)  # retried with backoff
        broken.status = 200
        await broken.wait_for(count=4)
        [alert_id] = await alert_ids(api, goal_id)
        deliveries = await until_delivered(api, alert_id, 2)
        retried = next(d for d in deliveries if d["target"] == broken.url)
        assert retried["attempts"] >= 4
        assert [entry["ok"] for entry in retried["log"]][-1] is True
        assert not any(entry["ok"] for entry in retried["log"][:-1])


async def until_delivered(api: httpx.AsyncClient, alert_id: str, count: int) -> list[Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        deliveries = (await api.get(f"/alerts/{alert_id}", headers=ADMIN)).json()["deliveries"]
        if sum(d["status"] == "sent" for d in deliveries) >= count:
            return list(deliveries)
        await asyncio.sleep(0.1)
    raise AssertionError(f"{alert_id}: not {count} deliveries sent")


async def subscribe(api: httpx.AsyncClient, person_id: str, hook: HttpReceiver) -> str:
    """Critical alerts only: each test's goal also has milder ones (forecast, silence)."""
    response = await api.post(
        "/subscriptions",
        json={"channel": "webhook", "target": hook.url, "min_severity": "critical"},
        headers=bearer(Role.MANAGER, person_id=person_id),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


async def alert_ids(api: httpx.AsyncClient, goal_id: str, rule: str = "pace") -> list[str]:
    params = {"goal_id": goal_id, "rule": rule}
    listed = (await api.get("/alerts", params=params, headers=ADMIN)).json()
    return [a["id"] for a in listed["data"]]


async def test_two_low_weeks_in_a_row_fire_a_critical_consecutive_low(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    org = await new_org(kafka_bootstrap)
    month = await new_goal(api, kafka_bootstrap, org)
    weeks = [
        Period(start=date(2026, 3, 2), end=date(2026, 3, 8)),
        Period(start=date(2026, 3, 9), end=date(2026, 3, 15)),
    ]
    week_ids = [
        await new_goal(api, kafka_bootstrap, org, period=w, target=Decimal(5000), parent_id=month)
        for w in weeks
    ]

    async def week_closes(i: int, actual: str, sequence: int = 1) -> None:
        """Each week's own pace alert (or its rise) shows its final figure was stored."""
        week = progress(
            week_ids[i],
            org,
            sequence=sequence,
            as_of=datetime.combine(weeks[i].end, datetime.min.time(), UTC) + timedelta(hours=12),
            actual=actual,
            period=weeks[i],
            target=Decimal(5000),
            parent_id=month,
        )
        await publish(kafka_bootstrap, week)
        assert isinstance(await alerts_topic.next_about(week_ids[i]), DeviationDetected)

    # Week 1 at 60%, week 2 at 80%: one low week, not two.
    await week_closes(0, "3000")
    await week_closes(1, "4000")
    rules_fired = {rule for rule, _, _ in about(await evaluate(api, at(17), [month]), month)}
    assert "consecutive_low" not in rules_fired

    # Week 2 corrected to 60%: two low weeks in a row.
    await week_closes(1, "3000", sequence=2)
    changes = about(await evaluate(api, at(17), [month]), month)
    assert ("consecutive_low", "opened", "critical") in changes
    listed = await api.get(
        "/alerts", params={"goal_id": month, "rule": "consecutive_low"}, headers=ADMIN
    )
    [alert] = listed.json()["data"]
    assert "2 consecutive weeks" in alert["detail"]


async def test_weekly_goals_without_a_parent_are_their_own_series(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    """A rep given one goal a week and no month above them: the closed weeks
    before the current one are the series `consecutive_low` reads."""
    org = await new_org(kafka_bootstrap)
    weeks = [
        Period(start=date(2026, 3, 2), end=date(2026, 3, 8)),
        Period(start=date(2026, 3, 9), end=date(2026, 3, 15)),
        Period(start=date(2026, 3, 16), end=date(2026, 3, 22)),
    ]
    week_ids = [
        await new_goal(api, kafka_bootstrap, org, period=w, target=Decimal(5000)) for w in weeks
    ]

    async def week_closes(i: int, actual: str, sequence: int = 1) -> None:
        week = progress(
            week_ids[i],
            org,
            sequence=sequence,
            as_of=datetime.combine(weeks[i].end, datetime.min.time(), UTC) + timedelta(hours=12),
            actual=actual,
            period=weeks[i],
            target=Decimal(5000),
        )
        await publish(kafka_bootstrap, week)
        assert isinstance(await alerts_topic.next_about(week_ids[i]), DeviationDetected)

    # Week 1 at 60%, week 2 at 80%: one low week, not two.
    await week_closes(0, "3000")
    await week_closes(1, "4000")
    changes = about(await evaluate(api, at(17), [week_ids[2]]), week_ids[2])
    assert "consecutive_low" not in {rule for rule, _, _ in changes}

    # Week 2 corrected to 60%: the current week's goal carries two low weeks in a row.
    await week_closes(1, "3000", sequence=2)
    changes = about(await evaluate(api, at(17), [week_ids[2]]), week_ids[2])
    assert ("consecutive_low", "opened", "critical") in changes
    listed = await api.get(
        "/alerts", params={"goal_id": week_ids[2], "rule": "consecutive_low"}, headers=ADMIN
    )
    [alert] = listed.json()["data"]
    assert alert["detail"] == "weekly completion below 70% for 2 consecutive weeks (60%, 60%)"


async def test_rule_settings_shape_what_fires(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    org = await new_org(kafka_bootstrap)
    goal_id = await new_goal(api, kafka_bootstrap, org)
    planner = bearer(Role.PLANNER, person_id="planner-1")
    await publish(kafka_bootstrap, progress(goal_id, org, sequence=1, as_of=at(20), actual="12000"))
    # 12,000 of 15,000 expected: 20% behind, a warning by default.
    detected = await alerts_topic.next_about(goal_id)
    assert isinstance(detected, DeviationDetected)
    assert (detected.rule, detected.severity) == ("pace", "warning")

    team_rule = await api.post(
        "/rules",
        json={
            "rule": "pace",
            "scope": "org_unit",
            "scope_id": org.team,
            "parameters": {"critical_threshold": "0.15"},
        },
        headers=planner,
    )
    assert team_rule.status_code == 201, team_rule.text
    assert ("pace", "raised", "critical") in about(await evaluate(api, at(20), [goal_id]), goal_id)

    own = await api.post(
        "/rules",
        json={
            "rule": "pace",
            "scope": "goal",
            "scope_id": goal_id,
            "parameters": {"enabled": False},
        },
        headers=planner,
    )
    assert own.status_code == 201
    assert ("pace", "resolved", "critical") in about(
        await evaluate(api, at(20), [goal_id]), goal_id
    )

    effective = (await api.get(f"/goals/{goal_id}/rules", headers=planner)).json()["data"]
    pace = next(r for r in effective if r["rule"] == "pace")
    assert pace["parameters"]["enabled"] is False
    assert pace["parameters"]["critical_threshold"] == "0.15"
    assert [(layer["scope"], layer["scope_id"]) for layer in pace["layers"]] == [
        ("org_unit", org.team),
        ("goal", goal_id),
    ]

    duplicate = await api.post(
        "/rules",
        json={"rule": "pace", "scope": "goal", "scope_id": goal_id, "parameters": {}},
        headers=planner,
    )
    assert duplicate.status_code == 409
    assert (await api.delete(f"/rules/{own.json()['id']}", headers=planner)).status_code == 204
    assert (
        await api.delete(f"/rules/{team_rule.json()['id']}", headers=planner)
    ).status_code == 204


async def test_managers_see_their_subtree_and_reps_their_own(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    org = await new_org(kafka_bootstrap)
    goal_id = await new_goal(api, kafka_bootstrap, org)
    await publish(kafka_bootstrap, progress(goal_id, org, sequence=1, as_of=at(20), actual="0"))
    detected = await alerts_topic.next_about(goal_id)
    assert isinstance(detected, DeviationDetected)

    for person, role in ((org.rep, Role.REP), (org.lead, Role.MANAGER), (org.boss, Role.MANAGER)):
        seen = (await api.get("/alerts", headers=bearer(role, person_id=person))).json()
        assert detected.alert_id in [a["id"] for a in seen["data"]], person
    by_unit = await api.get("/alerts", params={"org_unit_id": org.region}, headers=ADMIN)
    assert detected.alert_id in [a["id"] for a in by_unit.json()["data"]]

    other = await new_org(kafka_bootstrap)
    for person, role in ((other.rep, Role.REP), (other.boss, Role.MANAGER)):
        headers = bearer(role, person_id=person)
        assert detected.alert_id not in [
            a["id"] for a in (await api.get("/alerts", headers=headers)).json()["data"]
        ]
        assert (await api.get(f"/alerts/{detected.alert_id}", headers=headers)).status_code == 404


async def test_the_at_risk_order_puts_the_largest_shortfall_first_and_pages_by_cursor(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    org = await new_org(kafka_bootstrap)
    # By the 20th 15,000 of each goal is expected: these actuals are 1/3, 4/5 and 3/5 of it.
    goal_ids = [await new_goal(api, kafka_bootstrap, org) for _ in range(3)]
    for goal_id, actual in zip(goal_ids, ("5000", "12000", "9000"), strict=True):
        await publish(
            kafka_bootstrap, progress(goal_id, org, sequence=1, as_of=at(20), actual=actual)
        )
        assert isinstance(await alerts_topic.next_about(goal_id), DeviationDetected)
    listed = (await api.get("/alerts", params={"org_unit_id": org.team}, headers=ADMIN)).json()
    rank = {"info": 0, "warning": 1, "critical": 2}

    def at_risk(alert: dict[str, Any]) -> tuple[Decimal, int, str, str]:
        pace = Decimal(alert["pace"]) if alert["pace"] is not None else Decimal(1)
        shortfall = max(Decimal(0), 1 - pace)
        return (-shortfall, -rank[alert["severity"]], alert["opened_at"], alert["id"])

    expected = [a["id"] for a in sorted(listed["data"], key=at_risk)]
    # Each goal fell behind on more than one rule: ties of pace go by severity, then age.
    assert len(expected) > 3 and expected != [a["id"] for a in listed["data"]]
    ordered = {"org_unit_id": org.team, "order": "at_risk"}
    whole = (await api.get("/alerts", params=ordered, headers=ADMIN)).json()
    assert [a["id"] for a in whole["data"]] == expected
    paces = [a["pace"] for a in whole["data"]]
    assert sorted(set(paces)) == ["0.3333", "0.6000", "0.8000"] and paces == sorted(paces)

    # One at a time, each page picking up after the last one's alert.
    paged, after = [], None
    while True:
        page = (
            await api.get("/alerts", params={**ordered, "limit": 1, "after": after}, headers=ADMIN)
            if after
            else await api.get("/alerts", params={**ordered, "limit": 1}, headers=ADMIN)
        ).json()
        paged.extend(a["id"] for a in page["data"])
        assert page["count"] == len(expected)
        if not (after := page["next_after"]):
            break
    assert paged == expected

    # The status filter takes more than one status.
    lead = bearer(Role.MANAGER, person_id=org.lead)
    acked = await api.post(f"/alerts/{expected[1]}/acknowledge", json={}, headers=lead)
    assert acked.status_code == 200, acked.text
    both = {**ordered, "status": ["open", "acknowledged"]}
    unresolved = (await api.get("/alerts", params=both, headers=lead)).json()
    assert ([a["id"] for a in unresolved["data"]], unresolved["count"]) == (expected, len(expected))
    still_open = await api.get("/alerts", params={**ordered, "status": "open"}, headers=lead)
    assert [a["id"] for a in still_open.json()["data"]] == expected[:1] + expected[2:]


BAD_REQUESTS = [
    # method, path, body, headers, status, field
    ("GET", "/alerts", None, {}, 401, None),
    ("GET", "/alerts", None, bearer(Role.INTEGRATION), 404, None),
    ("GET", "/alerts?status=open&status=closed", None, ADMIN, 422, "status.1"),
    ("GET", "/alerts?severity=fatal", None, ADMIN, 422, "severity"),
    ("GET", "/alerts?order=gap", None, ADMIN, 422, "order"),
    ("GET", "/alerts/alert_missing", None, ADMIN, 404, None),
    ("POST", "/admin/evaluate", {"as_of": "2026-03-05T12:00:00Z"}, bearer(Role.PLANNER), 404, None),
    ("POST", "/admin/evaluate", {"as_of": "2026-03-05T12:00:00"}, ADMIN, 422, "as_of"),
    ("POST", "/admin/evaluate", {}, ADMIN, 422, "as_of"),
    (
        "POST",
        "/rules",
        {"rule": "pace", "scope": "default", "parameters": {"threshold": "2"}},
        ADMIN,
        422,
        "parameters.threshold",
    ),
    (
        "POST",
        "/rules",
        {
            "rule": "pace",
            "scope": "default",
            "parameters": {"threshold": "0.3", "critical_threshold": "0.2"},
        },
        ADMIN,
        422,
        "parameters.critical_threshold",
    ),
    (
        "POST",
        "/rules",
        {"rule": "pace", "scope": "default", "parameters": {"colour": "red"}},
        ADMIN,
        422,
        "parameters.colour",
    ),
    (
        "POST",
        "/rules",
        {"rule": "pace", "scope": "metric", "parameters": {}},
        ADMIN,
        422,
        "scope_id",
    ),
    ("POST", "/rules", {"rule": "mood", "scope": "default", "parameters": {}}, ADMIN, 422, "rule"),
    (
        "POST",
        "/rules",
        {"rule": "pace", "scope": "default", "parameters": {}},
        bearer(Role.REP, person_id="r"),
        404,
        None,
    ),
    (
        "POST",
        "/subscriptions",
        {"channel": "email", "target": "not-an-address"},
        bearer(Role.REP, person_id="r"),
        422,
        "target",
    ),
    (
        "POST",
        "/subscriptions",
        {"channel": "slack", "target": "ftp://x"},
        bearer(Role.REP, person_id="r"),
        422,
        "target",
    ),
    (
        "POST",
        "/subscriptions",
        {"channel": "pager", "target": "https://x.example"},
        bearer(Role.REP, person_id="r"),
        422,
        "channel",
    ),
    (
        "POST",
        "/subscriptions",
        {"channel": "email", "target": "a@b.example", "timezone": "Mars/Base"},
        bearer(Role.REP, person_id="r"),
        422,
        "timezone",
    ),
    (
        "POST",
        "/subscriptions",
        {"channel": "email", "target": "a@b.example", "person_id": "x"},
        bearer(Role.REP, person_id="r"),
        404,
        None,
    ),
    (
        "POST",
        "/subscriptions",
        {"channel": "email", "target": "a\x00@b.example"},
        bearer(Role.REP, person_id="r"),
        422,
        "target",
    ),
    (
        "POST",
        "/subscriptions",
        {"channel": "email", "target": "a@b.example", "quiet_start": "22:00:00+08:00"},
        bearer(Role.REP, person_id="r"),
        422,
        "quiet_start",
    ),
    ("GET", "/alerts?owner_id=a%00", None, bearer(Role.ADMIN, person_id="a"), 422, "owner_id"),
    ("GET", "/alerts?offset=9223372036854775808", None, bearer(Role.ADMIN), 422, "offset"),
]


async def test_quiet_hours_are_answered_in_one_shape(api: httpx.AsyncClient) -> None:
    rep = bearer(Role.REP, person_id=f"r-{uuid4().hex[:6]}")
    body = {
        "channel": "email",
        "target": "a@b.example",
        "quiet_start": "22:00",
        "quiet_end": "07:30",
    }
    created = await api.post("/subscriptions", json=body, headers=rep)
    assert created.status_code == 201, created.text
    listed = (await api.get("/subscriptions", headers=rep)).json()["data"]
    for answer in (created.json(), *listed):
        assert (answer["quiet_start"], answer["quiet_end"]) == ("22:00:00", "07:30:00")


async def test_bad_requests_are_problems(api: httpx.AsyncClient) -> None:
    for method, path, body, headers, status, field in BAD_REQUESTS:
        response = await api.request(method, path, json=body, headers=headers)
        case = f"{method} {path} {body}"
        assert response.status_code == status, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json", case
        problem = response.json()
        assert problem["status"] == status, case
        assert problem.get("field") == field, (case, problem)


async def test_a_delivery_target_is_shown_only_to_its_recipient_and_admins(
    api: httpx.AsyncClient, kafka_bootstrap: str, alerts_topic: AlertsTopic
) -> None:
    """A chat bot's webhook URL is a credential to post into that channel: the rep
    whose alert went to their manager's Slack read that URL in the alert's deliveries."""
    org = await new_org(kafka_bootstrap)
    goal_id = await new_goal(api, kafka_bootstrap, org)
    bot_url = f"https://hooks.slack.invalid/services/T0/B0/{uuid4().hex}"
    response = await api.post(
        "/subscriptions",
        json={"channel": "slack", "target": bot_url, "min_severity": "info", "scope": "team"},
        headers=bearer(Role.MANAGER, person_id=org.lead),
    )
    assert response.status_code == 201, response.text
    await publish(kafka_bootstrap, progress(goal_id, org, sequence=1, as_of=at(20), actual="0"))
    detected = await alerts_topic.next_about(goal_id)
    assert isinstance(detected, DeviationDetected)

    async def deliveries(person: str, role: Role) -> list[dict[str, Any]]:
        answer = await api.get(
            f"/alerts/{detected.alert_id}", headers=bearer(role, person_id=person)
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json()["deliveries"])

    to_lead = [d for d in await deliveries(org.rep, Role.REP) if d["person_id"] == org.lead]
    assert to_lead and all(d["channel"] == "slack" for d in to_lead)
    assert all(d["target"] is None for d in to_lead), "the rep reads the lead's bot URL"
    assert all("status" in d and "attempts" in d for d in to_lead)
    for person, role in ((org.rep, Role.REP), (org.boss, Role.MANAGER), ("viewer-1", Role.VIEWER)):
        seen = await deliveries(person, role)
        assert bot_url not in json.dumps(seen), person
        assert all(d["target"] is not None for d in seen if d["person_id"] == person)
    for person, role in ((org.lead, Role.MANAGER), ("admin-1", Role.ADMIN)):
        seen = await deliveries(person, role)
        assert bot_url in [d["target"] for d in seen if d["channel"] == "slack"], person


async def test_a_goals_rules_are_read_only_by_who_sees_the_goal(
    api: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    """They name the goal's org path and settings; another team's manager read them,
    and 404 only for ids that did not exist told them which do."""
    org, other = await new_org(kafka_bootstrap), await new_org(kafka_bootstrap)
    goal_id = await new_goal(api, kafka_bootstrap, org)
    for person in (org.lead, org.boss):
        seen = await api.get(
            f"/goals/{goal_id}/rules", headers=bearer(Role.MANAGER, person_id=person)
        )
        assert seen.status_code == 200, person
    outsider = bearer(Role.MANAGER, person_id=other.lead)
    refused = await api.get(f"/goals/{goal_id}/rules", headers=outsider)
    missing = await api.get("/goals/goal_nothing_here/rules", headers=outsider)
    assert (refused.status_code, missing.status_code) == (404, 404)
    assert refused.json()["detail"].replace(goal_id, "ID") == missing.json()["detail"].replace(
        "goal_nothing_here", "ID"
    )


async def test_a_setting_for_a_unit_is_read_by_the_managers_on_its_path_only(
    api: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org, other = await new_org(kafka_bootstrap), await new_org(kafka_bootstrap)
    goal_id = await new_goal(api, kafka_bootstrap, org)
    lead = bearer(Role.MANAGER, person_id=org.lead)
    await until(lambda: api.get(f"/goals/{goal_id}/rules", headers=lead), 200)
    await new_goal(api, kafka_bootstrap, other)
    created = await api.post(
        "/rules",
        json={"rule": "pace", "scope": "org_unit", "scope_id": org.region, "parameters": {}},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    setting_id = created.json()["id"]
    for person, status in ((org.boss, 200), (org.lead, 200), (other.boss, 404), (other.lead, 404)):
        headers = bearer(Role.MANAGER, person_id=person)
        assert (await api.get(f"/rules/{setting_id}", headers=headers)).status_code == status
        listed = [s["id"] for s in (await api.get("/rules", headers=headers)).json()["data"]]
        assert (setting_id in listed) == (status == 200), person
