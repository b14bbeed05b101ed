"""payout_run: incentive-service pricing every rep's statement for a quarter, timed end to end
from the client through `POST /periods/{key}/payout-run`, and the same run again, which must find
nothing new (BENCHMARKS.md).

tracking-service and incentive-service run as processes of their own on one database and broker.
incentive-service consumes the scale's org, people and goals, one quarterly plan for every rep
(marginal commission tiers, an attainment bonus on a curve, a threshold bonus, a February SPIFF on
large deals, a team bonus split by contribution), and the ledger rows of the year's deals loaded
through tracking-service's batch API. Once it has consumed everything tracking-service published
and its repricer has nothing queued, the first quarter's payout run is timed twice.

    uv run python bench/payout_run.py --scale W/10
"""

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _stack import (
    INCENTIVE_GROUP,
    INCENTIVE_LOG,
    BulkLoad,
    asyncpg_dsn,
    bench_stack,
    bulk_load,
    ends_since,
    headers_for,
    incentive_service,
    note,
    parse_scale,
    print_figure,
    print_headline,
    print_workload,
    tracking_service,
    until_none,
    wait_until_consumed,
)

from attain_contracts import topics
from attain_devstack.workload import CURRENCY, Workload, goal_id
from servicekit.auth import Role

TARGET_SECONDS = 30.0
RUN_TIMEOUT_SECONDS = 600.0
# Counting a large outbox's unpublished rows takes a second or more: polled no more often, so the
# count does not slow down the relay it waits for.
POLL_SECONDS = 2.0
PLAN_ID = "bench-quarterly"
# What tracking-service publishes that incentive-service consumes: the ledger's rows, and the
# progress of every goal they move (kept for scorecards).
CONSUMED_TOPICS = (topics.ACTUALS, topics.PROGRESS)

UNPUBLISHED = "SELECT count(*) FROM tracking.outbox WHERE published_at IS NULL"
PUBLISHED = "SELECT topic, count(*) FROM tracking.outbox WHERE topic = any($1) GROUP BY topic"
QUEUED = "SELECT count(*) FROM incentive.reprice_queue"
UNSENT = "SELECT count(*) FROM incentive.outbox WHERE published_at IS NULL"
CREDITS = """
SELECT (SELECT count(*) FROM tracking.ledger_entry WHERE metric = 'revenue'),
       (SELECT count(*) FROM incentive.credit WHERE metric = 'revenue')
"""
LINES = """
SELECT line->>'kind' AS kind, count(*) AS lines, count(DISTINCT person_id) AS people,
       sum((line->>'amount')::numeric) AS amount
FROM incentive.statement, jsonb_array_elements(lines) AS line
WHERE period_key = $1
GROUP BY 1 ORDER BY 1
"""
# A warning names its person or goal after the colon: what it is about comes before.
WARNINGS = """
SELECT split_part(warning, ':', 1) AS about, count(DISTINCT person_id) AS people
FROM incentive.statement, jsonb_array_elements_text(warnings) AS warning
WHERE period_key = $1
GROUP BY 1 ORDER BY 2 DESC, 1
"""
REVENUE = "SELECT person_id, revenue FROM incentive.statement WHERE period_key = $1"


@dataclass(frozen=True)
class Run:
    seconds: float
    statements: int = 0
    changed: int = 0
    total: Decimal = Decimal(0)
    digest: str = ""
    failure: str | None = None

    def describe(self) -> str:
        if self.failure is not None:
            return f"{self.failure} after {self.seconds:.2f} s"
        return (
            f"{self.statements:,} statements priced in {self.seconds:.2f} s, {self.changed:,} "
            f"changed, total {self.total:,} {CURRENCY}, digest {self.digest[:16]}"
        )


@dataclass(frozen=True)
class Settled:
    seconds: float  # from the end of the load until nothing was left to consume or price
    consumed: int  # tracking-service's records that incentive-service consumed
    revenue_entries: int  # in tracking-service's ledger
    credits: int  # the revenue credits incentive-service holds
    priced: int  # statements its repricer priced since it started, changed or not
    changed: int


@dataclass(frozen=True)
class Statements:
    """The period's statements once both runs are done."""

    lines: list[asyncpg.Record]  # by kind
    warnings: list[asyncpg.Record]  # by what they are about
    revenue: dict[str, Decimal]  # by person


def main() -> None:
    workload = Workload(parse_scale(__doc__))
    period_key = f"FY{workload.year}-Q1"
    print_workload(
        workload, f", {workload.size.deals:,} deals; {period_key} paid out for every rep"
    )
    teams_without_goal = _teams_without_quarter_goal(workload, period_key)
    if teams_without_goal:
        raise SystemExit(
            f"{len(teams_without_goal)} teams have no {period_key} revenue goal for the team "
            f"bonus, e.g. {teams_without_goal[0]}"
        )
    started_at = time.time()
    with (
        bench_stack() as stack,
        tracking_service(stack, workload) as tracking,
        incentive_service(stack) as url,
    ):
        bootstrap = stack.servers.kafka_bootstrap
        started = time.monotonic()
        asyncio.run(wait_until_consumed(bootstrap, INCENTIVE_GROUP, tracking.directory))
        note(f"incentive-service consumed the directory in {time.monotonic() - started:.1f} s")
        put_plan(url, date(workload.year, 1, 1))
        load = bulk_load(tracking, workload)
        settled = asyncio.run(settle(bootstrap, stack.database_url, url, started_at))
        log = stack.work_dir / INCENTIVE_LOG
        first = payout_run(url, period_key, log)
        again = payout_run(url, period_key, log)
        statements = asyncio.run(statements_of(stack.database_url, period_key))
    report(workload, period_key, load, settled, (first, again), statements)


def _teams_without_quarter_goal(workload: Workload, period_key: str) -> list[str]:
    """The teams whose team bonus would have no goal to measure: none, as the workload goes."""
    teams = {unit.id for unit in workload.units if unit.kind == "team"}
    for goal in workload.goals():
        if goal.person_id is None and goal.metric == "revenue" and goal.period.key == period_key:
            teams.discard(goal.org_unit_id)
    return sorted(teams)


def plan_terms(year: int) -> dict[str, Any]:
    return {
        "components": [
            {
                "kind": "commission",
                "id": "commission",
                "method": "marginal",
                "tiers": [
                    {"floor": "0", "ceiling": "1", "rate": "0.04"},
                    {"floor": "1", "ceiling": "1.5", "rate": "0.07"},
                    {"floor": "1.5", "ceiling": None, "rate": "0.10"},
                ],
            },
            {
                "kind": "attainment_bonus",
                "id": "attainment",
                "target_incentive": "30000.00",
                "curve": [
                    {"attainment": "0.5", "payout": "0.25"},
                    {"attainment": "1", "payout": "1"},
                    {"attainment": "1.5", "payout": "1.6"},
                    {"attainment": "2", "payout": "2"},
                ],
                "gate": "0.5",
                "cap": "2",
            },
            {
                "kind": "threshold_bonus",
                "id": "club",
                "threshold": "1",
                "percent_of_commission": "0.10",
            },
            {
                "kind": "spiff",
                "id": "february-large-deals",
                "min_amount": "20000.00",
                "window_from": date(year, 2, 1).isoformat(),
                "window_to": date(year, 3, 1).isoformat(),
                "amount": "500.00",
            },
            {
                "kind": "team_bonus",
                "id": "team",
                "pool": "50000.00",
                "threshold": "1",
                "split": "contribution",
            },
        ],
    }


PLAN_SUMMARY = (
    "marginal commission 4% to 100%, 7% to 150%, 10% above; attainment bonus of 30,000 on a "
    "curve, gate 50%, cap 200%; +10% of commission from 100%; 500 a February deal >= 20,000; a "
    "team pool of 50,000 from 100% of the team goal, split by contribution"
)


def put_plan(url: str, effective_from: date) -> None:
    """One quarterly plan for every rep, its terms in force from the year's first day."""
    with httpx.Client(base_url=url, headers=headers_for(Role.ADMIN), timeout=60) as api:
        answered = api.put(
            f"/plans/{PLAN_ID}",
            json={
                "name": "Quarterly rep plan",
                "period": "quarter",
                "currency": CURRENCY,
                "assignments": [{"role": "rep"}],
            },
        )
        if answered.status_code != 200:
            raise SystemExit(f"PUT /plans answered {answered.status_code}: {answered.text[:500]}")
        answered = api.put(
            f"/plans/{PLAN_ID}/versions/{effective_from.isoformat()}",
            json=plan_terms(effective_from.year),
        )
        if answered.status_code != 200:
            raise SystemExit(
                f"PUT /plans/{{id}}/versions answered {answered.status_code}: {answered.text[:500]}"
            )


async def settle(bootstrap: str, database_url: str, url: str, since: float) -> Settled:
    """Until incentive-service has consumed everything tracking-service published, its repricer
    has nothing queued and its relay nothing unsent: nothing it does competes with the runs."""
    started = time.monotonic()
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await until_none(
            connection, UNPUBLISHED, "tracking-service's relay", "rows unpublished", POLL_SECONDS
        )
        published = dict(await connection.fetch(PUBLISHED, list(CONSUMED_TOPICS)))
        ends = await ends_since(bootstrap, published, since)
        await wait_until_consumed(bootstrap, INCENTIVE_GROUP, ends)
        note(f"incentive-service consumed {sum(published.values()):,} records of tracking-service")
        await until_none(
            connection, QUEUED, "incentive-service's repricer", "statements queued", POLL_SECONDS
        )
        await until_none(
            connection, UNSENT, "incentive-service's relay", "rows unpublished", POLL_SECONDS
        )
        revenue_entries, credits = await connection.fetchrow(CREDITS)
    finally:
        await connection.close()
    seconds = time.monotonic() - started
    priced, changed = _repricer_counts(url)
    return Settled(seconds, sum(published.values()), revenue_entries, credits, priced, changed)


def _repricer_counts(url: str) -> tuple[int, int]:
    """What the repricer priced and changed since the service started, from its metrics."""
    text = httpx.get(f"{url}/metrics").text
    counts = dict.fromkeys(("priced", "changed"), 0)
    for line in text.splitlines():
        for name in counts:
            if line.startswith(f"incentive_statements_{name}_total "):
                counts[name] = int(float(line.split()[1]))
    return counts["priced"], counts["changed"]


def payout_run(url: str, period_key: str, log: Path) -> Run:
    note(f"payout run of {period_key}")
    started = time.perf_counter()
    try:
        response = httpx.post(
            f"{url}/periods/{period_key}/payout-run",
            headers=headers_for(Role.ADMIN),
            timeout=RUN_TIMEOUT_SECONDS,
        )
    except httpx.TimeoutException:
        return Run(
            time.perf_counter() - started,
            failure=f"no answer within {RUN_TIMEOUT_SECONDS:.0f} s",
        )
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        logged = _logged_error(log) if response.status_code == 500 else None
        failure = f"answered {response.status_code}: " + (
            f"incentive-service logged {logged}" if logged else response.text[:300]
        )
        return Run(seconds, failure=failure)
    answer: dict[str, Any] = response.json()
    run = Run(
        seconds,
        int(answer["statements"]),
        int(answer["changed"]),
        Decimal(answer["total"]),
        str(answer["digest"]),
    )
    note(run.describe())
    return run


def _logged_error(log: Path) -> str | None:
    """The exception incentive-service logged for the last request it failed, from its log."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if '"http.unhandled_error"' in line:
            exceptions = json.loads(line).get("exception") or [{}]
            error = f"{exceptions[0].get('exc_type')}: {exceptions[0].get('exc_value')}"
            return " ".join(error.split())[:400]
    return None


async def statements_of(database_url: str, period_key: str) -> Statements:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return Statements(
            await connection.fetch(LINES, period_key),
            await connection.fetch(WARNINGS, period_key),
            dict(await connection.fetch(REVENUE, period_key)),
        )
    finally:
        await connection.close()


def report(
    workload: Workload,
    period_key: str,
    load: BulkLoad,
    settled: Settled,
    runs: tuple[Run, Run],
    statements: Statements,
) -> None:
    first, again = runs
    print_figure(
        "loaded",
        f"{load.records:,} deal records through the batch API, {load.ledger_entries:,} ledger "
        f"entries, in {load.seconds:.1f} s (not timed)",
    )
    print_figure(
        "settled",
        f"{settled.seconds:.1f} s after the load (not timed), incentive-service had consumed "
        f"{settled.consumed:,} records of tracking-service's and held {settled.credits:,} revenue "
        f"credits of the ledger's {settled.revenue_entries:,}; its repricer had priced "
        f"{settled.priced:,} statements, {settled.changed:,} of them changed",
    )
    print_figure("plan", f"one quarterly plan for every rep in {CURRENCY}: {PLAN_SUMMARY}")
    print_figure("payout run", first.describe())
    print_figure("again", again.describe())
    print_figure(
        "lines",
        "; ".join(
            f"{row['kind']} {row['lines']:,} lines for {row['people']:,} reps, {row['amount']:,.2f}"
            for row in statements.lines
        )
        or "none",
    )
    print_figure(
        "warnings",
        "; ".join(f"{row['about']}: {row['people']:,} reps" for row in statements.warnings)
        or "none",
    )
    print_figure("checked", _checked(workload, period_key, statements.revenue))
    print_figure("baseline", "none (incentive tools run nightly batches)")
    problem = first.failure or again.failure or _not_identical(first, again)
    slower = max(first.seconds, again.seconds)
    print_headline(
        "payout_run",
        f"{slower:.2f} s for {first.statements:,} statements"
        + (f" ({problem})" if problem else ""),
        f"< {TARGET_SECONDS:.0f} s, identical on re-run",
        problem is None and slower < TARGET_SECONDS,
    )


def _checked(workload: Workload, period_key: str, revenue: dict[str, Decimal]) -> str:
    """Whether every rep has a statement, and its revenue is the workload's to the cent."""
    goals = {goal_id(rep.id, "revenue", period_key): rep.id for rep in workload.reps}
    expected = {goals[goal]: actual for goal, actual in workload.expected_actuals(goals).items()}
    differ = sorted(rep for rep, actual in expected.items() if revenue.get(rep) != actual)
    example = (
        f" (e.g. {differ[0]}: {revenue.get(differ[0])} priced, {expected[differ[0]]} expected)"
        if differ
        else ""
    )
    return (
        f"{len(expected.keys() & revenue.keys()):,} of {len(expected):,} reps have a "
        f"{period_key} statement ({len(revenue.keys() - expected.keys())} others); its revenue is "
        f"the workload's to the cent for {len(expected) - len(differ):,}{example}"
    )


def _not_identical(first: Run, again: Run) -> str | None:
    differences = [
        what
        for what, same in (
            ("statements", first.statements == again.statements),
            ("total", first.total == again.total),
            ("digest", first.digest == again.digest),
            (f"{again.changed} changed", again.changed == 0),
        )
        if not same
    ]
    return f"the re-run differs: {', '.join(differences)}" if differences else None


if __name__ == "__main__":
    main()
