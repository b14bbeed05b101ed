"""decomposition: the company's FY revenue goal decomposed in one request to regions, teams and
reps by capacity (headcount x ramp, so new reps count less), then every rep's goal to months and
weeks by working days; timed as a preview (`dry_run`) and applied (BENCHMARKS.md). The org is the
reference workload's, loaded into goal-service through its API beforehand (not timed).

    uv run python bench/decomposition.py --scale W/10
"""

import asyncio
import time
from collections.abc import Awaitable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import httpx
from _stack import (
    ALERT_GROUP,
    INCENTIVE_GROUP,
    JWT_SECRET,
    TRACKING_GROUP,
    Stack,
    alert_service,
    asyncpg_dsn,
    bench_stack,
    ends_since,
    environment_for,
    incentive_service,
    note,
    parse_scale,
    print_figure,
    print_headline,
    serving,
    tracking_processes,
    until_none,
    wait_until_consumed,
)
from sqlalchemy.engine import make_url

from attain_contracts import topics
from attain_devstack.workload import Unit, Workload
from servicekit.auth import Role, mint_token
from servicekit.migrations import upgrade

TARGET_SECONDS = 5.0
TARGET_INTAKE_SECONDS = 30.0
CONSUMERS = (TRACKING_GROUP, ALERT_GROUP, INCENTIVE_GROUP)
UNPUBLISHED = "SELECT count(*) FROM goal.outbox WHERE published_at IS NULL"
PUBLISHED_SINCE = (
    "SELECT count(*) FROM goal.outbox WHERE topic = $1 AND created_at >= to_timestamp($2)"
)
COMPANY_TARGET = "1000000000"
LOAD_CONNECTIONS = 8
# Nothing listens here: the steps chosen need no history, and a goal's SMART check that asks for
# some gets a refused connection at once (a warning).
NO_TRACKING_URL = "http://127.0.0.1:9"


def plan_body(dry_run: bool) -> dict[str, Any]:
    capacity = {"kind": "org", "method": "capacity"}
    return {
        "dry_run": dry_run,
        "include_changes": False,
        "steps": [
            capacity,  # company → regions
            capacity,  # regions → teams
            capacity,  # teams → reps
            {"kind": "time", "grains": ["month", "week"], "profile": {"kind": "working_days"}},
        ],
    }


def main() -> None:
    workload = Workload(parse_scale(__doc__))
    size = workload.size
    new_reps = sum(rep.new for rep in workload.reps)
    print(
        f"workload: {workload.scale} (seed {workload.seed}, {workload.year}): 1 company, "
        f"{_count(size.regions, 'region')}, {_count(size.teams, 'team')}, "
        f"{_count(size.reps, 'rep')} ({new_reps:,} new, "
        f"ramping up during the year); the company's FY{workload.year} revenue goal → regions → "
        f"teams → reps by capacity, then every rep's → months → weeks by working days",
        flush=True,
    )
    with bench_stack() as stack, goal_service(stack) as url, consumers(stack):
        loaded = asyncio.run(load_org(url, workload))
        with httpx.Client(base_url=url, headers=planner_headers(), timeout=3600) as client:
            root = create_company_goal(client, workload)
            preview_seconds, preview = plan(client, root, dry_run=True)
            since = time.time()
            apply_seconds, applied = plan(client, root, dry_run=False)
        intake = asyncio.run(until_known(stack, since, apply_seconds))
        check = asyncio.run(verify(stack.database_url, root, applied["id"]))
    created = int(applied["summary"]["created"])
    print_figure("loaded", loaded)
    print_figure(
        "preview",
        f"{int(preview['summary']['created']):,} goals computed in {preview_seconds:.2f} s "
        "(dry_run: nothing written)",
    )
    print_figure(
        "apply",
        f"{created:,} goals created in {apply_seconds:.2f} s: {created / apply_seconds:,.0f} "
        "goals/s (one transaction, one GoalUpserted each)",
    )
    print_figure("summary", _summary(applied["summary"]))
    print_figure(
        "known",
        "from the apply's answer until every new goal's GoalUpserted is consumed: "
        + ", ".join(f"{group} {seconds:.1f} s" for group, seconds in intake.items())
        + f" (target < {TARGET_INTAKE_SECONDS:.0f} s for all)",
    )
    print_figure("check", check.describe())
    print_figure("baseline", "none (spreadsheets)")
    problem = check.problem(created)
    known = max(intake.values())
    print_headline(
        "decomposition",
        f"{apply_seconds:.2f} s for {created:,} goals, known everywhere {known:.1f} s later"
        + (f" ({problem})" if problem else ""),
        f"< {TARGET_SECONDS:.0f} s, < {TARGET_INTAKE_SECONDS:.0f} s",
        apply_seconds < TARGET_SECONDS and known < TARGET_INTAKE_SECONDS and not problem,
    )


# --- goal-service ----------------------------------------------------------------------------


def planner_headers() -> dict[str, str]:
    token = mint_token(JWT_SECRET, subject="bench", roles=[Role.PLANNER], person_id="bench")
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def goal_service(stack: Stack) -> Iterator[str]:
    """goal-service migrated and running as a process of its own; yields its URL."""
    upgrade("goal_service", stack.database_url)
    environment = environment_for(stack, ATTAIN_GOAL_TRACKING_URL=NO_TRACKING_URL)
    with serving("goal_service.main:create_app", environment, stack.work_dir / "goal.log") as url:
        yield url


@contextmanager
def consumers(stack: Stack) -> Iterator[None]:
    """tracking-, alert- and incentive-service running beside goal-service, taking in what it
    publishes."""
    with (
        tracking_processes(stack),
        alert_service(stack),
        incentive_service(stack),
    ):
        yield


async def until_known(stack: Stack, since: float, apply_seconds: float) -> dict[str, float]:
    """Seconds from the apply's answer until each consumer group has committed every
    `GoalUpserted` the apply wrote (time.time() `since` is just before it was sent)."""
    answered = since + apply_seconds
    connection = await asyncpg.connect(asyncpg_dsn(stack.database_url))
    try:
        await until_none(connection, UNPUBLISHED, "goal-service's relay", "rows unpublished")
        published = int(await connection.fetchval(PUBLISHED_SINCE, topics.GOALS, since))
    finally:
        await connection.close()
    note(f"{published:,} GoalUpserted published; waiting for {', '.join(CONSUMERS)}")
    bootstrap = stack.servers.kafka_bootstrap
    ends = await ends_since(bootstrap, {topics.GOALS: published}, since)

    async def consumed(group: str) -> float:
        await wait_until_consumed(bootstrap, group, ends)
        return time.time() - answered

    seconds = await asyncio.gather(*(consumed(group) for group in CONSUMERS))
    return dict(zip(CONSUMERS, seconds, strict=True))


async def load_org(url: str, workload: Workload) -> str:
    """The workload's units and people through `PUT /org-units` and `PUT /people`: units top
    down without managers, then the people, then the units again with their managers. A manager
    is a member of the unit above theirs (the company's of the company), so that a team's people
    are its reps; a new rep joins, and starts ramping up, during the fiscal year."""
    started = time.perf_counter()
    year = workload.year
    since = date(year - 1, 1, 1).isoformat()
    new_reps = [rep for rep in workload.reps if rep.new]
    hired = {rep.id: date(year, 1 + i % 9, 1).isoformat() for i, rep in enumerate(new_reps)}
    limits = httpx.Limits(max_connections=LOAD_CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=url, headers=planner_headers(), timeout=120, limits=limits
    ) as client:
        gate = asyncio.Semaphore(LOAD_CONNECTIONS)
        requests = 0

        async def put(path: str, body: dict[str, Any]) -> None:
            nonlocal requests
            async with gate:
                response = await client.put(path, json=body)
            requests += 1
            if response.status_code != 200:
                raise SystemExit(f"PUT {path} answered {response.status_code}: {response.text}")

        def unit_body(unit: Unit, manager: bool) -> dict[str, Any]:
            return {
                "name": unit.name,
                "kind": unit.kind,
                "parent_id": _parent(unit),
                "manager_id": unit.manager_id if manager else None,
            }

        for depth in sorted({len(unit.path) for unit in workload.units}):
            level = [unit for unit in workload.units if len(unit.path) == depth]
            await _all(put(f"/org-units/{u.id}", unit_body(u, False)) for u in level)
        managers = (
            put(
                f"/people/{unit.manager_id}",
                {
                    "name": f"Manager of {unit.name}",
                    "org_unit_id": _parent(unit) or unit.id,
                    "member_since": since,
                    "maturity": "experienced",
                },
            )
            for unit in workload.units
        )
        reps = (
            put(
                f"/people/{rep.id}",
                {
                    "name": f"Rep {rep.id[4:]}",
                    "org_unit_id": rep.team.id,
                    "member_since": hired.get(rep.id, since),
                    "maturity": "new" if rep.new else "experienced",
                    "hired_on": hired.get(rep.id),
                },
            )
            for rep in workload.reps
        )
        await _all(managers)
        await _all(reps)
        await _all(put(f"/org-units/{u.id}", unit_body(u, True)) for u in workload.units)
    seconds = time.perf_counter() - started
    people = len(workload.units) + len(workload.reps)
    return (
        f"{len(workload.units):,} org units and {people:,} people through the API "
        f"({requests:,} PUT requests, {LOAD_CONNECTIONS} at a time) in {seconds:.1f} s, not timed"
    )


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}" + ("" if n == 1 else "s")


def _parent(unit: Unit) -> str | None:
    return unit.path[-2] if len(unit.path) > 1 else None


async def _all(calls: Iterable[Awaitable[None]]) -> None:
    await asyncio.gather(*calls)


def create_company_goal(client: httpx.Client, workload: Workload) -> str:
    company = workload.units[0]
    response = client.post(
        "/goals",
        json={
            "metric": "revenue",
            "org_unit_id": company.id,
            "owner_id": company.manager_id,
            "period_key": f"FY{workload.year}",
            "target": COMPANY_TARGET,
        },
    )
    if response.status_code != 201:
        raise SystemExit(f"POST /goals answered {response.status_code}: {response.text[:1000]}")
    goal_id: str = response.json()["goal"]["id"]
    return goal_id


def plan(client: httpx.Client, goal_id: str, *, dry_run: bool) -> tuple[float, dict[str, Any]]:
    """Seconds for `POST /goals/{id}/plans` to answer, and its answer."""
    what = "preview" if dry_run else "apply"
    note(f"{what}: POST /goals/{goal_id}/plans")
    started = time.perf_counter()
    response = client.post(f"/goals/{goal_id}/plans", json=plan_body(dry_run))
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(
            f"{what}: POST /goals/{goal_id}/plans answered {response.status_code} after "
            f"{seconds:.1f} s: {response.text[:1000]}"
        )
    answer: dict[str, Any] = response.json()
    note(f"{what}: {seconds:.2f} s, {answer['summary']['created']:,} goals")
    return seconds, answer


def _summary(summary: dict[str, Any]) -> str:
    counts = ", ".join(f"{name} {summary[name]:,}" for name in ("created", "updated", "kept"))
    notes = summary.get("notes") or []
    return f"{counts}, left alone {summary['left_alone']:,}, {len(notes)} notes" + (
        f" (first: {notes[0]})" if notes else ""
    )


# --- verification ----------------------------------------------------------------------------

LEVELS = """
SELECT CASE
         WHEN person_id IS NULL THEN u.kind || '-year'
         WHEN g.period_end - g.period_start < 7 THEN 'rep-week'  -- clipped at a month's ends too
         WHEN g.period_end - g.period_start < 31 THEN 'rep-month'
         ELSE 'rep-year'
       END AS level,
       count(*) AS goals
FROM goal.goal g JOIN goal.org_unit u ON u.id = g.org_unit_id
WHERE g.plan_id = $1
GROUP BY 1
"""
RAMP = """
SELECT p.maturity, avg(g.target) AS mean
FROM goal.goal g JOIN goal.person p ON p.id = g.person_id
WHERE g.plan_id = $1 AND g.period_end - g.period_start >= 31
GROUP BY 1
"""
# Every parent in the plan's tree (the company goal too) against the sum of its children.
ADDS_UP = """
SELECT count(*) AS parents,
       count(*) FILTER (WHERE children <> target) AS wrong,
       (array_agg(id || ': ' || target || ' vs children ' || children)
          FILTER (WHERE children <> target))[1] AS example
FROM (
  SELECT p.id, p.target, sum(c.target) AS children
  FROM goal.goal p JOIN goal.goal c ON c.parent_id = p.id
  WHERE p.id = $2 OR p.plan_id = $1
  GROUP BY p.id, p.target
) parents
"""


@dataclass
class Check:
    goals: int  # rows written by the plan
    levels: dict[str, int]
    parents: int
    wrong: int
    example: str | None
    mean_rep_year: dict[str, float]  # by maturity

    def describe(self) -> str:
        order = ["region-year", "team-year", "rep-year", "rep-month", "rep-week"]
        levels = ", ".join(
            _count(self.levels[name], f"{name} goal")
            for name in sorted(self.levels, key=lambda n: order.index(n) if n in order else 9)
        )
        adds_up = (
            f"children add up to the parent at all {self.parents:,} parents"
            if not self.wrong
            else f"{self.wrong:,} of {self.parents:,} parents do not add up, e.g. {self.example}"
        )
        ramp = " vs ".join(
            f"{maturity} reps {mean:,.0f}" for maturity, mean in sorted(self.mean_rep_year.items())
        )
        return f"{self.goals:,} goals in the database ({levels}); {adds_up}; mean FY target: {ramp}"

    def problem(self, created: int) -> str | None:
        if self.goals != created:
            return f"{self.goals:,} goals written, {created:,} reported"
        if self.wrong:
            return f"{self.wrong:,} parents do not add up"
        return None


async def verify(database_url: str, root_id: str, plan_id: str) -> Check:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        levels = {row["level"]: row["goals"] for row in await connection.fetch(LEVELS, plan_id)}
        totals = await connection.fetchrow(ADDS_UP, plan_id, root_id)
        ramp = {
            row["maturity"]: float(row["mean"]) for row in await connection.fetch(RAMP, plan_id)
        }
    finally:
        await connection.close()
    return Check(
        goals=sum(levels.values()),
        levels=levels,
        parents=totals["parents"],
        wrong=totals["wrong"],
        example=totals["example"],
        mean_rep_year=ramp,
    )


if __name__ == "__main__":
    main()
