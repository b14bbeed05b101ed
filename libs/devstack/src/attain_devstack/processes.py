"""The five services as separate processes, on free ports, against one new
database and a given broker: what end-to-end and browser tests run against."""

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from attain_devstack._process import run_blocking
from attain_devstack.groups import start_groups_at_the_end
from attain_devstack.postgres import temporary_database
from attain_devstack.run import (
    SERVICES,
    start,
    stop,
    upstream_environment,
    wait_until_ready,
)
from attain_devstack.stack import Infrastructure
from servicekit.migrations import upgrade


@dataclass(frozen=True)
class Stack:
    urls: dict[str, str]
    kafka_bootstrap: str
    log_dir: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_stack(
    infrastructure: Infrastructure,
    service_environment: Mapping[str, str],
    keep_logs_in: Path | None = None,
) -> Iterator[Stack]:
    """Every service started and ready, stopped on leaving; `service_environment`
    adds settings of the caller's own (an SMTP server, a shorter delay). The services' logs
    are copied into `keep_logs_in`, when given, once they have stopped."""
    services = [replace(s, port=_free_port()) for s in SERVICES]
    with (
        temporary_database(infrastructure.database_url) as database_url,
        tempfile.TemporaryDirectory(prefix="attain-e2e-") as log_dir,
    ):
        for service in services:
            if service.migrated:
                upgrade(service.package, database_url)
        environment = {
            **os.environ,
            **infrastructure.service_environment(),
            "ATTAIN_DATABASE_URL": database_url,
            "ATTAIN_OUTBOX_POLL_SECONDS": "0.2",
            **upstream_environment(services),
            **service_environment,
        }
        # The groups an earlier stack on this broker left: this one reads only its own events.
        # Tansu refuses a commit from outside a group that has had members (UnknownMemberId), so
        # there stacks still start where the previous one stopped.
        if infrastructure.embedded_broker != "tansu":
            run_blocking(start_groups_at_the_end(infrastructure.kafka_bootstrap))
        processes = []
        try:
            processes = [start(s, environment, Path(log_dir)) for s in services]
            wait_until_ready(services, processes)
            yield Stack(
                urls={s.name: s.url for s in services},
                kafka_bootstrap=infrastructure.kafka_bootstrap,
                log_dir=Path(log_dir),
            )
        finally:
            stop(processes)
            if keep_logs_in is not None:
                shutil.rmtree(keep_logs_in, ignore_errors=True)
                shutil.copytree(log_dir, keep_logs_in)
