"""`make run` as a newcomer sees it: it says what it is doing while it starts (PostgreSQL, the
broker, the migrations, each service as it becomes ready, each with its time), then where to
open the dashboard; the README's walk-through, pasted into bash as written on a machine where
`uv` is not on PATH, takes one deal through every service; Ctrl-C stops it all."""

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
ROOT = Path(__file__).resolve().parents[2]
KEPT = ROOT / ".artifacts" / "make-run" / "walk-through.txt"


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
        walked = _paste_the_walk_through(tmp_path)
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
    # Kept for a reader of the run (git-ignored), as a newcomer would have seen it.
    KEPT.parent.mkdir(parents=True, exist_ok=True)
    KEPT.write_text("\n".join(lines) + "\n\n$ (the README's walk-through)\n" + walked.stdout)
    assert walked.returncode == 0, walked.stdout
    # The deal's answer, its progress (12,000.00 of 100,000.00) and Ann's statement.
    assert '"duplicate":false' in walked.stdout, walked.stdout
    assert '"actual":"12000' in walked.stdout, walked.stdout
    assert '"person_id":"ann"' in walked.stdout, walked.stdout


def _paste_the_walk_through(work_dir: Path) -> subprocess.CompletedProcess[str]:
    """The README's "Walk through one deal" block, run by bash in the checkout with every
    directory holding a `uv` taken off PATH."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Walk through one deal", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    path = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "uv").exists()
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ATTAIN_", "UV_"))}
    environment.update(PATH=path, VIRTUAL_ENV="")
    script = work_dir / "walk-through.sh"
    script.write_text("set -euo pipefail\n" + block)
    written = ROOT / "deal.json"  # the walk-through writes it where it runs
    existed = written.exists()
    try:
        return subprocess.run(
            ["bash", str(script)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
    finally:
        if not existed:
            written.unlink(missing_ok=True)
