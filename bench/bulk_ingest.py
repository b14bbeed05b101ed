"""bulk_ingest: every deal delivery of the workload through the batch API, 10,000 a request,
until every affected goal's progress is current; against a raw COPY of the same rows into one
plain table of the same database, in the same run (BENCHMARKS.md).

    uv run python bench/bulk_ingest.py --scale W/10
"""

import asyncio
import time
from datetime import date
from decimal import Decimal

import asyncpg
import httpx
from _stack import (
    BATCH_SIZE,
    Tracking,
    bench_stack,
    bulk_load,
    headers_for,
    parse_scale,
    print_figure,
    print_headline,
    print_workload,
    tracking_service,
)
from sqlalchemy.engine import make_url

from attain_devstack.workload import Workload, goal_id
from servicekit.auth import Role

TARGET_PER_SECOND = 20_000
COLUMNS = (
    "id",
    "version",
    "stage",
    "amount",
    "currency",
    "owner_id",
    "closed_on",
    "created_on",
    "product_line",
    "customer_id",
)
COPY_TABLE = """CREATE TABLE bench_copy (
    id text, version bigint, stage text, amount numeric(20, 4), currency text, owner_id text,
    closed_on date, created_on date, product_line text, customer_id text
)"""


def main() -> None:
    workload = Workload(parse_scale(__doc__))
    print_workload(workload, f", {workload.size.deals:,} deals")
    with bench_stack() as stack, tracking_service(stack, workload) as tracking:
        copy_seconds = asyncio.run(copy_baseline(stack.database_url, workload))
        load = bulk_load(tracking, workload)
        wrong = wrong_actuals(tracking, workload)
    per_second = load.records / load.seconds
    copy_per_second = load.records / copy_seconds
    answers = ", ".join(f"{name} {count:,}" for name, count in load.answers.items())
    print_figure(
        "batch API",
        f"{load.records:,} deal records answered in {load.posted_seconds:.1f} s ({answers}), "
        f"progress current after {load.seconds:.1f} s: {per_second:,.0f} deals/s end to end",
    )
    print_figure(
        "baseline raw COPY",
        f"{load.records:,} rows in {copy_seconds:.1f} s: {copy_per_second:,.0f} rows/s",
    )
    print_figure("ratio", f"{per_second / copy_per_second:.3f} of COPY")
    print_figure("check", "; ".join(wrong) or "sampled goals' actuals equal the workload's")
    print_headline(
        "bulk_ingest",
        f"{per_second:,.0f} deals/s" + (" (wrong actuals)" if wrong else ""),
        f">= {TARGET_PER_SECOND:,} deals/s",
        per_second >= TARGET_PER_SECOND and not wrong and load.answers["rejected"] == 0,
    )


async def copy_baseline(database_url: str, workload: Workload) -> float:
    """Seconds that COPY takes to write the same rows, 10,000 a call, into a plain table."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    seconds = 0.0
    try:
        await connection.execute(COPY_TABLE)
        for batch in workload.delivery_batches(BATCH_SIZE):
            rows = [
                (
                    *(d["id"], d["version"], d["stage"], Decimal(d["amount"]), d["currency"]),
                    *(d["owner_id"], date.fromisoformat(d["closed_on"])),
                    *(date.fromisoformat(d["created_on"]), d["product_line"], d["customer_id"]),
                )
                for d in batch
            ]
            started = time.perf_counter()
            await connection.copy_records_to_table("bench_copy", records=rows, columns=COLUMNS)
            seconds += time.perf_counter() - started
    finally:
        await connection.execute("DROP TABLE IF EXISTS bench_copy")
        await connection.close()
    return seconds


def wrong_actuals(tracking: Tracking, workload: Workload) -> list[str]:
    """Sampled goals (the company's, a region's, a team's, a rep's) whose actual after the year
    differs from what the workload's final deal states add up to."""
    rep = workload.reps[0]
    _, region, team = rep.team.path
    year = workload.year
    sample = [
        goal_id("company", "revenue", f"FY{year}"),
        goal_id("company", "deals_won", f"FY{year}"),
        goal_id(region, "revenue", f"FY{year}-Q2"),
        goal_id(team, "deals_won", f"{year}-06"),
        goal_id(rep.id, "revenue", f"FY{year}"),
        goal_id(rep.id, "deals_won", f"{year}-W20"),
    ]
    expected = workload.expected_actuals(sample)
    wrong = []
    with httpx.Client(base_url=tracking.url, headers=headers_for(Role.ADMIN)) as client:
        for goal in sample:
            response = client.get(
                f"/goals/{goal}/progress", params={"as_of": f"{year + 1}-02-01T00:00:00Z"}
            )
            response.raise_for_status()
            if Decimal(response.json()["actual"]) != expected[goal]:
                wrong.append(
                    f"{goal} actual {response.json()['actual']}, expected {expected[goal]}"
                )
    return wrong


if __name__ == "__main__":
    main()
