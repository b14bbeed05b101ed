"""`make run` as a newcomer sees it: it says what it is doing while it starts (PostgreSQL, the
broker, the migrations, each service as it becomes ready, each with its time), then where to
open the dashboard; Ctrl-C stops it all."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attain_devstack.run import SERVICES

pytestmark = pytest.mark.e2e

START_SECONDS = 180


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_make_run_says_each_step_with_its_time_until_it_is_running(tmp_path: Path) -> None:
    if taken := [s.port for s in SERVICES if _port_taken(s.port)]:
        pytest.skip(f"ports {taken} are in use (a `make run` of yours?)")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ATTAIN_")}
    environment.update(ATTAIN_DATA_DIR=str(tmp_path), ATTAIN_BROKER="tansu", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "attain_devstack.run"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + START_SECONDS
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Attain is running"):
                break
        shown = "\n".join(lines)
        assert any(line.startswith("Attain is running") for line in lines), shown
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    timed = re.compile(r"\((\d+\.\d) s\)$")
    steps = [line.strip() for line in lines if timed.search(line)]
    expected = [
        "PostgreSQL is ready",
        "the broker is ready at",
        "the topics exist",
        "the migrations are applied",
        *(f"{service.name} is ready" for service in SERVICES),
    ]
    at = {}
    for start in expected:
        found = [i for i, step in enumerate(steps) if step.startswith(start)]
        assert found, (start, shown)
        at[start] = found[0]
    infrastructure = [at[start] for start in expected[:4]]
    assert infrastructure == sorted(infrastructure), shown
    assert all(at[start] > infrastructure[-1] for start in expected[4:]), shown
    assert "Stopped." in rest
    assert process.returncode is not None
