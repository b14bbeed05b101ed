"""No PostgreSQL or broker process (Tansu or Apache Kafka) outlives the process that started it."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration

EMBEDDED_ONLY = {
    name: value
    for name, value in os.environ.items()
    if name not in ("ATTAIN_DATABASE_URL", "ATTAIN_KAFKA_BOOTSTRAP")
}


@pytest.mark.parametrize(
    "stop",
    ["leave", pytest.param(signal.SIGTERM, id="sigterm"), pytest.param(signal.SIGINT, id="sigint")],
)
def test_servers_stop_with_their_owner(tmp_path: Path, stop: str | signal.Signals) -> None:
    owner = start_owner(tmp_path)
    servers = servers_of(owner, tmp_path)

    if isinstance(stop, signal.Signals):
        owner.send_signal(stop)
    else:
        owner.communicate()
    owner.wait(timeout=30)

    assert still_running(servers) == []


def test_servers_of_a_killed_owner_stop_with_the_next_one(tmp_path: Path) -> None:
    killed = start_owner(tmp_path)
    servers = servers_of(killed, tmp_path)
    killed.kill()
    killed.wait()

    successor = start_owner(tmp_path)
    servers += servers_of(successor, tmp_path)
    successor.communicate(timeout=30)

    assert still_running(servers) == []


def test_a_test_session_leaves_no_server_and_no_files(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import json, os, psutil

            def test_records_its_servers(database_url, kafka_bootstrap, fresh_database):
                fresh_database()
                me = psutil.Process()
                broker = [c.pid for c in me.children() if "tansu" in c.name() or c.name() == "java"]
                postmaster = [
                    p.pid for p in psutil.process_iter(["name", "cmdline"])
                    if p.info["name"] == "postgres"
                    and any(os.environ["TMPDIR"] in arg for arg in p.info["cmdline"] or [])
                ]
                with open("servers.json", "w") as out:
                    json.dump(broker + postmaster, out)
            """
        )
    )
    # A short TMPDIR of its own, to find what the session leaves in it: the socket path of
    # PostgreSQL, which lives in the temporary directory, must fit in 107 bytes.
    temporary = Path(tempfile.mkdtemp(prefix="ads-"))
    try:
        inner = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "attain_devstack.pytest_plugin"],
            cwd=tmp_path,
            env=EMBEDDED_ONLY | {"TMPDIR": str(temporary)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert inner.returncode == 0, inner.stdout + inner.stderr
        left_behind = list(temporary.glob("attain-*"))
    finally:
        shutil.rmtree(temporary)

    pids = json.loads((tmp_path / "servers.json").read_text())
    assert len(pids) == 2
    assert still_running([psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)]) == []
    assert left_behind == []


def test_a_session_that_needs_no_server_starts_none(tmp_path: Path) -> None:
    (tmp_path / "test_unit.py").write_text(
        textwrap.dedent(
            """
            import sys, psutil

            def test_pure():
                assert psutil.Process().children() == []
                assert "attain_devstack.stack" not in sys.modules
            """
        )
    )
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "attain_devstack.pytest_plugin"],
        cwd=tmp_path,
        env=EMBEDDED_ONLY,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert inner.returncode == 0, inner.stdout + inner.stderr


def start_owner(data_dir: Path) -> subprocess.Popen[str]:
    owner = subprocess.Popen(
        [sys.executable, Path(__file__).with_name("owner.py"), data_dir],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=EMBEDDED_ONLY,
        text=True,
    )
    assert owner.stdout is not None
    assert owner.stdout.readline(), "the owner did not start its servers"
    return owner


def servers_of(owner: subprocess.Popen[str], data_dir: Path) -> list[psutil.Process]:
    """The owner's broker, and the PostgreSQL server of `data_dir` with its workers."""
    broker = psutil.Process(owner.pid).children()
    postmaster_pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    postmaster = psutil.Process(postmaster_pid)
    servers = [*broker, postmaster, *postmaster.children()]
    assert {server.name() for server in servers} >= {"postgres", broker[0].name()}
    return servers


def still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of `processes` that have not exited within 10 s. A zombie has exited: it waits only
    for init to reap it, which on some machines takes a second."""
    deadline = time.monotonic() + 10
    alive = processes
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [process for process in alive if has_not_exited(process)]
    return alive


def has_not_exited(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
