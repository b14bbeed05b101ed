"""`make run`: the infrastructure, every service's migrations, the five services
(the dashboard and the four APIs) as separate processes, and one Ctrl-C to stop it all.

ATTAIN_DATABASE_URL / ATTAIN_KAFKA_BOOTSTRAP point at servers to use instead of
the embedded ones; ATTAIN_DATA_DIR is where embedded data is kept (`.data`)."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from attain_devstack._process import dies_with_parent, stop_cleanly_on_sigterm
from attain_devstack.stack import Infrastructure, infrastructure
from servicekit.migrations import upgrade

READY_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    port: int
    # The dashboard owns no tables, and a worker replica shares its service's: nothing to migrate,
    # and no API of its own for the dashboard.
    migrated: bool = True
    # This process's own settings, beside the stack's.
    settings: tuple[tuple[str, str], ...] = ()
    # The service whose background work (relay, consumers, workers) this replica runs.
    worker_of: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = (
    Service("dashboard-service", "dashboard_service", 8000, migrated=False),
    Service("goal-service", "goal_service", 8001),
    # tracking-service's webhooks and its projector and relay each get a process (a core) of their
    # own, as deployed (deploy/README.md): a web replica, and a worker replica beside it.
    Service(
        "tracking-service",
        "tracking_service",
        8002,
        settings=(("ATTAIN_TRACKING_BACKGROUND_WORK", "false"),),
    ),
    Service(
        "tracking-worker", "tracking_service", 8005, migrated=False, worker_of="tracking-service"
    ),
    Service("alert-service", "alert_service", 8003),
    Service("incentive-service", "incentive_service", 8004),
)


def main() -> None:
    started = time.monotonic()
    # Ctrl-C must stop everything even when a parent started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stop_cleanly_on_sigterm()
    data_dir = Path(os.environ.get("ATTAIN_DATA_DIR", ".data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    say(
        "starting PostgreSQL, the broker, the migrations and the five services "
        f"(tracking-service as a web and a worker process); data in {data_dir}"
    )
    try:
        with infrastructure(data_dir, say) as servers:
            step = time.monotonic()
            for service in SERVICES:
                if service.migrated:
                    upgrade(service.package, servers.database_url)
            say(f"the migrations are applied ({time.monotonic() - step:.1f} s)")
            environment = {
                **os.environ,
                **servers.service_environment(),
                **upstream_environment(SERVICES),
            }
            processes: list[subprocess.Popen[bytes]] = []
            try:
                processes = [start(service, environment, data_dir) for service in SERVICES]
                wait_until_ready(SERVICES, processes)
                _announce(time.monotonic() - started, data_dir, servers)
                _watch(processes)
            finally:
                # The services stop before the servers they use.
                stop(processes)
    except KeyboardInterrupt:
        print("\nStopped.", flush=True)


def upstream_environment(services: Sequence[Service]) -> dict[str, str]:
    """Where the dashboard finds the four APIs (ATTAIN_DASHBOARD_GOAL_URL, ...), and
    where goal-service finds tracking-service (history weights, re-plans) and
    alert-service does (replays of a past instant), so a stack on other ports than
    the defaults answers as one on 8001-8004 does."""
    urls = {service.name: service.url for service in services}
    return {
        **{
            f"ATTAIN_DASHBOARD_{service.name.removesuffix('-service').upper()}_URL": service.url
            for service in services
            if service.migrated
        },
        "ATTAIN_GOAL_TRACKING_URL": urls["tracking-service"],
        "ATTAIN_ALERT_TRACKING_URL": urls["tracking-service"],
    }


def start(service: Service, environment: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    """The service as a uvicorn process of its own, logging to `log_dir`."""
    log = (log_dir / f"{service.name}.log").open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"{service.package}.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(service.port),
            "--no-access-log",
        ],
        env={**environment, **dict(service.settings)},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=dies_with_parent(),
    )


def say(line: str) -> None:
    print(f"  {line}", flush=True)


def wait_until_ready(services: Sequence[Service], processes: list[subprocess.Popen[bytes]]) -> None:
    """Each service as it answers /readyz, with the seconds since they were started."""
    started = time.monotonic()
    deadline = started + READY_TIMEOUT_SECONDS
    pending = dict(zip(services, processes, strict=True))
    while pending:
        for service, process in list(pending.items()):
            if process.poll() is not None:
                raise SystemExit(f"{service.name} exited during start; see {service.name}.log")
            try:
                if httpx.get(f"{service.url}/readyz", timeout=2).status_code == 200:
                    del pending[service]
                    say(f"{service.name} is ready ({time.monotonic() - started:.1f} s)")
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            names = ", ".join(s.name for s in pending)
            raise SystemExit(f"not ready after {READY_TIMEOUT_SECONDS:.0f}s: {names}")
        time.sleep(0.2)


def _announce(seconds: float, data_dir: Path, servers: Infrastructure) -> None:
    print(f"\nAttain is running (all ready in {seconds:.1f}s). Ctrl-C stops everything.\n")
    dashboard, *apis = SERVICES
    print(f"  open the dashboard {dashboard.url}   (development sign-in: choose a person)\n")
    for service in apis:
        if service.worker_of is None:
            print(f"  {service.name:<18} {service.url}   docs {service.url}/docs")
        else:
            what = f"{service.worker_of}'s projector, relay and consumers"
            print(f"  {service.name:<18} {service.url}   {what}")
    print(f"\n  broker             {servers.broker_description()}")
    print(f"  logs and data      {data_dir}")
    print("  a token            make token ROLE=admin PERSON=p-admin\n", flush=True)


def _watch(processes: list[subprocess.Popen[bytes]]) -> None:
    while True:
        for service, process in zip(SERVICES, processes, strict=True):
            if process.poll() is not None:
                raise SystemExit(f"{service.name} stopped unexpectedly; see its log")
        time.sleep(0.5)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
