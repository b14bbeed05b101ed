"""Alert notifications across real processes: alert-service posts a signed webhook to a real
HTTP receiver and sends e-mail to a real SMTP server; a critical alert nobody acknowledges
reaches the owner's manager after the escalation delay, and one acknowledged in time does not.

Ann, Bob and Cleo are reps in a team Boss manages. Each has a revenue goal two thirds gone with
nothing recorded, which alert-service finds critically behind pace as soon as it learns the goal.
Ann hears of critical alerts on her webhook; Bob and Cleo have no subscription, so Bob is e-mailed
at his address and Cleo, who has none, hears nothing until she looks and acknowledges."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from conftest import Stack
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from attain_contracts import topics
from attain_devstack.receivers import MailReceiver, Received, http_receiver, smtp_receiver
from attain_devstack.testing import bearer
from servicekit.auth import Role
from servicekit.settings import DEVELOPMENT_SECRET

pytestmark = pytest.mark.e2e

# Long enough for the test to acknowledge Cleo's alert first, short enough to wait out.
ESCALATION_DELAY_SECONDS = 5
TARGET = 100_000  # of each rep's revenue goal
LINK = "https://attain.test/goals/{goal_id}"
ALERT_GROUP = "alert-service"  # alert-service's consumer group (alert_service.main)
ADMIN = bearer(Role.ADMIN, person_id="e2e-admin", secret=DEVELOPMENT_SECRET)


@pytest.fixture(scope="module")
async def mail() -> AsyncIterator[MailReceiver]:
    async with smtp_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def service_environment(mail: MailReceiver) -> dict[str, str]:
    return {
        "ATTAIN_ALERT_SMTP_HOST": mail.host,
        "ATTAIN_ALERT_SMTP_PORT": str(mail.port),
        "ATTAIN_ALERT_SMTP_SENDER": "alerts@attain.test",
        "ATTAIN_ALERT_ESCALATION_DELAY_SECONDS": str(ESCALATION_DELAY_SECONDS),
        "ATTAIN_ALERT_SWEEP_INTERVAL_SECONDS": "1",
        # Deliveries wake on NOTIFY; a short fallback poll keeps a missed one from costing 5 s.
        "ATTAIN_ALERT_DELIVERY_POLL_SECONDS": "0.5",
        "ATTAIN_ALERT_GOAL_LINK_TEMPLATE": LINK,
    }


async def test_owners_are_notified_and_an_unacknowledged_critical_alert_escalates(
    stack: Stack, mail: MailReceiver
) -> None:
    goal_url, alert_url = stack.urls["goal-service"], stack.urls["alert-service"]
    suffix = uuid4().hex[:6]
    company, team = f"acme-{suffix}", f"east-{suffix}"
    people = boss, ann, bob, cleo = [f"{name}-{suffix}" for name in ("boss", "ann", "bob", "cleo")]
    email = {person: f"{person}@attain.test" for person in (boss, ann, bob)}
    today = datetime.now(UTC).date()
    # 45 days are neither a calendar month nor a week: the period reads as its two dates.
    start, end = today - timedelta(days=30), today + timedelta(days=14)
    period = f"{start.isoformat()} to {end.isoformat()}"

    async with (
        watching(stack.kafka_bootstrap) as published,
        httpx.AsyncClient(headers=ADMIN, timeout=10) as http,
        http_receiver() as hooks,
    ):
        await ok(
            http.put(f"{goal_url}/org-units/{company}", json={"name": "Acme", "kind": "company"})
        )
        await ok(
            http.put(
                f"{goal_url}/people/{boss}",
                json={"name": "Boss", "email": email[boss], "org_unit_id": company},
            )
        )
        await ok(
            http.put(
                f"{goal_url}/org-units/{team}",
                json={"name": "East", "kind": "team", "parent_id": company, "manager_id": boss},
            )
        )
        for rep, name in ((ann, "Ann"), (bob, "Bob"), (cleo, "Cleo")):
            await ok(
                http.put(
                    f"{goal_url}/people/{rep}",
                    json={"name": name, "email": email.get(rep), "org_unit_id": team},
                )
            )
        subscribed = await ok(
            http.post(
                f"{alert_url}/subscriptions",
                headers=as_rep(ann),
                json={
                    "channel": "webhook",
                    "target": f"{hooks.url}/{ann}",
                    "min_severity": "critical",
                },
            )
        )
        secret = subscribed["secret"]
        assert secret.startswith("whsec_")

        # Who is e-mailed and who manages whom is alert-service's copy of the org: it must have
        # it before an alert opens, and the org and goal topics are consumed in no fixed order.
        directory = await published.wait_for(
            lambda r: r.data.get("person_id") in people or r.data.get("org_unit_id") == team,
            count=len(people) + 1,
        )
        await until_consumed(stack.kafka_bootstrap, ALERT_GROUP, directory)

        # Cleo's goal first: her alert is critical before the others', so the sweep that
        # escalates theirs would escalate hers too had she not acknowledged it.
        goals = {
            rep: await create_goal(http, goal_url, rep, team, start, end)
            for rep in (cleo, ann, bob)
        }
        alerts = {cleo: await pace_alert(http, alert_url, goals[cleo])}
        acknowledged = await ok(
            http.post(
                f"{alert_url}/alerts/{alerts[cleo]['id']}/acknowledge",
                headers=as_rep(cleo),
                json={"note": "on it"},
            )
        )
        assert acknowledged["status"] == "acknowledged"
        assert acknowledged["escalated_at"] is None, "escalated first: lengthen the delay"
        alerts |= {rep: await pace_alert(http, alert_url, goals[rep]) for rep in (ann, bob)}
        assert all(a["severity"] == "critical" for a in alerts.values())
        critical_since = {
            rep: datetime.fromisoformat(alert["critical_since"]) for rep, alert in alerts.items()
        }
        assert critical_since[cleo] <= min(critical_since[ann], critical_since[bob])

        # Ann's webhook: a Standard Webhooks message her secret verifies, and nothing else does.
        [hook] = await hooks.wait_for(where=pace_rule)
        assert hook.path == f"/{ann}"
        message = Webhook(secret).verify(hook.body, hook.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(hook.body.replace(b'"critical"', b'"warning"'), hook.headers)
        assert message["type"] == "attain.alert.opened"
        data = message["data"]
        assert (data["alert_id"], data["goal_id"], data["owner_id"]) == (
            alerts[ann]["id"],
            goals[ann],
            ann,
        )
        assert data["severity"] == "critical" and data["rule"] == "pace"
        assert Decimal(data["actual"]) == 0 < Decimal(data["expected_to_date"]) < TARGET
        assert data["link"] == LINK.format(goal_id=goals[ann])
        assert data["message"].startswith(f"Revenue {period} of Ann (East): ")

        # Bob has no subscription: the alert comes by e-mail to his own address.
        [to_bob] = await mail.wait_for(
            where=lambda m: m["To"] == email[bob] and "behind pace" in subject(m)
        )
        assert subject(to_bob) == f"[critical] revenue {period} of Bob (East): behind pace"
        assert LINK.format(goal_id=goals[bob]) in plain_text(to_bob)

        # Nobody acknowledged Ann's and Bob's alerts: after the delay they go to Boss by e-mail.
        escalations = await mail.wait_for(
            count=2,
            within=ESCALATION_DELAY_SECONDS + 20,
            where=lambda m: m["To"] == email[boss] and "Escalated" in subject(m),
        )
        assert sorted(subject(m) for m in escalations) == [
            f"[critical] Escalated: revenue {period} of {name} (East): behind pace"
            for name in ("Ann", "Bob")
        ]
        escalated = await published.wait_for(
            lambda r: (
                r.type == "attain.alert.AlertEscalated.v1" and r.data["goal_id"] in goals.values()
            ),
            count=2,
        )
        assert sorted((r.data["alert_id"], r.data["escalated_to"]) for r in escalated) == sorted(
            [(alerts[ann]["id"], boss), (alerts[bob]["id"], boss)]
        )
        ann_alert = await eventually(
            lambda: http.get(f"{alert_url}/alerts/{alerts[ann]['id']}"),
            until=lambda body: all(d["status"] == "sent" for d in body["deliveries"]),
        )
        assert [h["kind"] for h in ann_alert["history"]] == ["opened", "escalated"]
        assert ann_alert["escalated_to"] == boss
        assert [
            (d["event"], d["channel"], d["target"], d["status"]) for d in ann_alert["deliveries"]
        ] == [
            ("opened", "webhook", f"{hooks.url}/{ann}", "sent"),
            ("escalated", "email", email[boss], "sent"),
        ]
        bob_alert = await eventually(
            lambda: http.get(f"{alert_url}/alerts/{alerts[bob]['id']}"),
            until=lambda body: all(d["status"] == "sent" for d in body["deliveries"]),
        )
        assert [h["kind"] for h in bob_alert["history"]] == ["opened", "escalated"]
        assert [(d["event"], d["target"]) for d in bob_alert["deliveries"]] == [
            ("opened", email[bob]),
            ("escalated", email[boss]),
        ]

        # Cleo acknowledged in time: the same sweeps left her alert alone.
        cleo_alert = await ok(http.get(f"{alert_url}/alerts/{alerts[cleo]['id']}"))
        assert [h["kind"] for h in cleo_alert["history"]] == ["opened", "acknowledged"]
        assert cleo_alert["escalated_at"] is None and cleo_alert["deliveries"] == []
        assert not [m for m in mail.messages if "of Cleo" in subject(m)]


def as_rep(person_id: str) -> dict[str, str]:
    return bearer(Role.REP, person_id=person_id, secret=DEVELOPMENT_SECRET)


async def create_goal(
    http: httpx.AsyncClient, goal_url: str, rep: str, team: str, start: date, end: date
) -> str:
    written = await ok(
        http.post(
            f"{goal_url}/goals",
            json={
                "metric": "revenue",
                "org_unit_id": team,
                "person_id": rep,
                "owner_id": rep,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "target": str(TARGET),
            },
        )
    )
    return str(written["goal"]["id"])


async def pace_alert(http: httpx.AsyncClient, alert_url: str, goal_id: str) -> dict[str, Any]:
    found = await eventually(
        lambda: http.get(f"{alert_url}/alerts", params={"goal_id": goal_id, "rule": "pace"}),
        until=lambda body: body["count"] == 1,
    )
    return found["data"][0]


def pace_rule(received: Received) -> bool:
    return bool(json.loads(received.body)["data"]["rule"] == "pace")


def subject(message: EmailMessage) -> str:
    # A subject longer than a line is folded before its first word, and the stdlib's parser
    # keeps the space of the fold where a mail client drops it.
    return str(message["Subject"]).strip()


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


async def ok(request: Awaitable[httpx.Response]) -> dict[str, Any]:
    response = await request
    assert response.status_code in (200, 201), f"{response.request.url}: {response.text}"
    return response.json()


async def eventually(
    request: Callable[[], Awaitable[httpx.Response]],
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 30,
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await request()
        if response.status_code == 200 and until(response.json()):
            return response.json()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{response.request.url} never got there: {response.text}")
        await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    type: str
    data: dict[str, Any]


@dataclass
class Published:
    """The events on the org and alert topics since `watching` began, with where each landed."""

    consumer: AIOKafkaConsumer
    records: list[Record] = field(default_factory=list)

    async def wait_for(
        self, where: Callable[[Record], bool], count: int = 1, timeout: float = 30
    ) -> list[Record]:
        try:
            async with asyncio.timeout(timeout):
                while len(found := [r for r in self.records if where(r)]) < count:
                    for batch in (await self.consumer.getmany(timeout_ms=300)).values():
                        self.records.extend(
                            _record(r.topic, r.partition, r.offset, r.value) for r in batch
                        )
                return found
        except TimeoutError:
            raise AssertionError(f"{len(found)} of {count} events within {timeout}s") from None


@asynccontextmanager
async def watching(bootstrap: str) -> AsyncIterator[Published]:
    # Partitions assigned by hand: joining a consumer group takes seconds.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        # The metadata that names each topic's partitions: `topics()` answers with the names
        # but, on Apache Kafka, leaves the partitions unknown to `partitions_for_topic`.
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, partition)
            for topic in (topics.ORG, topics.ALERTS)
            for partition in consumer.partitions_for_topic(topic) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        yield Published(consumer)
    finally:
        await consumer.stop()


def _record(topic: str, partition: int, offset: int, value: bytes | None) -> Record:
    envelope = json.loads(value or b"{}")
    return Record(topic, partition, offset, envelope["type"], envelope["data"])


async def until_consumed(
    bootstrap: str, group: str, records: list[Record], timeout: float = 30
) -> None:
    """Until `group` has committed past every one of `records`: a service's consumer commits
    only what its database transaction committed."""
    ends: dict[TopicPartition, int] = {}
    for record in records:
        partition = TopicPartition(record.topic, record.partition)
        ends[partition] = max(ends.get(partition, 0), record.offset + 1)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with asyncio.timeout(timeout):
            while True:
                committed = await admin.list_consumer_group_offsets(group, partitions=list(ends))
                if all(tp in committed and committed[tp].offset >= end for tp, end in ends.items()):
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(
            f"{group} did not consume {len(records)} events in {timeout}s"
        ) from None
    finally:
        await admin.close()
