"""alert_latency: from the signed webhook that makes a goal fall behind to the `DeviationDetected`
notification arriving at the goal owner's webhook (BENCHMARKS.md). tracking-service and
alert-service run as processes of their own on one database and broker, loaded with the scale's
org, people and goals. Each sample rep gets a 30-day revenue goal two thirds gone and a webhook
subscription (critical alerts); a won deal puts the goal on pace, then the same deal lost takes
it back to nothing, which is critically behind. The lost deals go out a few a second while the
other reps' deals, closing today, arrive in the background.

    uv run python bench/alert_latency.py --scale W/10
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

import asyncpg
import httpx
from _stack import (
    ALERT_GROUP,
    SOURCE_ID,
    STALLED_AFTER_SECONDS,
    TRACKING_GROUP,
    Load,
    Stack,
    Tracking,
    alert_service,
    asyncpg_dsn,
    bench_stack,
    deal_bodies,
    headers_for,
    json_bytes,
    note,
    parse_scale,
    post_load,
    print_figure,
    print_headline,
    print_workload,
    progress_from_now,
    publish_all,
    tracking_service,
    until_notifications_sent,
    wait_until_consumed,
)
from aiokafka import AIOKafkaConsumer, TopicPartition
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from attain_contracts import GoalUpserted, Period, topics
from attain_contracts.progress import GoalTerms, expected_to_date
from attain_devstack.receivers import HttpReceiver, Received, http_receiver
from attain_devstack.workload import CURRENCY, Deal, Rep, Workload
from servicekit.auth import Role
from servicekit.kafka import partitions_of
from tracking_service.cli.sign import signed_headers

SAMPLES = 100  # reps whose goal falls behind; half the reps when the scale has fewer than 200
SAMPLE_RATE = 2.0  # lost deals a second
# The other reps' new deals a second. With the lost ones, 7 deals/s is some 50 times W's average
# over working hours (1,000,000 deals in 250 days of 8 hours), each moving about 32 goals.
BACKGROUND_RATE, BACKGROUND_CONNECTIONS = 5, 16
ARRIVAL_TIMEOUT_SECONDS = 30.0  # a notification later than this after its webhook never came
SETUP_TIMEOUT_SECONDS = 300.0
DAYS_GONE, DAYS_LEFT = 20, 9  # the sample goals' 30 days: before today, today, after today
GOAL_TARGET = Decimal(100_000)
TARGET_P99_SECONDS = 2.0
NOTIFIED = ("attain.alert.opened", "attain.alert.raised")
UNPUBLISHED = "SELECT count(*) FROM tracking.outbox WHERE topic = $1 AND published_at IS NULL"
PUBLISHED = "SELECT count(*) FROM tracking.outbox WHERE topic = $1"


@dataclass(frozen=True)
class Sample:
    rep: Rep
    goal: GoalUpserted
    won: Deal  # its first version puts the goal on pace; the same deal lost takes it back


@dataclass
class Run:
    samples: list[Sample]
    warm_up_seconds: float = 0.0  # until every sample goal's first alert was delivered
    on_pace_seconds: float = 0.0  # from the won deals until every goal's alert resolved
    sent: dict[str, float] = field(default_factory=dict)  # goal id: monotonic time of the POST
    answered: list[float] = field(default_factory=list)  # seconds each lost deal's POST took
    arrived: dict[str, float] = field(default_factory=dict)  # goal id: first notification after
    # goal id: when tracking-service's relay produced the GoalProgressUpdated showing the loss
    produced: dict[str, float] = field(default_factory=dict)
    verified: int = 0  # notifications whose signature held
    forged: int = 0
    background: Load = field(default_factory=Load)


class Inbox:
    """What the receiver got, read as it arrives: each request's Standard Webhooks signature
    checked at once (a signature is valid for five minutes) against the secret of the
    subscription it was sent for, and the notifications that opened or raised a goal's alert."""

    def __init__(self, receiver: HttpReceiver, secrets: dict[str, str]) -> None:
        self.receiver = receiver
        self.secrets = secrets  # by person: each subscription posts to /<person id>
        self.notified: list[tuple[str, float]] = []  # goal id, arrival (time.monotonic())
        self.verified = 0
        self.forged = 0
        self._read = 0

    def read(self) -> None:
        for received in self.receiver.requests[self._read :]:
            self._read += 1
            if not self._genuine(received):
                continue
            message: dict[str, Any] = json.loads(received.body)
            if message["type"] in NOTIFIED:
                self.notified.append((message["data"]["goal_id"], received.at))

    def _genuine(self, received: Received) -> bool:
        secret = self.secrets.get(received.path.removeprefix("/"))
        try:
            if secret is None:
                raise WebhookVerificationError("no subscription posts to this path")
            Webhook(secret).verify(received.body, received.headers)
        except WebhookVerificationError as error:
            self.forged += 1
            note(f"a notification to {received.path} failed verification: {error}")
            return False
        self.verified += 1
        return True


def main() -> None:
    today = datetime.now(UTC).date()
    workload = Workload(parse_scale(__doc__), year=today.year)
    samples = sample_goals(workload, today)
    print_workload(
        workload,
        f"; {len(samples)} sample reps' goals made to fall behind, {SAMPLE_RATE:g} a second, "
        f"with {BACKGROUND_RATE} deals/s of the other reps' in the background",
    )
    started_at = time.time()
    with (
        bench_stack() as stack,
        tracking_service(stack, workload) as tracking,
        alert_service(stack) as alerts,
    ):
        run = asyncio.run(measure(stack, tracking, alerts, workload, samples, started_at))
    report(run)


def sample_goals(workload: Workload, today: date) -> list[Sample]:
    """Reps spread evenly over the org, each with a revenue goal of its own from DAYS_GONE days ago
    to DAYS_LEFT days on, and a deal won today worth what the goal expects by today. The other
    reps' deals are the background."""
    count = min(SAMPLES, len(workload.reps) // 2)
    reps = workload.reps[:: len(workload.reps) // count][:count]
    start, end = today - timedelta(days=DAYS_GONE), today + timedelta(days=DAYS_LEFT)
    expected = expected_to_date(
        GoalTerms("revenue", "higher_is_better", start, end, GOAL_TARGET), today
    )
    # Rounded up to the cent: exactly on pace, neither behind nor far enough ahead to alert.
    amount = expected.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    return [
        Sample(
            rep,
            GoalUpserted(
                goal_id=f"g-{rep.id}-revenue-latency",
                parent_id=None,
                metric="revenue",
                direction="higher_is_better",
                org_unit_id=rep.team.id,
                person_id=rep.id,
                owner_id=rep.id,
                period=Period(start=start, end=end),
                timezone="UTC",
                target=GOAL_TARGET,
                currency=CURRENCY,
                status="active",
                method="manual",
                version=1,
                updated_at=datetime.now(UTC),
            ),
            {
                "id": f"LAT-{rep.id}",
                "version": 1,
                "stage": "won",
                "amount": f"{amount:f}",
                "currency": CURRENCY,
                "owner_id": rep.id,
                "closed_on": today.isoformat(),
            },
        )
        for rep in reps
    ]


async def measure(
    stack: Stack,
    tracking: Tracking,
    alerts: str,
    workload: Workload,
    samples: list[Sample],
    started_at: float,
) -> Run:
    run = Run(samples)
    bootstrap = stack.servers.kafka_bootstrap
    # tracking-service publishes a first progress update of every goal it is given: alert-service
    # evaluates them all (opening alerts for the current goals, which have nothing yet) before
    # anything is timed.
    started = time.monotonic()
    first_progress = await _first_progress_ends(bootstrap, stack.database_url, started_at)
    await wait_until_consumed(bootstrap, ALERT_GROUP, {**tracking.directory, **first_progress})
    note(
        f"alert-service consumed the directory and {workload.goal_count():,} goals' first "
        f"progress in {time.monotonic() - started:.1f} s"
    )
    async with (
        http_receiver() as receiver,
        httpx.AsyncClient(base_url=alerts, timeout=30, headers=headers_for(Role.ADMIN)) as api,
        httpx.AsyncClient(base_url=tracking.url, timeout=30) as webhooks,
    ):
        inbox = Inbox(receiver, await subscribe(api, receiver.url, samples))
        started = time.monotonic()
        await _open_goals(bootstrap, inbox, samples)
        run.warm_up_seconds = time.monotonic() - started
        started = time.monotonic()
        await asyncio.gather(*(_post_deal(webhooks, tracking, sample.won) for sample in samples))
        await _until_on_pace(api, {sample.goal.goal_id for sample in samples})
        run.on_pace_seconds = time.monotonic() - started
        await until_notifications_sent(stack.database_url)
        note(f"{len(samples)} goals on pace; making them fall behind")
        progress = await progress_from_now(bootstrap)
        watching = asyncio.create_task(_watch_losses(progress, run))
        try:
            run.background, _ = await asyncio.gather(
                _background(tracking, workload, samples), _fall_behind(webhooks, tracking, run)
            )
            await _until_arrived(inbox, run)
        finally:
            watching.cancel()
            await progress.stop()
        run.verified, run.forged = inbox.verified, inbox.forged
    return run


async def _first_progress_ends(
    bootstrap: str, database_url: str, since: float
) -> dict[TopicPartition, int]:
    """Where the progress topic ends once tracking-service's relay has published every progress
    update its outbox holds (it has consumed the workload's goals already), all produced after
    `since` (time.time())."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        deadline = time.monotonic() + STALLED_AFTER_SECONDS
        while await connection.fetchval(UNPUBLISHED, topics.PROGRESS):
            if time.monotonic() > deadline:
                raise SystemExit("tracking-service's relay stopped publishing progress")
            await asyncio.sleep(0.5)
        published = int(await connection.fetchval(PUBLISHED, topics.PROGRESS))
    finally:
        await connection.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, [topics.PROGRESS])
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = {}
        read = 0
        while read < published:
            for partition, records in (await consumer.getmany(timeout_ms=500)).items():
                # A broker named by ATTAIN_KAFKA_BOOTSTRAP may hold earlier runs' records.
                ours = [record for record in records if record.timestamp >= since * 1000]
                if ours:
                    read += len(ours)
                    ends[partition] = ours[-1].offset + 1
        return ends
    finally:
        await consumer.stop()


async def subscribe(
    api: httpx.AsyncClient, receiver_url: str, samples: list[Sample]
) -> dict[str, str]:
    """A webhook subscription of each sample rep's, at critical; its signing secret by person."""
    secrets = {}
    for sample in samples:
        response = await api.post(
            "/subscriptions",
            json={
                "person_id": sample.rep.id,
                "channel": "webhook",
                "target": f"{receiver_url}/{sample.rep.id}",
                "min_severity": "critical",
            },
        )
        if response.status_code != 201:
            raise SystemExit(
                f"POST /subscriptions answered {response.status_code}: {response.text}"
            )
        secrets[sample.rep.id] = response.json()["secret"]
    return secrets


async def _open_goals(bootstrap: str, inbox: Inbox, samples: list[Sample]) -> None:
    """The sample goals to both services. Nothing recorded two thirds into a goal is critically
    behind: each goal's alert opens as it arrives, and its notification proves the subscription
    before anything is timed."""
    ends = await publish_all(bootstrap, [sample.goal for sample in samples])
    await wait_until_consumed(bootstrap, TRACKING_GROUP, ends)
    await wait_until_consumed(bootstrap, ALERT_GROUP, ends)
    goals = {sample.goal.goal_id for sample in samples}
    deadline = time.monotonic() + SETUP_TIMEOUT_SECONDS
    while not goals <= {goal for goal, _ in inbox.notified}:
        if time.monotonic() > deadline:
            raise SystemExit(
                f"{len(goals - {goal for goal, _ in inbox.notified})} of {len(goals)} new goals' "
                f"alerts were not delivered within {SETUP_TIMEOUT_SECONDS:.0f} s"
            )
        await asyncio.sleep(0.1)
        inbox.read()


async def _post_deal(webhooks: httpx.AsyncClient, tracking: Tracking, deal: Deal) -> float:
    """POST the deal signed as the source signs it; the seconds its answer took."""
    body = json_bytes(deal)
    headers = signed_headers(tracking.source_secret, body.decode())
    started = time.monotonic()
    response = await webhooks.post(f"/webhooks/{SOURCE_ID}/deals", content=body, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"the deal webhook answered {response.status_code}: {response.text}")
    return time.monotonic() - started


async def _until_on_pace(api: httpx.AsyncClient, goals: set[str]) -> None:
    """Until no sample goal has an open alert: alert-service has seen its won deal."""
    deadline = time.monotonic() + SETUP_TIMEOUT_SECONDS
    left = sorted(goals)
    while left:
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(left)} goals still had an open alert after their won deal")
        answers = await asyncio.gather(
            *(api.get("/alerts", params={"goal_id": goal, "status": "open"}) for goal in left)
        )
        left = [goal for goal, answer in zip(left, answers, strict=True) if _count(answer)]
        await asyncio.sleep(0.5)


def _count(response: httpx.Response) -> int:
    if response.status_code != 200:
        raise SystemExit(f"GET /alerts answered {response.status_code}: {response.text}")
    return int(response.json()["count"])


async def _fall_behind(webhooks: httpx.AsyncClient, tracking: Tracking, run: Run) -> None:
    """Each sample's deal lost, SAMPLE_RATE a second, one after the other."""
    started = time.monotonic()
    for n, sample in enumerate(run.samples):
        await asyncio.sleep(started + n / SAMPLE_RATE - time.monotonic())
        lost = {**sample.won, "version": 2, "stage": "lost"}
        run.sent[sample.goal.goal_id] = time.monotonic()
        run.answered.append(await _post_deal(webhooks, tracking, lost))


async def _watch_losses(progress: AIOKafkaConsumer, run: Run) -> None:
    """The first `GoalProgressUpdated` of each sample goal back at nothing: where the latency
    splits between tracking-service and alert-service."""
    # The record's timestamp is the relay's wall clock; the rest is time.monotonic().
    offset = time.time() - time.monotonic()
    while True:
        for records in (await progress.getmany(timeout_ms=200)).values():
            for record in records:
                data = json.loads(record.value)["data"]
                goal = data["goal_id"]
                if goal in run.sent and goal not in run.produced and Decimal(data["actual"]) == 0:
                    run.produced[goal] = record.timestamp / 1000 - offset


async def _background(tracking: Tracking, workload: Workload, samples: list[Sample]) -> Load:
    """The other reps' new deals, closing today, while the samples fall behind."""
    today = samples[0].won["closed_on"]
    sampled = {sample.rep.id for sample in samples}
    bodies = (deal for deal in deal_bodies(workload, "lat-bg") if deal["owner_id"] not in sampled)

    def request(n: int) -> tuple[bytes, dict[str, str]]:
        body = json_bytes({**next(bodies), "closed_on": today})
        return body, signed_headers(tracking.source_secret, body.decode())

    return await post_load(
        tracking.url,
        f"/webhooks/{SOURCE_ID}/deals",
        request,
        seconds=len(samples) / SAMPLE_RATE,
        connections=BACKGROUND_CONNECTIONS,
        rate=BACKGROUND_RATE,
    )


async def _until_arrived(inbox: Inbox, run: Run) -> None:
    """Until every sample goal was notified after its lost deal was sent, or
    ARRIVAL_TIMEOUT_SECONDS passed since the last was sent."""
    deadline = max(run.sent.values()) + ARRIVAL_TIMEOUT_SECONDS
    while len(run.arrived) < len(run.sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        inbox.read()
        for goal, at in inbox.notified:
            sent = run.sent.get(goal)
            if sent is not None and at >= sent and goal not in run.arrived:
                run.arrived[goal] = at


def report(run: Run) -> None:
    latencies = sorted(
        (
            run.arrived[goal] - sent if goal in run.arrived else None
            for goal, sent in run.sent.items()
        ),
        key=lambda s: float("inf") if s is None else s,
    )
    never = sum(s is None for s in latencies)
    p99 = _percentile(latencies, 99)
    sample = run.samples[0]
    print_figure(
        "setup",
        f"{len(run.samples)} sample goals of {GOAL_TARGET:,} {CURRENCY} over "
        f"{sample.goal.period.start}..{sample.goal.period.end}, a webhook subscription each "
        f"(critical); their first alerts delivered in {run.warm_up_seconds:.1f} s; a won deal of "
        f"{sample.won['amount']} each put them on pace in {run.on_pace_seconds:.1f} s (not timed)",
    )
    print_figure(
        "lost deals",
        f"{len(run.answered)} signed webhooks answered in p50 "
        f"{_ms(_percentile(sorted(run.answered), 50))}, max {_ms(max(run.answered))}",
    )
    print_figure("background", f"{BACKGROUND_RATE} deals/s wanted: {run.background.summary()}")
    print_figure(
        "alert latency",
        ", ".join(f"p{p} {_ms(_percentile(latencies, p))}" for p in (50, 95, 99))
        + f", max {_ms(latencies[-1])}, never delivered within "
        f"{ARRIVAL_TIMEOUT_SECONDS:.0f} s: {never} of {len(latencies)}",
    )
    produced = [run.produced[g] - sent for g, sent in run.sent.items() if g in run.produced]
    delivered = [at - run.produced[g] for g, at in run.arrived.items() if g in run.produced]
    print_figure(
        "of which",
        "webhook sent → GoalProgressUpdated produced "
        + ", ".join(f"p{p} {_ms(_percentile(sorted(produced), p))}" for p in (50, 99))
        + "; produced → notification received "
        + ", ".join(f"p{p} {_ms(_percentile(sorted(delivered), p))}" for p in (50, 99)),
    )
    print_figure(
        "signatures",
        f"{run.verified} of {run.verified + run.forged} notifications verified (Standard Webhooks)",
    )
    print_figure("baseline", "none (none of the anchors alerts in real time)")
    print_headline(
        "alert_latency",
        f"p99 {_ms(p99)}" + (f" ({never} of {len(latencies)} never delivered)" if never else ""),
        f"p99 < {TARGET_P99_SECONDS:.0f} s",
        p99 is not None and p99 < TARGET_P99_SECONDS and run.forged == 0,
    )


def _percentile(ordered: list[float | None] | list[float], p: int) -> float | None:
    """The nearest rank: the smallest value that `p`% of the values do not exceed (None is
    sorted last: never)."""
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)] if ordered else None


def _ms(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds * 1000:.0f} ms"


if __name__ == "__main__":
    main()
