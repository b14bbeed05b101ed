"""What the benchmarks share: the `--scale` argument, tracking-service running as a process of its
own and loaded with the workload's org tree, people and goals, a load generator, and the output
format of BENCHMARKS.md.

The servers are those `ATTAIN_DATABASE_URL` / `ATTAIN_KAFKA_BOOTSTRAP` name, or embedded ones. Every
process and database started here is stopped or dropped on leaving, on Ctrl-C and SIGTERM too.
A benchmark that ran exits 0 whether its target was met or missed; one that could not run exits 1.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import RecordMetadata
from sqlalchemy.engine import make_url

from attain_contracts import Event, topics
from attain_devstack._process import dies_with_parent
from attain_devstack.postgres import temporary_database
from attain_devstack.run import stop
from attain_devstack.stack import Infrastructure, infrastructure
from attain_devstack.testing import envelope
from attain_devstack.workload import SCALES, Workload
from servicekit.auth import Role, mint_token
from servicekit.kafka import event_headers, partitions_of
from servicekit.migrations import upgrade

BENCH_DIR = Path(__file__).resolve().parent
JWT_SECRET = "attain-bench-secret-of-at-least-32-bytes"
SOURCE_ID = "bench"
TRACKING_GROUP = "tracking-service"  # the consumer group in tracking_service.main
READY_TIMEOUT_SECONDS = 90.0
STALLED_AFTER_SECONDS = 180.0  # a wait for the service fails when nothing moved for this long


def parse_scale(description: str | None) -> str:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", choices=list(SCALES), default="W/10")
    scale: str = parser.parse_args().scale
    return scale


# --- processes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    servers: Infrastructure
    database_url: str
    work_dir: Path


@contextmanager
def bench_stack() -> Iterator[Stack]:
    """The servers and a new database, both gone on leaving."""
    # Ctrl-C must stop everything even when a parent started us with SIGINT ignored, and SIGTERM
    # must run the same cleanup rather than end the process on the spot.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with ExitStack() as stack:
            work_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="attain-bench-"))
            )
            servers = stack.enter_context(infrastructure(work_dir))
            database_url = stack.enter_context(temporary_database(servers.database_url))
            yield Stack(servers, database_url, work_dir)
    except KeyboardInterrupt:
        raise SystemExit("stopped; every process and database this run started is gone") from None


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # As Ctrl-C, which asyncio.run turns into cancelling its task rather than raising anywhere.
    signal.raise_signal(signal.SIGINT)


def environment_for(stack: Stack, **extra: str) -> dict[str, str]:
    """What a service process of this stack runs with: its servers, database and signing secret."""
    return {
        **os.environ,
        **stack.servers.service_environment(),
        "ATTAIN_DATABASE_URL": stack.database_url,
        "ATTAIN_JWT_SECRET": JWT_SECRET,
        **extra,
    }


@contextmanager
def serving(app_factory: str, environment: dict[str, str], log: Path) -> Iterator[str]:
    """`app_factory` (`module:function`) run by uvicorn as `make run` runs a service, on a free
    port; yields its base URL once /readyz answers, and stops it on leaving."""
    port = _free_port()
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", app_factory, "--factory"),
                *("--app-dir", str(BENCH_DIR), "--host", "127.0.0.1", "--port", str(port)),
                "--no-access-log",
            ],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=dies_with_parent(),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(url, process, log)
        yield url
    except Exception:
        print(f"--- last lines of {log.name}:\n{_tail(log)}", file=sys.stderr)
        raise
    finally:
        stop([process])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{log.stem} exited during start:\n{_tail(log)}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{log.stem} not ready after {READY_TIMEOUT_SECONDS:.0f}s")


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --- tracking-service ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tracking:
    url: str
    source_secret: str  # what the source's webhooks are signed with
    # Where the org tree's, people's and goals' events end per partition: what another service
    # consuming them (alert-service) waits for.
    directory: dict[TopicPartition, int] = field(default_factory=dict)


def headers_for(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(JWT_SECRET, subject='bench', roles=[role])}"}


@contextmanager
def tracking_service(stack: Stack, workload: Workload) -> Iterator[Tracking]:
    """tracking-service migrated and running, with a source to post to, and the workload's org
    tree, people and goals consumed."""
    with tracking_processes(stack) as url:
        response = httpx.put(
            f"{url}/sources/{SOURCE_ID}",
            json={"name": "Bench CRM"},
            headers=headers_for(Role.ADMIN),
        )
        response.raise_for_status()
        started = time.monotonic()
        directory = asyncio.run(_load_directory(stack.servers.kafka_bootstrap, workload))
        note(
            f"loaded {len(workload.units)} org units, {len(workload.reps)} reps and "
            f"{workload.goal_count():,} goals in {time.monotonic() - started:.1f} s"
        )
        yield Tracking(url, response.json()["secret"], directory)


@contextmanager
def tracking_processes(stack: Stack) -> Iterator[str]:
    """tracking-service migrated and running as `make run` runs it: a web process, and a worker
    process that projects progress, publishes and consumes. Yields the web process's URL."""
    upgrade("tracking_service", stack.database_url)
    app = "tracking_service.main:create_app"
    web = environment_for(stack, ATTAIN_TRACKING_BACKGROUND_WORK="false")
    with (
        serving(app, environment_for(stack), stack.work_dir / "tracking-worker.log"),
        serving(app, web, stack.work_dir / "tracking-service.log") as url,
    ):
        yield url


async def _load_directory(bootstrap: str, workload: Workload) -> dict[TopicPartition, int]:
    # Org units and people first: a deal is credited along the org path in force when it arrives.
    directory = await publish_all(bootstrap, [*workload.org_units(), *workload.people()])
    await wait_until_consumed(bootstrap, TRACKING_GROUP, directory)
    goals = await publish_all(bootstrap, workload.goals())
    await wait_until_consumed(bootstrap, TRACKING_GROUP, goals)
    return {**directory, **goals}  # different topics: no partition in both


async def publish_all(bootstrap: str, events: Iterable[Event]) -> dict[TopicPartition, int]:
    """Send the events as goal-service's relay does (key, headers, acks from all replicas), many
    in flight at once; return the offset after the last one sent to each partition."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    ends: dict[TopicPartition, int] = {}

    async def note_ends(in_flight: list[asyncio.Future[RecordMetadata]]) -> None:
        for sent in await asyncio.gather(*in_flight):
            partition = TopicPartition(sent.topic, sent.partition)
            ends[partition] = max(ends.get(partition, 0), sent.offset + 1)
        in_flight.clear()

    try:
        in_flight = []
        for event in events:
            item = envelope(event)
            headers = event_headers(str(item.id), item.type, None)
            in_flight.append(
                await producer.send(
                    event.topic, item.to_bytes(), key=event.key().encode(), headers=headers
                )
            )
            if len(in_flight) >= 10_000:
                await note_ends(in_flight)
        await note_ends(in_flight)
    finally:
        await producer.stop()
    return ends


async def wait_until_consumed(bootstrap: str, group: str, ends: dict[TopicPartition, int]) -> None:
    """Until `group` has committed every partition up to `ends`: its consumers commit only what
    their database transaction committed."""
    # Where we sent is known from the acks; Tansu answers a ListOffsets for the latest offset
    # wrongly when a partition holds batches of several records.
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        left, moved_at = -1, time.monotonic()
        while left:
            committed = await admin.list_consumer_group_offsets(group, partitions=list(ends))
            now_left = sum(
                end - max(committed[tp].offset if tp in committed else 0, 0)
                for tp, end in ends.items()
            )
            if now_left != left:
                left, moved_at = now_left, time.monotonic()
            elif time.monotonic() - moved_at > STALLED_AFTER_SECONDS:
                raise SystemExit(f"{group} stopped consuming ({left:,} events left)")
            await asyncio.sleep(0.5)
    finally:
        await admin.close()


# --- alert-service -------------------------------------------------------------------------

ALERT_GROUP = "alert-service"  # the consumer group in alert_service.main
ALERT_LOG = "alert.log"  # in the stack's work directory
# The scheduled sweep runs as the service starts and then every interval: a day apart, only what a
# benchmark sends or asks for evaluates goals while it runs.
SWEEP_HELD_OFF_SECONDS = 24 * 3600


@contextmanager
def alert_service(stack: Stack) -> Iterator[str]:
    """alert-service migrated and running as a process of its own, its scheduled sweep held off;
    yields its URL. It consumes the goal and progress topics from their start."""
    upgrade("alert_service", stack.database_url)
    environment = environment_for(
        stack, ATTAIN_ALERT_SWEEP_INTERVAL_SECONDS=str(SWEEP_HELD_OFF_SECONDS)
    )
    with serving("alert_service.main:create_app", environment, stack.work_dir / ALERT_LOG) as url:
        yield url


# --- incentive-service ---------------------------------------------------------------------

INCENTIVE_GROUP = "incentive-service"  # the consumer group in incentive_service.main
INCENTIVE_LOG = "incentive.log"  # in the stack's work directory


@contextmanager
def incentive_service(stack: Stack) -> Iterator[str]:
    """incentive-service migrated and running as a process of its own; yields its URL. It consumes
    the org, goal, progress and actuals topics from their start."""
    upgrade("incentive_service", stack.database_url)
    environment = environment_for(stack)
    log = stack.work_dir / INCENTIVE_LOG
    with serving("incentive_service.main:create_app", environment, log) as url:
        yield url


def asyncpg_dsn(database_url: str) -> str:
    """The services' SQLAlchemy URL as asyncpg takes it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


# Due now: neither leased to a sender in flight nor waiting for a retry.
DELIVERIES_DUE = """
SELECT count(*) FROM alert.delivery WHERE status = 'pending' AND next_attempt_at <= now()
"""


async def until_notifications_sent(database_url: str) -> None:
    """Until alert-service's delivery worker has no notification due: what it was sending
    before does not compete with what is measured next."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await until_none(connection, DELIVERIES_DUE, "alert-service", "notifications due")
    finally:
        await connection.close()


async def until_none(
    connection: asyncpg.Connection, query: str, who: str, what: str, poll_seconds: float = 0.5
) -> None:
    """Until `query` counts nothing; fails when the count stops moving."""
    left, moved_at = -1, time.monotonic()
    while now_left := int(await connection.fetchval(query)):
        if now_left != left:
            left, moved_at = now_left, time.monotonic()
        elif time.monotonic() - moved_at > STALLED_AFTER_SECONDS:
            raise SystemExit(f"{who} stopped ({left:,} {what})")
        await asyncio.sleep(poll_seconds)


async def ends_since(
    bootstrap: str, published: dict[str, int], since: float
) -> dict[TopicPartition, int]:
    """Where each topic ends once it holds `published[topic]` records produced after `since`
    (time.time()): read, as Tansu answers a ListOffsets for the latest offset wrongly."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, list(published))
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = {}
        read = dict.fromkeys(published, 0)
        moved_at = time.monotonic()
        while any(read[topic] < count for topic, count in published.items()):
            if time.monotonic() - moved_at > STALLED_AFTER_SECONDS:
                raise SystemExit(f"read {read} of the {published} records published")
            for partition, records in (await consumer.getmany(timeout_ms=500)).items():
                # A broker named by ATTAIN_KAFKA_BOOTSTRAP may hold earlier runs' records.
                ours = [record for record in records if record.timestamp >= since * 1000]
                if ours:
                    read[partition.topic] += len(ours)
                    ends[partition] = ours[-1].offset + 1
                    moved_at = time.monotonic()
        return ends
    finally:
        await consumer.stop()


async def progress_from_now(bootstrap: str) -> AIOKafkaConsumer:
    """A consumer of every partition of the progress topic, from its current end on (no group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions = await partitions_of(consumer, [topics.PROGRESS])
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    return consumer


# --- the batch API ---------------------------------------------------------------------------

BATCH_SIZE = 10_000  # the batch API's limit per request
ANSWER_COUNTS = ("accepted", "duplicate", "stale", "parked", "rejected")


@dataclass
class BulkLoad:
    records: int
    posted_seconds: float  # until the last batch was answered
    seconds: float  # until every ledger row was folded into live progress
    answers: Counter[str]
    ledger_entries: int


def bulk_load(tracking: Tracking, workload: Workload) -> BulkLoad:
    """Every delivery of the workload through `POST /sources/{id}/batch`, in order, 10,000 a
    request, then wait until `GET /admin/projection` shows nothing left to project."""
    # Serialised beforehand, so that generating the workload is not part of the time.
    bodies, records = [], 0
    for batch in workload.delivery_batches(BATCH_SIZE):
        bodies.append(json_bytes({"deals": batch}))
        records += len(batch)
    note(f"posting {records:,} deal records in {len(bodies)} batches")
    answers: Counter[str] = Counter()
    integration = {**headers_for(Role.INTEGRATION), "content-type": "application/json"}
    with httpx.Client(base_url=tracking.url, timeout=600) as client:
        started = time.perf_counter()
        for body in bodies:
            response = client.post(f"/sources/{SOURCE_ID}/batch", content=body, headers=integration)
            answer = _expect_ok(response, "the batch API (POST /sources/{source_id}/batch)")
            answers.update({name: answer[name] for name in ANSWER_COUNTS})
        posted = time.perf_counter() - started
        ledger_entries = _until_projected(client)
        return BulkLoad(records, posted, time.perf_counter() - started, answers, ledger_entries)


def _until_projected(client: httpx.Client) -> int:
    """Poll the projection's state until nothing is left; return the ledger's size."""
    left, moved_at = -1, time.monotonic()
    while True:
        response = client.get("/admin/projection", headers=headers_for(Role.ADMIN))
        state = _expect_ok(response, "the admin endpoint (GET /admin/projection)")
        if state["unprojected"] == 0:
            return int(state["ledger_entries"])
        if state["unprojected"] != left:
            left, moved_at = state["unprojected"], time.monotonic()
        elif time.monotonic() - moved_at > STALLED_AFTER_SECONDS:
            raise SystemExit(f"the projection stopped moving ({left:,} ledger rows unprojected)")
        time.sleep(0.1)


def _expect_ok(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code in (404, 405):
        raise SystemExit(
            f"{what} answered {response.status_code}: tracking-service does not offer it "
            f"(yet?): {response.text[:300]}"
        )
    if response.status_code != 200:
        raise SystemExit(f"{what} answered {response.status_code}: {response.text[:1000]}")
    answer: dict[str, Any] = response.json()
    return answer


# --- load ----------------------------------------------------------------------------------


@dataclass
class Load:
    """What a load generator saw: the latency of each answer in the 2xx range, the others."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, p: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1000

    def summary(self) -> str:
        errors = sum(self.errors.values())
        detail = (
            f" ({', '.join(f'{k}: {n}' for k, n in self.errors.most_common())})" if errors else ""
        )
        return (
            f"{self.per_second:,.0f} requests/s, latency p50 {self.percentile_ms(50):.1f} ms, "
            f"p95 {self.percentile_ms(95):.1f} ms, p99 {self.percentile_ms(99):.1f} ms, "
            f"errors {errors}{detail}"
        )


Request = tuple[bytes, dict[str, str]]  # body and headers


async def post_load(
    url: str,
    path: str,
    request: Callable[[int], Request],
    *,
    seconds: float,
    connections: int,
    rate: float | None = None,
    answered: Callable[[int, int, bytes, float], None] | None = None,
) -> Load:
    """POST `request(n)` for n = 0, 1, ... over `connections` keep-alive connections for
    `seconds`: as fast as answers come, or the n-th at `n / rate` seconds from the start.
    `answered(n, status, body, time.time())` is called with every answer."""
    # A bare HTTP/1.1 client rather than httpx: on a 2-core machine the load generator shares the
    # CPU with the server, and httpx spends more of it per request than a bare endpoint does.
    load = Load()
    numbers = iter(range(sys.maxsize))
    started = time.perf_counter()
    deadline = started + seconds
    host, port = url.removeprefix("http://").split(":")

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for n in numbers:
                if rate is not None:
                    await asyncio.sleep(started + n / rate - time.perf_counter())
                if time.perf_counter() >= deadline:
                    return
                body, headers = request(n)
                sent = time.perf_counter()
                try:
                    status, answer = await _post(reader, writer, path, body, headers)
                except (OSError, asyncio.IncompleteReadError) as error:
                    load.errors[type(error).__name__] += 1
                    return
                if 200 <= status < 300:
                    load.latencies.append(time.perf_counter() - sent)
                else:
                    load.errors[f"HTTP {status}"] += 1
                if answered:
                    answered(n, status, answer, time.time())
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    load.seconds = time.perf_counter() - started
    return load


async def _post(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    path: str,
    body: bytes,
    headers: dict[str, str],
) -> tuple[int, bytes]:
    head = f"POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(head.encode() + b"\r\n" + body)
    status = int((await reader.readuntil(b"\r\n")).split()[1])
    length = 0
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def deal_bodies(workload: Workload, prefix: str) -> Iterator[dict[str, object]]:
    """The workload's new deals, endlessly, each under a new id (`<prefix>-<n>`)."""
    n = 0
    while True:
        for deal in workload.deliveries():
            if deal["version"] == 1:
                n += 1
                yield {**deal, "id": f"{prefix}-{n:08d}"}


def json_bytes(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# --- output --------------------------------------------------------------------------------


def print_workload(workload: Workload, detail: str = "") -> None:
    size = workload.size
    print(
        f"workload: {workload.scale} (seed {workload.seed}, {workload.year}): 1 company, "
        f"{_count(size.regions, 'region')}, {_count(size.teams, 'team')}, "
        f"{_count(size.reps, 'rep')}, {workload.goal_count():,} goals{detail}",
        flush=True,
    )


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def print_figure(name: str, value: str) -> None:
    print(f"{name}: {value}", flush=True)


def print_headline(name: str, figure: str, target: str, met: bool) -> None:
    print(f"{name}: {figure} target {target} {'MET' if met else 'MISSED'}", flush=True)


def note(message: str) -> None:
    """Progress, on standard error so that standard output holds only the figures."""
    print(f"  ({message})", file=sys.stderr, flush=True)
