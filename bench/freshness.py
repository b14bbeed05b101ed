"""freshness: at a steady 200 signed single-deal webhooks a second, the time from a deal's accepted
answer to the moment every goal it affects has published a `GoalProgressUpdated` whose actual
shows it (BENCHMARKS.md). The scale decides the org and goals loaded; the deals, closing today,
are the same at every scale.

    uv run python bench/freshness.py --scale W/10
"""

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from _stack import (
    SOURCE_ID,
    Tracking,
    bench_stack,
    deal_bodies,
    json_bytes,
    parse_scale,
    post_load,
    print_figure,
    print_headline,
    print_workload,
    progress_from_now,
    tracking_service,
)
from aiokafka import AIOKafkaConsumer

from attain_devstack.workload import Deal, Workload
from tracking_service.cli.sign import signed_headers

RATE, SECONDS, CONNECTIONS = 200, 30.0, 16
DRAIN_SECONDS = 30.0  # after the last deal, how long the updates still due may take
RATE_SHORTFALL_ALLOWED = 0.95  # a run that could not send 95% of RATE did not hold the rate
TARGET_P99_SECONDS = 1.0

Updates = dict[str, list[tuple[Decimal, float]]]
"""Per goal, the actual and publishing time of each `GoalProgressUpdated`, in order."""


@dataclass
class Run:
    deals: dict[int, Deal]
    accepted: list[tuple[int, float]]  # deal number and when its answer came, in that order
    updates: Updates
    errors: int
    seconds: float


def main() -> None:
    today = datetime.now(UTC).date()
    workload = Workload(parse_scale(__doc__), year=today.year)
    print_workload(workload, f"; {RATE} deals/s for {SECONDS:.0f} s, closing today")
    with bench_stack() as stack, tracking_service(stack, workload) as tracking:
        run = asyncio.run(post_deals(stack.servers.kafka_bootstrap, tracking, workload, today))
    if not run.accepted:
        raise SystemExit(f"tracking-service accepted no deal ({run.errors} errors)")
    latencies = sorted(freshness(workload, run), key=lambda s: float("inf") if s is None else s)
    never = sum(s is None for s in latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    rate = len(run.accepted) / run.seconds
    print_figure(
        "deals", f"{len(run.accepted):,} accepted in {run.seconds:.1f} s, {run.errors} errors"
    )
    print_figure("progress updates", f"{sum(len(u) for u in run.updates.values()):,} consumed")
    print_figure(
        "freshness",
        ", ".join(f"p{p} {_ms(latencies[len(latencies) * p // 100 - 1])}" for p in (50, 95, 99))
        + f", max {_ms(latencies[-1])}, never shown within {DRAIN_SECONDS:.0f} s: {never}",
    )
    print_headline(
        "freshness",
        f"p99 {_ms(p99)} at {rate:.0f} deals/s",
        f"p99 < {TARGET_P99_SECONDS:.0f} s at {RATE} deals/s",
        p99 is not None
        and p99 < TARGET_P99_SECONDS
        and rate >= RATE * RATE_SHORTFALL_ALLOWED
        and run.errors == 0,
    )


async def post_deals(bootstrap: str, tracking: Tracking, workload: Workload, today: date) -> Run:
    consumer = await progress_from_now(bootstrap)
    updates: Updates = defaultdict(list)
    consuming = asyncio.create_task(_collect(consumer, updates))
    run = Run({}, [], updates, 0, 0.0)
    bodies = deal_bodies(workload, "fresh")

    def request(n: int) -> tuple[bytes, dict[str, str]]:
        run.deals[n] = deal = {**next(bodies), "closed_on": today.isoformat()}
        body = json_bytes(deal)
        return body, signed_headers(tracking.source_secret, body.decode())

    def answered(n: int, status: int, body: bytes, at: float) -> None:
        if status == 200 and not json.loads(body)["duplicate"]:
            run.accepted.append((n, at))

    try:
        load = await post_load(
            tracking.url,
            f"/webhooks/{SOURCE_ID}/deals",
            request,
            seconds=SECONDS,
            connections=CONNECTIONS,
            rate=RATE,
            answered=answered,
        )
        run.errors, run.seconds = sum(load.errors.values()), load.seconds
        await _until_shown(workload, run)
    finally:
        consuming.cancel()
        await consumer.stop()
    return run


async def _collect(consumer: AIOKafkaConsumer, updates: Updates) -> None:
    while True:
        for records in (await consumer.getmany(timeout_ms=200)).values():
            for record in records:
                data = json.loads(record.value)["data"]
                # The record's timestamp is when tracking-service's relay produced it.
                updates[data["goal_id"]].append((Decimal(data["actual"]), record.timestamp / 1000))


async def _until_shown(workload: Workload, run: Run) -> None:
    """Until every goal shows every accepted deal, or `DRAIN_SECONDS` have passed."""
    final: dict[str, Decimal] = defaultdict(Decimal)
    for n, _ in run.accepted:
        for goal_id, credit in _credits(workload, run.deals[n]):
            final[goal_id] += credit
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        shown = {goal: run.updates[goal][-1][0] for goal in final if run.updates.get(goal)}
        if all(shown.get(goal, -1) >= actual for goal, actual in final.items()):
            return
        await asyncio.sleep(0.2)


def freshness(workload: Workload, run: Run) -> list[float | None]:
    """Per accepted deal, the seconds from its answer to the first update of each goal it affects
    whose actual reaches the goal's sum of the deals accepted so far (None: never shown).
    Deals only add, so a goal's actual only grows."""
    expected: dict[str, Decimal] = defaultdict(Decimal)
    seen = dict.fromkeys(run.updates, 0)  # per goal, the first update not yet known to fall short
    latencies: list[float | None] = []
    for n, accepted_at in run.accepted:
        shown_at: float | None = accepted_at
        for goal_id, credit in _credits(workload, run.deals[n]):
            expected[goal_id] += credit
            updates, i = run.updates.get(goal_id, []), seen.get(goal_id, 0)
            while i < len(updates) and updates[i][0] < expected[goal_id]:
                i += 1
            seen[goal_id] = i
            if shown_at is not None:
                shown_at = max(shown_at, updates[i][1]) if i < len(updates) else None
        latencies.append(None if shown_at is None else max(0.0, shown_at - accepted_at))
    return latencies


def _credits(workload: Workload, deal: Deal) -> list[tuple[str, Decimal]]:
    credit = {"revenue": Decimal(deal["amount"]), "deals_won": Decimal(1)}
    affected = workload.affected_goal_ids(deal["owner_id"], deal["closed_on"])
    return [(goal_id, credit[metric]) for metric, ids in affected.items() for goal_id in ids]


def _ms(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds * 1000:.0f} ms"


if __name__ == "__main__":
    main()
