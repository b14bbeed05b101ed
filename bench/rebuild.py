"""rebuild: after the bulk load of bulk_ingest, `python -m tracking_service.cli.rebuild` recomputes
every goal's progress from the ledger and compares it with the live figures (BENCHMARKS.md).

    uv run python bench/rebuild.py --scale W/10
"""

import os
import subprocess
import sys
import time

from _stack import (
    bench_stack,
    bulk_load,
    note,
    parse_scale,
    print_figure,
    print_headline,
    print_workload,
    tracking_service,
)

from attain_devstack.workload import Workload

TARGET_SECONDS = 60.0
COMMAND = [sys.executable, "-m", "tracking_service.cli.rebuild"]


def main() -> None:
    workload = Workload(parse_scale(__doc__))
    print_workload(workload, f", {workload.size.deals:,} deals")
    with bench_stack() as stack, tracking_service(stack, workload) as tracking:
        load = bulk_load(tracking, workload)
        started = time.perf_counter()
        report = rebuild(stack.database_url)
        wall_seconds = time.perf_counter() - started
    seconds, differences = float(report["seconds"]), int(report["differences"])
    print_figure(
        "loaded",
        f"{load.records:,} deal records through the batch API, {load.ledger_entries:,} ledger "
        f"entries, in {load.seconds:.1f} s",
    )
    print_figure(
        "rebuild",
        f"{int(report['goals']):,} goals in {seconds:.1f} s ({wall_seconds:.1f} s with the "
        f"process start), {differences} differences",
    )
    print_headline(
        "rebuild",
        f"{seconds:.1f} s, {differences} differences",
        f"< {TARGET_SECONDS:.0f} s, 0 differences",
        seconds < TARGET_SECONDS and differences == 0,
    )


def rebuild(database_url: str) -> dict[str, str]:
    """Run the command against the database; its `name: value` lines."""
    environment = {**os.environ, "ATTAIN_DATABASE_URL": database_url}
    done = subprocess.run(COMMAND, env=environment, capture_output=True, text=True)
    lines = done.stdout.splitlines()
    report = dict(line.split(": ", 1) for line in lines if ": " in line and line[0] != " ")
    if not {"goals", "differences", "seconds"} <= set(report):
        raise SystemExit(
            f"{' '.join(COMMAND[1:])} reported no figures (exit {done.returncode}):\n"
            f"{(done.stderr or done.stdout)[-2000:]}"
        )
    for line in lines:
        if line.startswith(" "):
            note(f"difference: {line.strip()}")
    return report


if __name__ == "__main__":
    main()
