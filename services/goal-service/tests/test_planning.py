"""Decomposition across the process boundary: goal-service and tracking-service
running on one broker, last year's deals at tracking-service as the history
the weights come from, a yearly company goal decomposed to regions, teams,
reps and months, and the targets found at tracking-service."""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest

from attain_contracts import DeviationDetected
from attain_devstack.testing import TEST_SECRET, bearer, migrate, publish, running
from goal_service.main import create_app as create_goal_app
from goal_service.settings import GoalSettings
from servicekit.auth import Role
from tracking_service.main import create_app as create_tracking_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

PLANNER = bearer(Role.PLANNER, person_id="planner")
ADMIN = bearer(Role.ADMIN, person_id="admin")
INTEGRATION = bearer(Role.INTEGRATION)
MONTHS = ["6", "6", "8", "8", "8", "10", "8", "8", "8", "10", "10", "10"]


@dataclass
class Stack:
    goals: httpx.AsyncClient
    tracking: httpx.AsyncClient
    bootstrap: str


@pytest.fixture
async def stack(fresh_database: Callable[[], str], kafka_bootstrap: str) -> AsyncIterator[Stack]:
    goal_db, tracking_db = fresh_database(), fresh_database()
    await migrate("goal_service", goal_db)
    await migrate("tracking_service", tracking_db)
    common: dict[str, Any] = {
        "kafka_bootstrap": kafka_bootstrap,
        "jwt_secret": TEST_SECRET,
        "outbox_poll_seconds": 0.2,
    }
    tracking_app = create_tracking_app(TrackingSettings(database_url=tracking_db, **common))
    async with running(tracking_app) as tracking:
        goal_app = create_goal_app(
            GoalSettings(database_url=goal_db, **common),
            tracking_transport=httpx.ASGITransport(app=tracking_app),
        )
        async with running(goal_app) as goals:
            response = await tracking.put("/sources/crm", json={"name": "CRM"}, headers=ADMIN)
            assert response.status_code == 200, response.text
            yield Stack(goals, tracking, kafka_bootstrap)


class Org:
    """company → regions north, south → teams n1, n2 (north) and s1 (south) →
    two reps per team, everyone in since 2024."""

    def __init__(self) -> None:
        tag = uuid4().hex[:6]
        self.tag = tag
        self.company = f"co-{tag}"
        self.regions = {f"north-{tag}": [f"n1-{tag}", f"n2-{tag}"], f"south-{tag}": [f"s1-{tag}"]}
        self.reps = {
            team: [f"{team}-rep{i}" for i in (1, 2)]
            for teams in self.regions.values()
            for team in teams
        }

    def manager(self, unit: str) -> str:
        return f"mgr-{unit}"

    async def create(self, client: httpx.AsyncClient) -> None:
        managers = [self.company, *self.regions, *self.reps]
        # Managers first (a unit's manager must exist), parked in the company once it exists.
        await put(client, f"/org-units/{self.company}", {"name": "Acme", "kind": "company"})
        for unit in managers:
            await put(
                client,
                f"/people/{self.manager(unit)}",
                {"name": unit, "org_unit_id": self.company, "member_since": "2024-01-01"},
            )
        await put(
            client,
            f"/org-units/{self.company}",
            {"name": "Acme", "kind": "company", "manager_id": self.manager(self.company)},
        )
        for region, teams in self.regions.items():
            await put(
                client,
                f"/org-units/{region}",
                {
                    "name": region,
                    "kind": "region",
                    "parent_id": self.company,
                    "manager_id": self.manager(region),
                },
            )
            for team in teams:
                await put(
                    client,
                    f"/org-units/{team}",
                    {
                        "name": team,
                        "kind": "team",
                        "parent_id": region,
                        "manager_id": self.manager(team),
                    },
                )
        for team, reps in self.reps.items():
            for rep in reps:
                await put(
                    client,
                    f"/people/{rep}",
                    {"name": rep, "org_unit_id": team, "member_since": "2024-01-01"},
                )


async def put(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
    response = await client.put(url, json=body, headers=PLANNER)
    assert response.status_code == 200, response.text


async def until(
    client: httpx.AsyncClient, url: str, holds: Callable[[Any], bool], seconds: float = 30
) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await client.get(url, headers=ADMIN)
        if last.status_code == 200 and holds(last.json()):
            return last.json()
        await asyncio.sleep(0.2)
    raise AssertionError(f"{url} never held; last: {last and last.text}")


async def last_year_deals(stack: Stack, org: Org) -> dict[str, Decimal]:
    """2025 revenue per rep: north's first team sells most, south least."""
    amounts = {}
    deals = []
    for index, reps in enumerate(org.reps.values()):
        for number, rep in enumerate(reps):
            amount = Decimal(100_000 * (3 - index) + 10_000 * number)
            amounts[rep] = amount
            deals.append(
                {
                    "id": f"D-{uuid4().hex[:10]}",
                    "version": 1,
                    "stage": "won",
                    "amount": str(amount),
                    "currency": "CNY",
                    "owner_id": rep,
                    "created_on": "2025-04-01",
                    "closed_on": "2025-06-15",
                }
            )
    response = await stack.tracking.post(
        "/sources/crm/batch", json={"deals": deals}, headers=INTEGRATION
    )
    assert response.status_code == 200, response.text
    return amounts


async def company_goal(stack: Stack, org: Org, target: str) -> dict[str, Any]:
    response = await stack.goals.post(
        "/goals",
        json={
            "metric": "revenue",
            "org_unit_id": org.company,
            "owner_id": org.manager(org.company),
            "period_key": "FY2026",
            "target": target,
            "rationale": "grow through the north's new accounts",
        },
        headers=PLANNER,
    )
    assert response.status_code == 201, response.text
    return response.json()["goal"]  # type: ignore[no-any-return]


PLAN_STEPS = [
    {"kind": "org", "method": "history"},
    {"kind": "org", "method": "history"},
    {"kind": "org", "method": "history"},
    {
        "kind": "time",
        "grains": ["quarter", "month"],
        "profile": {"kind": "percentages", "months": MONTHS},
    },
]


async def test_a_yearly_goal_decomposes_to_reps_and_months_and_reaches_tracking(
    stack: Stack,
) -> None:
    org = Org()
    await org.create(stack.goals)
    last_year = await last_year_deals(stack, org)
    # tracking-service has heard of every rep and credited last year's deals to their teams.
    every_rep = next(iter(org.regions))
    await until(
        stack.tracking,
        f"/org-units/{org.company}/statistics?start=2025-01-01&end=2025-12-31",
        lambda body: (
            Decimal(body["totals"].get("revenue", "0")) == sum(last_year.values())
            and every_rep in body["by_child"]
        ),
    )
    root = await company_goal(stack, org, "12000000")

    preview = await stack.goals.post(
        f"/goals/{root['id']}/plans", json={"steps": PLAN_STEPS}, headers=PLANNER
    )
    assert preview.status_code == 200, preview.text
    previewed = preview.json()
    assert previewed["id"] is None and previewed["summary"]["created"] > 0
    nothing = await stack.goals.get(f"/goals?parent_id={root['id']}", headers=PLANNER)
    assert nothing.json()["goals"] == [], "a dry run writes nothing"

    applied = await stack.goals.post(
        f"/goals/{root['id']}/plans",
        json={"steps": PLAN_STEPS, "dry_run": False},
        headers=PLANNER,
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["summary"] == previewed["summary"]
    tree = (await stack.goals.get(f"/goals/{root['id']}/tree", headers=PLANNER)).json()["goals"]
    by_id = {g["id"]: g for g in tree}
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for goal in tree[1:]:
        children[goal["parent_id"]].append(goal)
    # Every parent's children add up to it exactly.
    for parent_id, kids in children.items():
        assert sum(Decimal(k["target"]) for k in kids) == Decimal(by_id[parent_id]["target"])
    # Reps' yearly shares follow last year's revenue within one unit.
    rep_years = {
        g["person_id"]: Decimal(g["target"])
        for g in tree
        if g["person_id"] and g["period_key"] == "FY2026"
    }
    assert set(rep_years) == set(last_year)
    assert sum(rep_years.values()) == Decimal(12_000_000)
    whole = sum(last_year.values())
    for rep, target in rep_years.items():
        assert abs(target - Decimal(12_000_000) * last_year[rep] / whole) <= 2
    # Each rep's March is 8% of their year, Q1 is 20%; owners are the reps.
    rep = org.reps[next(iter(org.reps))][0]
    march = next(g for g in tree if g["person_id"] == rep and g["period_key"] == "2026-03")
    q1 = next(g for g in tree if g["person_id"] == rep and g["period_key"] == "FY2026-Q1")
    assert abs(Decimal(march["target"]) - rep_years[rep] * Decimal("0.08")) <= 1
    assert abs(Decimal(q1["target"]) - rep_years[rep] * Decimal("0.20")) <= 1
    assert march["owner_id"] == rep
    region_goal = next(
        g for g in tree if g["org_unit_id"] in org.regions and g["period_key"] == "FY2026"
    )
    assert region_goal["owner_id"] == org.manager(region_goal["org_unit_id"])

    # tracking-service holds the rep's March target, and counts the rep's deals against it.
    progress = await until(stack.tracking, f"/goals/{march['id']}/progress", lambda body: True)
    assert Decimal(progress["target"]) == Decimal(march["target"])

    # Applying the same plan again changes nothing.
    again = await stack.goals.post(
        f"/goals/{root['id']}/plans",
        json={"steps": PLAN_STEPS, "dry_run": False, "include_changes": False},
        headers=PLANNER,
    )
    assert again.status_code == 200, again.text
    assert again.json()["summary"]["created"] == 0
    assert again.json()["summary"]["updated"] == 0


async def test_a_deviation_offers_a_replan_that_applies_only_when_accepted(stack: Stack) -> None:
    org = Org()
    await org.create(stack.goals)
    team = next(iter(org.reps))
    rep = org.reps[team][0]
    response = await stack.goals.post(
        "/goals",
        json={
            "metric": "revenue",
            "org_unit_id": team,
            "person_id": rep,
            "owner_id": rep,
            "period_key": "FY2026",
            "target": "1200000",
        },
        headers=PLANNER,
    )
    year = response.json()["goal"]
    steps = [
        {"kind": "time", "grains": ["month"], "profile": {"kind": "percentages", "months": MONTHS}}
    ]
    applied = await stack.goals.post(
        f"/goals/{year['id']}/plans", json={"steps": steps, "dry_run": False}, headers=PLANNER
    )
    assert applied.status_code == 200, applied.text
    months = (await stack.goals.get(f"/goals?parent_id={year['id']}", headers=PLANNER)).json()[
        "goals"
    ]
    january = next(g for g in months if g["period_key"] == "2026-01")
    await until(stack.tracking, f"/goals/{january['id']}/progress", lambda body: True)

    # January closes with 30,000 sold of its target; the alert service says the year is behind.
    sold = {
        "id": f"D-{uuid4().hex[:10]}",
        "version": 1,
        "stage": "won",
        "amount": "30000",
        "currency": "CNY",
        "owner_id": rep,
        "closed_on": "2026-01-20",
    }
    recorded = await stack.tracking.post(
        "/sources/crm/batch", json={"deals": [sold]}, headers=INTEGRATION
    )
    assert recorded.status_code == 200, recorded.text
    await until(
        stack.tracking,
        f"/goals/{january['id']}/progress",
        lambda body: Decimal(body["actual"]) == 30_000,
    )
    await publish(
        stack.bootstrap,
        DeviationDetected(
            alert_id=f"alert-{uuid4().hex[:8]}",
            goal_id=year["id"],
            owner_id=rep,
            rule="pace",
            severity="warning",
            as_of=datetime(2026, 2, 10, tzinfo=UTC),
            actual=Decimal(0),
            expected_to_date=Decimal(100_000),
            target=Decimal(1_200_000),
            pace=Decimal(0),
            message="behind",
        ),
    )
    plans = await until(
        stack.goals,
        f"/goals/{year['id']}/plans?status=proposed",
        lambda body: len(body["data"]) == 1,
    )
    proposal = plans["data"][0]
    changed = {c["goal_id"]: Decimal(c["target"]) for c in proposal["changes"]}
    assert january["id"] not in changed, "a closed month keeps its target"
    assert sum(changed.values()) == Decimal(1_170_000), "the 11 open months carry what is left"
    untouched = (await stack.goals.get(f"/goals/{january['id']}", headers=PLANNER)).json()
    february = next(g for g in months if g["period_key"] == "2026-02")
    before = (await stack.goals.get(f"/goals/{february['id']}", headers=PLANNER)).json()
    assert before["version"] == 1 and untouched["version"] == 1, "nothing applied yet"

    accepted = await stack.goals.post(f"/plans/{proposal['id']}/accept", headers=PLANNER)
    assert accepted.status_code == 200, accepted.text
    after = (await stack.goals.get(f"/goals/{february['id']}", headers=PLANNER)).json()
    assert Decimal(after["target"]) == changed[february["id"]] > Decimal(before["target"])
    history = (await stack.goals.get(f"/goals/{february['id']}/history", headers=PLANNER)).json()
    last = history["versions"][-1]
    assert (Decimal(last["previous_target"]), Decimal(last["target"])) == (
        Decimal(before["target"]),
        Decimal(after["target"]),
    )
    assert last["plan_id"] == proposal["id"] and last["changed_by"] == "planner"
    year_now = (await stack.goals.get(f"/goals/{year['id']}", headers=PLANNER)).json()
    assert Decimal(year_now["target"]) == Decimal(year["target"]), "the annual target stays"
    again = await stack.goals.post(f"/plans/{proposal['id']}/accept", headers=PLANNER)
    assert again.status_code == 409


def as_person(role: Role, person_id: str) -> dict[str, str]:
    return bearer(role, person_id=person_id)


async def team_goal(stack: Stack, org: Org, team: str, target: str = "1000000") -> dict[str, Any]:
    response = await stack.goals.post(
        "/goals",
        json={
            "metric": "revenue",
            "org_unit_id": team,
            "owner_id": org.manager(team),
            "period_key": "FY2026",
            "target": target,
        },
        headers=PLANNER,
    )
    assert response.status_code == 201, response.text
    return response.json()["goal"]  # type: ignore[no-any-return]


async def test_bottom_up_proposals_and_who_may_make_them(stack: Stack) -> None:
    org = Org()
    await org.create(stack.goals)
    north_team, south_team = next(iter(org.reps)), list(org.reps)[-1]
    ann, bob = org.reps[north_team]
    stranger = org.reps[south_team][0]
    goal = await team_goal(stack, org, north_team)
    url = f"/goals/{goal['id']}/proposals"

    own = await stack.goals.put(
        f"{url}/{ann}",
        json={"value": "600000", "note": "two big renewals"},
        headers=as_person(Role.REP, ann),
    )
    assert own.status_code == 200, own.text
    for caller, scope in [
        (as_person(Role.REP, ann), bob),
        (as_person(Role.REP, stranger), stranger),
    ]:
        refused = await stack.goals.put(f"{url}/{scope}", json={"value": "1"}, headers=caller)
        assert refused.status_code == 404, "a rep proposes only their own share of their team"
    other_manager = as_person(Role.MANAGER, org.manager(south_team))
    refused = await stack.goals.put(f"{url}/{bob}", json={"value": "1"}, headers=other_manager)
    assert refused.status_code == 404
    manager = as_person(Role.MANAGER, org.manager(north_team))
    by_manager = await stack.goals.put(f"{url}/{bob}", json={"value": "300000"}, headers=manager)
    assert by_manager.status_code == 200, by_manager.text
    not_a_child = await stack.goals.put(f"{url}/{stranger}", json={"value": "1"}, headers=PLANNER)
    assert not_a_child.status_code == 422 and not_a_child.json()["field"] == "scope"

    bottom_up = (await stack.goals.get(url, headers=manager)).json()
    assert (Decimal(bottom_up["total"]), Decimal(bottom_up["gap"])) == (
        Decimal(900_000),
        Decimal(100_000),
    )
    assert Decimal(bottom_up["coverage"]) == Decimal("0.9") and bottom_up["missing"] == []

    steps = [{"kind": "reconcile", "policy": "scale", "threshold": "0.05"}]
    preview = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": steps}, headers=manager
    )
    assert preview.status_code == 200, "a manager previews plans in their subtree"
    finals = {c["person_id"]: c for c in preview.json()["changes"]}
    assert Decimal(finals[ann]["target"]) + Decimal(finals[bob]["target"]) == Decimal(1_000_000)
    assert Decimal(finals[ann]["target"]) == Decimal(666_667)
    assert "NEGOTIATE" in finals[ann]["explanation"], (
        "11% above the proposal, over the 5% threshold"
    )
    applying = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": steps, "dry_run": False}, headers=manager
    )
    assert applying.status_code == 404, "only planners apply"
    applied = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": steps, "dry_run": False}, headers=PLANNER
    )
    assert applied.status_code == 200, applied.text

    # Reps read their own goals only; anything else does not exist for them.
    mine = (
        await stack.goals.get(f"/goals?parent_id={goal['id']}", headers=as_person(Role.REP, ann))
    ).json()
    assert [g["owner_id"] for g in mine["goals"]] == [ann]
    assert (
        await stack.goals.get(f"/goals/{goal['id']}", headers=as_person(Role.REP, ann))
    ).status_code == 404
    assert (await stack.goals.get(f"/goals/{goal['id']}", headers=manager)).status_code == 200
    assert (await stack.goals.get(f"/goals/{goal['id']}", headers=other_manager)).status_code == 404
    assert (
        await stack.goals.get(f"/goals/{goal['id']}", headers=bearer(Role.INTEGRATION))
    ).status_code == 404


async def test_bad_plans_are_refused_naming_the_field(stack: Stack) -> None:
    org = Org()
    await org.create(stack.goals)
    team = next(iter(org.reps))
    goal = await team_goal(stack, org, team)
    url = f"/goals/{goal['id']}/plans"
    for steps, field in [
        ([{"kind": "org", "floors": {"nobody": "5"}}], "steps.0.floors.nobody"),
        (
            [{"kind": "org", "method": "given", "weights": {org.reps[team][0]: "1"}}],
            f"steps.0.weights.{org.reps[team][1]}",
        ),
        ([{"kind": "org", "caps": {rep: "100" for rep in org.reps[team]}}], "steps.0.caps"),
        (
            [
                {
                    "kind": "time",
                    "grains": ["month"],
                    "profile": {"kind": "percentages", "months": MONTHS[:11]},
                }
            ],
            "steps.0",
        ),
        ([{"kind": "time", "grains": ["week", "month"]}], "steps.0"),
        ([{"kind": "org", "method": "blend"}], "steps.0.alpha"),
    ]:
        response = await stack.goals.post(url, json={"steps": steps}, headers=PLANNER)
        assert response.status_code == 422, (steps, response.text)
        assert response.json()["field"] == field, response.text
    unknown = await stack.goals.post(url, json={"steps": [{"kind": "guess"}]}, headers=PLANNER)
    assert unknown.status_code == 422


async def test_product_lines_and_growth_levers(stack: Stack) -> None:
    org = Org()
    await org.create(stack.goals)
    team = next(iter(org.reps))
    for line, maturity in ((f"core-{org.tag}", "mature"), (f"new-{org.tag}", "new")):
        await put(stack.goals, f"/product-lines/{line}", {"name": line, "maturity": maturity})
    goal = await team_goal(stack, org, team)
    steps = [
        {
            "kind": "product_line",
            "method": "given",
            "lines": [f"core-{org.tag}", f"new-{org.tag}"],
            "weights": {f"core-{org.tag}": "3", f"new-{org.tag}": "1"},
        }
    ]
    split = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": steps}, headers=PLANNER
    )
    assert split.status_code == 200, split.text
    assert {c["product_line"]: Decimal(c["target"]) for c in split.json()["changes"]} == {
        f"core-{org.tag}": Decimal(750_000),
        f"new-{org.tag}": Decimal(250_000),
    }

    # Last year the team sold three times as much of the core line: history says 3:1 too.
    rep = org.reps[team][0]
    deals = [
        {
            "id": f"D-{uuid4().hex[:10]}",
            "version": 1,
            "stage": "won",
            "amount": amount,
            "currency": "CNY",
            "owner_id": rep,
            "closed_on": "2025-05-05",
            "product_line": line,
        }
        for line, amount in ((f"core-{org.tag}", "30000"), (f"new-{org.tag}", "10000"))
    ]
    sent = await stack.tracking.post(
        "/sources/crm/batch", json={"deals": deals}, headers=INTEGRATION
    )
    assert sent.status_code == 200, sent.text
    await until(
        stack.tracking,
        f"/org-units/{team}/statistics?start=2025-01-01&end=2025-12-31",
        lambda body: len(body["by_product_line"]) == 2,
    )
    by_history = [{**steps[0], "method": "history", "weights": None}]
    split = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": by_history}, headers=PLANNER
    )
    assert split.status_code == 200, split.text
    assert {c["product_line"]: Decimal(c["target"]) for c in split.json()["changes"]} == {
        f"core-{org.tag}": Decimal(750_000),
        f"new-{org.tag}": Decimal(250_000),
    }

    manager = org.manager(team)
    drivers = [
        {
            "metric": "leads_created",
            "baseline": "1000",
            "target": "1200",
            "owner_id": org.reps[team][0],
        },
        {"metric": "lead_conversion", "baseline": "0.25", "owner_id": org.reps[team][1]},
        {"metric": "avg_deal_size", "baseline": "2000", "target": "2500", "owner_id": manager},
    ]
    levers = await stack.goals.post(
        f"/goals/{goal['id']}/plans",
        json={"steps": [{"kind": "levers", "mode": "solve", "drivers": drivers}], "dry_run": False},
        headers=PLANNER,
    )
    assert levers.status_code == 200, levers.text
    made = {c["metric"]: c for c in levers.json()["changes"]}
    assert Decimal(made["lead_conversion"]["target"]) == Decimal("0.3333")
    assert made["lead_conversion"]["owner_id"] == org.reps[team][1]
    assert all(c["parent_id"] == goal["id"] for c in made.values())


async def test_a_funnel_is_derived_from_history_and_borrows_the_parents_rates(stack: Stack) -> None:
    org = Org()
    await org.create(stack.goals)
    teams = list(org.reps)
    seller, newcomer = org.reps[teams[0]][0], org.reps[teams[1]][0]
    # Last year, team n1: 10 won of 20 opportunities at 10,000 after 30 days;
    # 40 leads and 100 activities.
    deals = [
        {
            "id": f"D-{uuid4().hex[:10]}",
            "version": 1,
            "stage": "won" if i < 10 else "lost",
            "amount": "10000",
            "currency": "CNY",
            "owner_id": seller,
            "created_on": "2025-03-01",
            "closed_on": "2025-03-31",
        }
        for i in range(20)
    ]
    leads = [
        {
            "id": f"L-{uuid4().hex[:10]}",
            "version": 1,
            "owner_id": seller,
            "created_on": "2025-02-01",
        }
        for _ in range(40)
    ]
    activities = [
        {
            "id": f"A-{uuid4().hex[:10]}",
            "version": 1,
            "owner_id": seller,
            "occurred_on": "2025-03-10",
        }
        for _ in range(100)
    ]
    response = await stack.tracking.post(
        "/sources/crm/batch",
        json={"deals": deals, "leads": leads, "activities": activities},
        headers=INTEGRATION,
    )
    assert response.status_code == 200, response.text
    north = next(iter(org.regions))
    await until(
        stack.tracking,
        f"/org-units/{north}/statistics?start=2025-01-01&end=2025-12-31",
        lambda body: (
            body["rates"]["activities_per_opportunity"]["value"] is not None
            and Decimal(body["rates"]["activities_per_opportunity"]["value"]) == 5
        ),
    )
    response = await stack.goals.post(
        "/goals",
        json={
            "metric": "revenue",
            "org_unit_id": teams[1],
            "person_id": newcomer,
            "owner_id": newcomer,
            "period_key": "FY2026-Q2",
            "target": "200000",
        },
        headers=PLANNER,
    )
    goal = response.json()["goal"]
    steps = [
        {
            "kind": "funnel",
            "min_deals": 5,
            "process_goals": "always",
            "grains": ["month"],
            "reference": {"start": "2025-01-01", "end": "2025-12-31"},
        }
    ]
    plan = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": steps, "dry_run": False}, headers=PLANNER
    )
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert any(f"used {north}" in note or north in note for note in body["summary"]["notes"]), body[
        "summary"
    ]
    derived = {c["metric"]: c for c in body["changes"] if c["derived_from_id"] == goal["id"]}
    assert {m: Decimal(c["target"]) for m, c in derived.items()} == {
        "deals_won": Decimal(20),
        "opportunities_created": Decimal(40),
        "leads_created": Decimal(80),
        "activities": Decimal(200),
    }
    assert derived["deals_won"]["period"]["start"] == "2026-04-01"
    assert derived["leads_created"]["period"]["start"] == "2026-03-02", "30 days earlier"
    months = [c for c in body["changes"] if c["parent_id"] == derived["leads_created"]["goal_id"]]
    assert sum(Decimal(c["target"]) for c in months) == Decimal(80)


async def rename(stack: Stack, org: Org, team: str, names: dict[str, str]) -> None:
    """Give the team and its reps names that are not their ids."""
    region = next(r for r, teams in org.regions.items() if team in teams)
    await put(
        stack.goals,
        f"/org-units/{team}",
        {"name": names[team], "kind": "team", "parent_id": region, "manager_id": org.manager(team)},
    )
    for rep in org.reps[team]:
        await put(
            stack.goals,
            f"/people/{rep}",
            {"name": names[rep], "org_unit_id": team, "member_since": "2024-01-01"},
        )


async def test_a_split_that_fell_back_says_so_in_each_goal_naming_people_and_units(
    stack: Stack,
) -> None:
    org = Org()
    await org.create(stack.goals)
    team = next(iter(org.reps))
    ann, bob = org.reps[team]
    names = {team: "North One", ann: "Ann Lee", bob: "Bob Ma"}
    await rename(stack, org, team, names)
    goal = await team_goal(stack, org, team)
    # Nobody in the team sold anything last year: history falls back to equal
    # shares, last year's months to calendar days.
    steps = [
        {"kind": "org", "method": "history"},
        {"kind": "time", "grains": ["quarter"], "profile": {"kind": "last_year"}},
    ]
    plan = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": steps, "dry_run": False}, headers=PLANNER
    )
    assert plan.status_code == 200, plan.text
    body = plan.json()
    reps = [c for c in body["changes"] if c["parent_id"] == goal["id"]]
    assert {c["person_id"] for c in reps} == {ann, bob}
    for change in reps:
        person = change["person_id"]
        assert "split equally" in change["explanation"], change["explanation"]
        assert f"{names[person]} ({person})" in change["explanation"], change["explanation"]
    quarters = [c for c in body["changes"] if c["period"]["key"] == "FY2026-Q1"]
    assert len(quarters) == 2
    for change in quarters:
        assert "calendar days" in change["explanation"], change["explanation"]
    # The goals keep it as their rationale.
    written = await stack.goals.get(f"/goals/{reps[0]['goal_id']}", headers=PLANNER)
    assert "split equally" in written.json()["rationale"]
    # The notes name the team and the reps by name too.
    notes = body["summary"]["notes"]
    team_note = f"{goal['id']}: North One ({team}): "
    assert any(n.startswith(team_note) and "split equally" in n for n in notes), notes
    assert any(f"Ann Lee ({ann})" in note and "calendar days" in note for note in notes), notes


async def test_children_split_with_a_stretch_add_up_for_the_smart_check(stack: Stack) -> None:
    org = Org()
    await org.create(stack.goals)
    team = next(iter(org.reps))
    goal = await team_goal(stack, org, team)
    steps = [{"kind": "org", "method": "equal", "stretch": "1.1"}]
    plan = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": steps, "dry_run": False}, headers=PLANNER
    )
    assert plan.status_code == 200, plan.text
    assert sorted(Decimal(c["target"]) for c in plan.json()["changes"]) == [550_000, 550_000]
    # Each change says the stretch it was made with (the dashboard's preview adds them up).
    said = [(Decimal(c["stretch"]), Decimal(c["unit"])) for c in plan.json()["changes"]]
    assert said == [(Decimal("1.1"), 1)] * 2
    changed = await stack.goals.patch(
        f"/goals/{goal['id']}", json={"rationale": "two new accounts"}, headers=PLANNER
    )
    assert changed.status_code == 200, changed.text
    codes = [w["code"] for w in changed.json()["warnings"]]
    assert "children_do_not_add_up" not in codes, changed.json()["warnings"]
    # The target moves and the children stay: now they do not add up.
    retargeted = await stack.goals.patch(
        f"/goals/{goal['id']}", json={"target": "1200000", "reason": "more"}, headers=PLANNER
    )
    assert retargeted.status_code == 200, retargeted.text
    warned = {w["code"]: w["message"] for w in retargeted.json()["warnings"]}
    assert "children_do_not_add_up" in warned, warned
    assert "1320000" in warned["children_do_not_add_up"], warned


async def test_reconciliation_results_are_fields(stack: Stack) -> None:
    org = Org()
    await org.create(stack.goals)
    team = next(iter(org.reps))
    ann, bob = org.reps[team]
    goal = await team_goal(stack, org, team)
    response = await stack.goals.put(
        f"/goals/{goal['id']}/proposals/{ann}", json={"value": "200000"}, headers=PLANNER
    )
    assert response.status_code == 200, response.text
    # Bob proposed nothing: his top-down share of 500,000 counts as his proposal.
    # The gap of 300,000 goes half to each: Ann ends 75% above her proposal,
    # over the 50% threshold; Bob 30% above his share.
    steps = [{"kind": "reconcile", "policy": "gap_by_weight", "threshold": "0.5"}]
    plan = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": steps}, headers=PLANNER
    )
    assert plan.status_code == 200, plan.text
    lines = {c["person_id"]: c["reconciliation"] for c in plan.json()["changes"]}

    def number(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    assert {
        rep: (
            number(line["proposal"]),
            number(line["top_down"]),
            number(line["final"]),
            line["negotiate"],
        )
        for rep, line in lines.items()
    } == {
        ann: (Decimal(200_000), Decimal(500_000), Decimal(350_000), True),
        bob: (None, Decimal(500_000), Decimal(650_000), False),
    }


async def team_history(stack: Stack, seller: str) -> None:
    """Last year's Q2 for the seller's team: 20 won of 40 opportunities at
    10,000 after 30 days, 80 leads and 200 activities."""
    deals = [
        {
            "id": f"D-{uuid4().hex[:10]}",
            "version": 1,
            "stage": "won" if i < 20 else "lost",
            "amount": "10000",
            "currency": "CNY",
            "owner_id": seller,
            "created_on": "2025-04-20",
            "closed_on": "2025-05-20",
        }
        for i in range(40)
    ]
    leads = [
        {
            "id": f"L-{uuid4().hex[:10]}",
            "version": 1,
            "owner_id": seller,
            "created_on": "2025-04-10",
        }
        for _ in range(80)
    ]
    activities = [
        {
            "id": f"A-{uuid4().hex[:10]}",
            "version": 1,
            "owner_id": seller,
            "occurred_on": "2025-05-01",
        }
        for _ in range(200)
    ]
    response = await stack.tracking.post(
        "/sources/crm/batch",
        json={"deals": deals, "leads": leads, "activities": activities},
        headers=INTEGRATION,
    )
    assert response.status_code == 200, response.text


async def quarter_goal(stack: Stack, org: Org, team: str) -> dict[str, Any]:
    response = await stack.goals.post(
        "/goals",
        json={
            "metric": "revenue",
            "org_unit_id": team,
            "owner_id": org.manager(team),
            "period_key": "FY2026-Q2",
            "target": "200000",
        },
        headers=PLANNER,
    )
    assert response.status_code == 201, response.text
    return response.json()["goal"]  # type: ignore[no-any-return]


async def test_a_funnel_on_a_team_goal_derives_the_teams_process_goals(stack: Stack) -> None:
    org = Org()
    await org.create(stack.goals)
    team = next(iter(org.reps))
    await team_history(stack, org.reps[team][0])
    await until(
        stack.tracking,
        f"/org-units/{team}/statistics?start=2025-04-01&end=2025-06-30",
        lambda body: (
            body["rates"]["activities_per_opportunity"]["value"] is not None
            and Decimal(body["rates"]["activities_per_opportunity"]["value"]) == 5
        ),
    )
    goal = await quarter_goal(stack, org, team)
    plan = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": [{"kind": "funnel"}]}, headers=PLANNER
    )
    assert plan.status_code == 200, plan.text
    derived = {
        c["metric"]: Decimal(c["target"])
        for c in plan.json()["changes"]
        if c["derived_from_id"] == goal["id"]
    }
    assert derived == {
        "deals_won": Decimal(20),
        "opportunities_created": Decimal(40),
        "leads_created": Decimal(80),
        "activities": Decimal(200),
    }


async def test_a_funnel_for_a_new_market_takes_given_rates_and_asks_for_them(
    stack: Stack,
) -> None:
    org = Org()
    await org.create(stack.goals)
    team = list(org.reps)[-1]  # nobody anywhere in the org has sold anything
    goal = await quarter_goal(stack, org, team)
    url = f"/goals/{goal['id']}/plans"
    refused = await stack.goals.post(url, json={"steps": [{"kind": "funnel"}]}, headers=PLANNER)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["field"] == "steps.0.rates", problem
    for name in ("avg_deal_size", "win_rate", "lead_conversion", "activities_per_opportunity"):
        assert name in problem["detail"], problem
    rates = {
        "avg_deal_size": "20000",
        "win_rate": "0.25",
        "lead_conversion": "0.5",
        "activities_per_opportunity": "4",
        "sales_cycle_days": "14",
    }
    steps = [{"kind": "funnel", "grains": ["month"], "rates": rates}]
    plan = await stack.goals.post(url, json={"steps": steps}, headers=PLANNER)
    assert plan.status_code == 200, plan.text
    derived = {c["metric"]: c for c in plan.json()["changes"] if c["derived_from_id"]}
    assert {m: Decimal(c["target"]) for m, c in derived.items()} == {
        "deals_won": Decimal(10),
        "opportunities_created": Decimal(40),
        "leads_created": Decimal(80),
        "activities": Decimal(160),
    }
    assert derived["leads_created"]["period"]["start"] == "2026-03-18", "14 days earlier"
    assert "given" in derived["deals_won"]["explanation"], derived["deals_won"]["explanation"]
    bad = {**rates, "win_rate": "1.5"}
    refused = await stack.goals.post(
        url, json={"steps": [{"kind": "funnel", "rates": bad}]}, headers=PLANNER
    )
    assert refused.status_code == 422, refused.text


async def test_a_week_cut_at_a_month_end_is_found_by_its_key(stack: Stack) -> None:
    org = Org()
    await org.create(stack.goals)
    team = next(iter(org.reps))
    goal = await team_goal(stack, org, team)
    steps = [{"kind": "time", "grains": ["month", "week"], "profile": {"kind": "calendar_days"}}]
    plan = await stack.goals.post(
        f"/goals/{goal['id']}/plans", json={"steps": steps, "dry_run": False}, headers=PLANNER
    )
    assert plan.status_code == 200, plan.text
    found = await stack.goals.get(f"/goals?period_key=2026-W05&org_unit_id={team}", headers=PLANNER)
    assert found.status_code == 200, found.text
    parts = sorted((g["period_start"], g["period_end"]) for g in found.json()["goals"])
    assert parts == [("2026-01-26", "2026-01-31"), ("2026-02-01", "2026-02-01")]
