"""`make demo` against the four processes: the loader builds the org, the people, the goals a plan
decomposes, the incentive plans and the CRM source through the APIs; played deals reach the
ledger and move the goals; a second run changes nothing already loaded."""

import asyncio
import os
import re
import sys
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from conftest import Stack
from test_one_deal_through_all_four import ADMIN, eventually, ok

from attain_devstack import demo
from attain_devstack.workload import METRICS, Workload

pytestmark = pytest.mark.e2e

SCALE = "W/100"  # the smallest: 1 region, 2 teams, 20 reps; the year's history is left out
PLAYED_BY_THE_COMMAND = 3
PLAYED_IN_THE_TEST = 5
LOAD_SECONDS = 240


def urls_of(stack: Stack) -> demo.Urls:
    return demo.Urls(
        goal=stack.urls["goal-service"],
        tracking=stack.urls["tracking-service"],
        alert=stack.urls["alert-service"],
        incentive=stack.urls["incentive-service"],
    )


async def test_the_demo_loads_through_the_apis_plays_deals_and_a_second_run_changes_nothing(
    stack: Stack,
) -> None:
    urls = urls_of(stack)
    today = datetime.now(UTC).date()
    workload = Workload(SCALE, seed=1, year=today.year)
    cast = demo.Cast.of(workload)

    output = await run_the_command(urls)
    assert f"played {PLAYED_BY_THE_COMMAND} deals" in output
    for person, _, _ in cast.sign_in_as():
        assert person in output

    async with httpx.AsyncClient(headers=ADMIN, timeout=30) as http:
        before = await snapshot(http, urls)
        listed = await ok(http.get(f"{urls.goal}/org-units", params={"limit": 1000}))
        units = {unit["id"]: unit for unit in listed["data"]}
        assert {u.id: u.manager_id for u in workload.units} == {
            u.id: units[u.id]["manager_id"] for u in workload.units
        }
        for rep in workload.reps:
            person = await ok(http.get(f"{urls.goal}/people/{rep.id}"))
            assert [m["org_unit_id"] for m in person["memberships"]] == [rep.team.id]

        for metric in METRICS:
            tree = await company_tree(http, urls, workload, metric)
            check_children_add_up(tree)
            month = today.strftime("%Y-%m")
            reps_this_month = {
                g["person_id"] for g in tree if g["person_id"] and g["period_key"] == month
            }
            assert reps_this_month == {rep.id for rep in workload.reps}, "every rep, this month"
            assert all(g["status"] == "active" for g in tree)

        plans = {p["id"]: p for p in (await ok(http.get(f"{urls.incentive}/plans")))["data"]}
        assert set(demo.PLAN_IDS) <= set(plans)
        assert len(plans["demo-reps-monthly"]["versions"]) == 2
        source = await ok(http.get(f"{urls.tracking}/sources/{demo.SOURCE_ID}"))

        # Without the history, the company's revenue this month is the played deals', each in
        # the ledger: first the command's (drawn again from its run id), then the test's own.
        month_goal = await goal_of(http, urls, workload.units[0].id, "revenue", month)
        progress = f"{urls.tracking}/goals/{month_goal}/progress"
        (run_id,) = re.findall(r"\(ids demo-(\w+)-", output)
        again = demo.Player(workload, cast, today, run_id)
        by_the_command = [again.next_deal() for _ in range(PLAYED_BY_THE_COMMAND)]
        start = sum(Decimal(deal["amount"]) for deal in by_the_command)
        await eventually(
            lambda: http.get(progress), until=lambda p: Decimal(p["actual"]) == start, timeout=60
        )
        player = demo.Player(workload, cast, today, run_id=f"test{os.getpid()}")
        played = await demo.play(
            urls,
            source["secret"],
            player,
            rate=20,
            deals=PLAYED_IN_THE_TEST,
            seconds=None,
            stop=asyncio.Event(),
            say=lambda line: None,
        )
        assert played.answered == {200: PLAYED_IN_THE_TEST}
        starved = {rep.id for rep in cast.starved}
        assert not starved & {deal["owner_id"] for deal in played.deals}
        for deal in [*by_the_command, *played.deals]:
            history = await ok(
                http.get(f"{urls.tracking}/sources/{demo.SOURCE_ID}/deals/{deal['id']}/history")
            )
            assert history["ledger"], f"{deal['id']} is in the ledger"
        added = sum(Decimal(deal["amount"]) for deal in played.deals)
        await eventually(
            lambda: http.get(progress),
            until=lambda p: Decimal(p["actual"]) == start + added,
            timeout=60,
        )

        loaded = await demo.load(
            urls, workload, today, cast, say=lambda line: None, with_history=False
        )
        assert all(" created 0, updated 0," in plan for plan in loaded.plans), loaded.plans
        assert await snapshot(http, urls) == before


async def run_the_command(urls: demo.Urls) -> str:
    environment = {
        **os.environ,
        "ATTAIN_DEMO_GOAL_URL": urls.goal,
        "ATTAIN_DEMO_TRACKING_URL": urls.tracking,
        "ATTAIN_DEMO_ALERT_URL": urls.alert,
        "ATTAIN_DEMO_INCENTIVE_URL": urls.incentive,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "attain_devstack.demo",
        "--scale",
        SCALE,
        "--no-history",
        "--deals",
        str(PLAYED_BY_THE_COMMAND),
        "--rate",
        "10",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), LOAD_SECONDS)
    output = out.decode()
    assert process.returncode == 0, output
    return output


async def snapshot(http: httpx.AsyncClient, urls: demo.Urls) -> dict[str, Any]:
    """What a second load must leave as it is: every version of what the first one wrote."""
    units = (await ok(http.get(f"{urls.goal}/org-units", params={"limit": 1000})))["data"]
    goals: dict[str, int] = {}
    after = None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"after": after} if after else {})}
        page = await ok(http.get(f"{urls.goal}/goals", params=params))
        goals.update({g["id"]: g["version"] for g in page["data"]})
        if (after := page["next_after"]) is None:
            break
    plans = (await ok(http.get(f"{urls.incentive}/plans")))["data"]
    source = await ok(http.get(f"{urls.tracking}/sources/{demo.SOURCE_ID}"))
    calendar = await ok(http.get(f"{urls.goal}/calendar"))
    return {
        "units": {u["id"]: u["version"] for u in units},
        "goals": goals,
        "plans": {p["id"]: p["revision"] for p in plans},
        "secret": source["secret"],
        "calendar": calendar["version"],
    }


async def goal_of(
    http: httpx.AsyncClient, urls: demo.Urls, unit_id: str, metric: str, period_key: str
) -> str:
    found = await ok(
        http.get(
            f"{urls.goal}/goals",
            params={"org_unit_id": unit_id, "metric": metric, "period_key": period_key},
        )
    )
    (goal,) = [g for g in found["goals"] if g["person_id"] is None]
    return str(goal["id"])


async def company_tree(
    http: httpx.AsyncClient, urls: demo.Urls, workload: Workload, metric: str
) -> list[dict[str, Any]]:
    root = await goal_of(http, urls, workload.units[0].id, metric, f"FY{workload.year}")
    tree: list[dict[str, Any]] = (await ok(http.get(f"{urls.goal}/goals/{root}/tree")))["goals"]
    people = {g["person_id"] for g in tree if g["person_id"]}
    assert people == {rep.id for rep in workload.reps}, "the plan reached every rep"
    units = {g["org_unit_id"] for g in tree if g["person_id"] is None}
    assert units == {unit.id for unit in workload.units}
    return tree


def check_children_add_up(tree: list[dict[str, Any]]) -> None:
    """A parent's children of each kind (to the org below, or to shorter periods of the same
    scope) add up to its target."""
    by_id = {g["id"]: g for g in tree}
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for goal in tree:
        parent = by_id.get(goal["parent_id"])
        if parent is None:
            continue
        same_scope = (goal["org_unit_id"], goal["person_id"]) == (
            parent["org_unit_id"],
            parent["person_id"],
        )
        sums[(parent["id"], "time" if same_scope else "org")] += Decimal(goal["target"])
    assert {kind for _, kind in sums} == {"time", "org"}
    wrong = {
        key: (by_id[key[0]]["target"], total)
        for key, total in sums.items()
        if total != Decimal(by_id[key[0]]["target"])
    }
    assert not wrong, wrong
