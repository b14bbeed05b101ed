"""Faults on Apache Kafka, each in the middle of a stream of signed deals: the broker stopped for
longer than the clients' retry windows, PostgreSQL restarted, and two replicas of tracking- and
alert-service with one of each killed by SIGKILL. Each ends with every deal applied exactly once
in every service (the ledger, the goal's progress, alert-service's copy of it, the rep's
statement), every outbox drained, and `/readyz` having reported the fault while it lasted.

The module runs its own Apache Kafka and PostgreSQL, in a temporary folder, so that it may stop
and restart them whatever servers the rest of the session uses."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from test_one_deal_through_all_four import ADMIN, ok

from attain_devstack._process import run_blocking
from attain_devstack.broker import free_port
from attain_devstack.groups import start_groups_at_the_end
from attain_devstack.kafka import ApacheKafka
from attain_devstack.postgres import (
    restart_embedded_postgres,
    start_embedded_postgres,
    stop_embedded_postgres,
    stop_embedded_postgres_for_now,
    temporary_database,
)
from attain_devstack.run import SERVICES, Service, start, stop, wait_until_ready
from attain_devstack.stack import EMBEDDED_BROKER_SETTINGS
from servicekit.migrations import upgrade
from servicekit.topics import ensure_topics
from tracking_service.cli.sign import signed_headers

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("ATTAIN_BROKER") == "tansu"
        or not (shutil.which("java") and shutil.which("mvn")),
        reason="faults on Apache Kafka: needs java and mvn, and ATTAIN_BROKER other than tansu",
    ),
]

DEALS = 120
REPS = 4
# aiokafka's request timeout (40 s) bounds how long a producer's send and a consumer's fetch or
# commit retry before they fail; the broker stays away longer than that.
BROKER_DOWN_SECONDS = 45
POSTGRES_DOWN_SECONDS = 10
SETTLE_SECONDS = 180
FOUR = ("goal-service", "tracking-service", "alert-service", "incentive-service")
SCHEMAS = ("goal", "tracking", "alert", "incentive")
REPLICATED = {"tracking-service": 2, "alert-service": 2}
# Where the services' and the broker's logs are kept after the module (git-ignored), to read
# when a fault test failed: its temporary folder is gone by then.
KEPT_LOGS = Path(__file__).resolve().parents[2] / ".artifacts" / "faults"


@dataclass
class Servers:
    kafka: ApacheKafka
    postgres_dir: Path
    admin_url: str
    log_dir: Path


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with tempfile.TemporaryDirectory(prefix="attain-faults-") as folder:
        kafka = ApacheKafka(Path(folder) / "kafka")
        kafka.start()
        try:
            admin_url = start_embedded_postgres(Path(folder) / "postgres")
            try:
                run_blocking(ensure_topics(kafka.bootstrap))
                yield Servers(kafka, Path(folder) / "postgres", admin_url, Path(folder))
            finally:
                stop_embedded_postgres(Path(folder) / "postgres")
        finally:
            kafka.stop()
            _keep_logs(Path(folder))


def _keep_logs(folder: Path) -> None:
    shutil.rmtree(KEPT_LOGS, ignore_errors=True)
    for log in [*(folder / "kafka").glob("kafka.log"), *folder.glob("*-service-*/*.log")]:
        kept = KEPT_LOGS / log.relative_to(folder)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, kept)


@dataclass
class Deployment:
    """The services as processes, some with several replicas, on one new database."""

    database_url: str
    replicas: dict[str, list[tuple[Service, subprocess.Popen[bytes]]]] = field(default_factory=dict)

    def url(self, name: str, replica: int = 0) -> str:
        return self.replicas[name][replica][0].url

    def urls(self, name: str) -> list[str]:
        return [service.url for service, process in self.replicas[name] if process.poll() is None]

    def kill(self, name: str, replica: int) -> None:
        process = self.replicas[name][replica][1]
        process.send_signal(signal.SIGKILL)
        process.wait()


@contextmanager
def deployed(servers: Servers, replicas: dict[str, int] | None = None) -> Iterator[Deployment]:
    wanted = [s for s in SERVICES if s.name in FOUR]
    with temporary_database(servers.admin_url) as database_url:
        for service in wanted:
            upgrade(service.package, database_url)
        environment = {
            **os.environ,
            **EMBEDDED_BROKER_SETTINGS["kafka"],
            "ATTAIN_DATABASE_URL": database_url,
            "ATTAIN_KAFKA_BOOTSTRAP": servers.kafka.bootstrap,
            "ATTAIN_OUTBOX_POLL_SECONDS": "0.2",
        }
        # Not the backlog of the module's previous deployment, on its own database.
        run_blocking(start_groups_at_the_end(servers.kafka.bootstrap))
        deployment = Deployment(database_url)
        started: list[subprocess.Popen[bytes]] = []
        try:
            for service in wanted:
                for n in range((replicas or {}).get(service.name, 1)):
                    replica = Service(service.name, service.package, free_port())
                    log_dir = servers.log_dir / f"{service.name}-{n}"
                    log_dir.mkdir(exist_ok=True)
                    process = start(replica, environment, log_dir)
                    started.append(process)
                    deployment.replicas.setdefault(service.name, []).append((replica, process))
            everyone = [pair for pairs in deployment.replicas.values() for pair in pairs]
            wait_until_ready([s for s, _ in everyone], [p for _, p in everyone])
            yield deployment
        finally:
            stop(started)


@dataclass
class Stream:
    """A team of reps with a monthly revenue goal each and a 5% plan, and the deals sent so far."""

    suffix: str
    reps: list[str]
    goals: dict[str, str]
    secret: str
    period: str
    sent: list[dict[str, str]] = field(default_factory=list)
    unavailable_answers: int = 0

    def expected(self, rep: str) -> tuple[int, Decimal]:
        mine = [Decimal(d["amount"]) for d in self.sent if d["owner_id"] == rep]
        return len(mine), sum(mine, Decimal(0))


async def set_up(http: httpx.AsyncClient, deployment: Deployment) -> Stream:
    goal_url, tracking_url = deployment.url("goal-service"), deployment.url("tracking-service")
    incentive_url = deployment.url("incentive-service")
    suffix = uuid4().hex[:6]
    today = datetime.now(UTC).date()
    period = today.strftime("%Y-%m")
    team = f"team-{suffix}"
    await ok(http.put(f"{goal_url}/org-units/co-{suffix}", json={"name": "Co", "kind": "company"}))
    await ok(
        http.put(
            f"{goal_url}/org-units/{team}",
            json={"name": "Team", "kind": "team", "parent_id": f"co-{suffix}"},
        )
    )
    reps = [f"rep{n}-{suffix}" for n in range(REPS)]
    goals = {}
    for rep in reps:
        await ok(
            http.put(
                f"{goal_url}/people/{rep}",
                json={"name": rep, "org_unit_id": team, "member_since": "2020-01-01"},
            )
        )
        written = await ok(
            http.post(
                f"{goal_url}/goals",
                json={
                    "metric": "revenue",
                    "org_unit_id": team,
                    "person_id": rep,
                    "owner_id": rep,
                    "period_key": period,
                    "target": "1000000",
                },
            )
        )
        goals[rep] = written["goal"]["id"]
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
                "assignments": [{"person_id": rep} for rep in reps],
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
    for goal_id in goals.values():
        await settled(lambda g=goal_id: http.get(f"{tracking_url}/goals/{g}/progress"))
    return Stream(suffix, reps, goals, secret, period)


async def send_deals(
    http: httpx.AsyncClient, stream: Stream, tracking_urls: list[str], count: int
) -> None:
    """Push `count` more won deals, each signed, as a CRM does: it sends again, after a pause,
    a delivery that failed or was answered 503, to the next address it knows."""
    today = datetime.now(UTC).date().isoformat()
    for _ in range(count):
        n = len(stream.sent)
        deal = {
            "id": f"D-{stream.suffix}-{n}",
            "version": 1,
            "stage": "won",
            "amount": f"{100 + n}.00",
            "currency": "CNY",
            "owner_id": stream.reps[n % REPS],
            "closed_on": today,
        }
        body = json.dumps(deal)
        for attempt in range(200):
            url = tracking_urls[(n + attempt) % len(tracking_urls)]
            webhook = f"{url}/webhooks/crm-{stream.suffix}/deals"
            try:
                answer = await http.post(
                    webhook, content=body, headers=signed_headers(stream.secret, body)
                )
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
                # A dead replica, or a kept-alive connection the server closed as the request
                # went out. A timeout is no reason to retry: it is the hang this must not have.
                await asyncio.sleep(0.2)
                continue
            if answer.status_code in (200, 201):
                break
            assert answer.status_code == 503, f"{webhook}: {answer.status_code} {answer.text}"
            assert answer.headers["content-type"] == "application/problem+json"
            stream.unavailable_answers += 1
            await asyncio.sleep(0.5)
        else:
            raise AssertionError(f"deal {deal['id']} was never accepted")
        stream.sent.append(deal)


async def assert_every_deal_applied_once(
    http: httpx.AsyncClient, deployment: Deployment, stream: Stream
) -> None:
    tracking_url = deployment.urls("tracking-service")[0]
    incentive_url = deployment.url("incentive-service")
    connection = await asyncpg.connect(deployment.database_url.replace("+asyncpg", ""))
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            differences = await _differences(http, connection, tracking_url, incentive_url, stream)
            if not differences:
                return
            if time.monotonic() > deadline:
                raise AssertionError("\n".join(differences))
            await asyncio.sleep(1)
    finally:
        await connection.close()


async def _differences(
    http: httpx.AsyncClient,
    connection: asyncpg.Connection,
    tracking_url: str,
    incentive_url: str,
    stream: Stream,
) -> list[str]:
    found = []
    for rep in stream.reps:
        count, total = stream.expected(rep)
        goal_id = stream.goals[rep]
        ledger = await connection.fetchrow(
            "SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM tracking.ledger_entry"
            " WHERE metric = 'revenue' AND person_id = $1",
            rep,
        )
        progress = (await http.get(f"{tracking_url}/goals/{goal_id}/progress")).json()
        copy = await connection.fetchval(
            "SELECT numerator FROM alert.goal_progress WHERE goal_id = $1", goal_id
        )
        statement = await http.get(f"{incentive_url}/people/{rep}/statements/{stream.period}")
        seen = {
            "ledger": (ledger["n"], ledger["total"]),
            "progress": Decimal(progress.get("actual", "-1")),
            "alert copy": copy,
            "statement": (
                (len(statement.json()["deals"]), Decimal(statement.json()["revenue"]))
                if statement.status_code == 200
                else statement.status_code
            ),
        }
        wanted = {
            "ledger": (count, total),
            "progress": total,
            "alert copy": total,
            "statement": (count, total),
        }
        found += [
            f"{rep} {what}: {seen[what]} instead of {wanted[what]}"
            for what in wanted
            if seen[what] != wanted[what]
        ]
    for schema in SCHEMAS:
        unpublished = await connection.fetchval(
            f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL"
        )
        if unpublished:
            found.append(f"{schema}: {unpublished} outbox rows unpublished")
    return found


async def readiness(http: httpx.AsyncClient, url: str) -> tuple[int, dict[str, str]]:
    answer = await http.get(f"{url}/readyz")
    return answer.status_code, answer.json()["checks"]


async def settled(request, until=lambda answer: answer.status_code == 200) -> httpx.Response:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        answer = await request()
        if until(answer):
            return answer  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"{answer.request.url} never got there: {answer.text}")
        await asyncio.sleep(0.3)


@pytest.fixture
def deployment(servers: Servers) -> Iterator[Deployment]:
    """One process of each service."""
    with deployed(servers) as deployment:
        yield deployment


@pytest.fixture
def replicated(servers: Servers) -> Iterator[Deployment]:
    """Two processes each of tracking-service and alert-service, one of the others."""
    with deployed(servers, REPLICATED) as deployment:
        yield deployment


async def test_a_broker_outage_longer_than_the_retry_windows_loses_and_doubles_nothing(
    servers: Servers, deployment: Deployment
) -> None:
    async with httpx.AsyncClient(headers=ADMIN, timeout=15) as http:
        stream = await set_up(http, deployment)
        tracking = deployment.urls("tracking-service")
        await send_deals(http, stream, tracking, DEALS // 2)

        stopped = time.monotonic()
        servers.kafka.stop()
        for name in FOUR:
            status, checks = await readiness(http, deployment.url(name))
            assert status == 503 and checks["broker"] != "ok", (name, checks)
            assert checks["database"] == "ok"
        # The webhooks need only the database: deals keep coming in, into the outbox.
        await send_deals(http, stream, tracking, DEALS // 4)
        await asyncio.sleep(max(0.0, BROKER_DOWN_SECONDS - (time.monotonic() - stopped)))
        servers.kafka.start()

        await send_deals(http, stream, tracking, DEALS - len(stream.sent))
        await assert_every_deal_applied_once(http, deployment, stream)
        for name in FOUR:
            await settled(lambda n=name: http.get(f"{deployment.url(n)}/readyz"))


async def test_a_postgres_restart_answers_503_meanwhile_and_loses_no_deal(
    servers: Servers, deployment: Deployment
) -> None:
    async with httpx.AsyncClient(headers=ADMIN, timeout=15) as http:
        stream = await set_up(http, deployment)
        tracking = deployment.urls("tracking-service")
        await send_deals(http, stream, tracking, DEALS // 2)

        stop_embedded_postgres_for_now(servers.postgres_dir)
        # Back after a while, from a thread: meanwhile the CRM keeps sending.
        restarted = asyncio.get_running_loop().run_in_executor(
            None, _restart_after, servers.postgres_dir, POSTGRES_DOWN_SECONDS
        )
        try:
            readiness_of = await asyncio.gather(
                *(readiness(http, deployment.url(name)) for name in FOUR)
            )
            for name, (status, checks) in zip(FOUR, readiness_of, strict=True):
                assert status == 503 and checks["database"] != "ok", (name, checks)
            # A valid deal: what a replica refuses while its database is away is what it would
            # accept (an invalid one is a 422 either way, the source being kept in memory).
            body = json.dumps(
                {
                    "id": "D-refused",
                    "version": 1,
                    "stage": "open",
                    "amount": "1.00",
                    "currency": "CNY",
                    "owner_id": "rep-1",
                }
            )
            refused = await http.post(
                f"{tracking[0]}/webhooks/crm-{stream.suffix}/deals",
                content=body,
                headers=signed_headers(stream.secret, body),
            )
            assert refused.status_code == 503, refused.text
            assert refused.json()["type"].endswith("/service-unavailable")
            assert refused.headers["content-type"] == "application/problem+json"
            await send_deals(http, stream, tracking, 5)
        finally:
            await restarted

        await send_deals(http, stream, tracking, DEALS - len(stream.sent))
        await assert_every_deal_applied_once(http, deployment, stream)
        assert stream.unavailable_answers > 0, "no request met the restart"
        for name in FOUR:
            await settled(lambda n=name: http.get(f"{deployment.url(n)}/readyz"))


def _restart_after(postgres_dir: Path, seconds: float) -> None:
    time.sleep(seconds)
    restart_embedded_postgres(postgres_dir)


async def test_two_replicas_each_one_killed_half_way_apply_every_deal_once(
    servers: Servers, replicated: Deployment
) -> None:
    deployment = replicated
    async with httpx.AsyncClient(headers=ADMIN, timeout=15) as http:
        stream = await set_up(http, deployment)
        for group in REPLICATED:
            await _members_become(servers.kafka.bootstrap, group, 2)
        await send_deals(http, stream, deployment.urls("tracking-service"), DEALS // 2)

        for name in REPLICATED:
            deployment.kill(name, 1)
            with pytest.raises(httpx.ConnectError):
                await http.get(f"{deployment.url(name, 1)}/readyz")
            assert (await readiness(http, deployment.url(name, 0)))[0] == 200
        # The CRM still knows both addresses; the dead one refuses the connection.
        tracking = [deployment.url("tracking-service", 1), deployment.url("tracking-service")]
        await send_deals(http, stream, tracking, DEALS - len(stream.sent))
        await assert_every_deal_applied_once(http, deployment, stream)
        for group in REPLICATED:
            await _members_become(servers.kafka.bootstrap, group, 1)


async def _members_become(bootstrap: str, group: str, count: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            described = await admin.describe_consumer_groups([group])
            members = [m for response in described for g in response.groups for m in g[-1]]
            if len(members) == count:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{group} has {len(members)} members, not {count}")
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
