"""goal-service over HTTP with its database and broker: what planners do, the
events other services learn it from, and the errors a planner sees."""

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from attain_contracts import topics
from attain_devstack.testing import TEST_SECRET, bearer, migrate, running
from goal_service.main import create_app
from goal_service.settings import GoalSettings
from servicekit.auth import Role

pytestmark = pytest.mark.integration

PLANNER = bearer(Role.PLANNER, person_id="planner")


@pytest.fixture
async def client(fresh_database, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    url = fresh_database()
    await migrate("goal_service", url)
    settings = GoalSettings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings)) as client:
        yield client


async def org_with_rep(client: httpx.AsyncClient) -> tuple[str, str, str]:
    suffix = uuid4().hex[:6]
    company, team, rep = f"acme-{suffix}", f"east-{suffix}", f"rep-{suffix}"
    for unit, body in (
        (company, {"name": "Acme", "kind": "company"}),
        (team, {"name": "East", "kind": "team", "parent_id": company}),
    ):
        response = await client.put(f"/org-units/{unit}", json=body, headers=PLANNER)
        assert response.status_code == 200, response.text
    response = await client.put(
        f"/people/{rep}", json={"name": "Rep", "org_unit_id": team}, headers=PLANNER
    )
    assert response.status_code == 200, response.text
    return company, team, rep


async def test_org_people_and_goals_are_published(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    company, team, rep = await org_with_rep(client)
    unit = (await client.get(f"/org-units/{team}", headers=PLANNER)).json()
    assert unit["path"] == [company, team]

    response = await client.post(
        "/goals",
        json={
            "metric": "revenue",
            "org_unit_id": team,
            "person_id": rep,
            "owner_id": rep,
            "period_key": "2026-03",
            "target": "100000",
        },
        headers=PLANNER,
    )
    assert response.status_code == 201, response.text
    goal = response.json()["goal"]
    assert goal["currency"] == "CNY"
    assert (goal["period_start"], goal["period_end"]) == ("2026-03-01", "2026-03-31")

    seen = await events_about({company, team, rep, goal["id"]}, kafka_bootstrap, count=4)
    assert {e["type"] for e in seen} == {
        "attain.goal.OrgUnitUpserted.v1",
        "attain.goal.PersonUpserted.v1",
        "attain.goal.GoalUpserted.v1",
    }
    goal_event = next(e for e in seen if e["type"].endswith("GoalUpserted.v1"))["data"]
    assert goal_event["owner_id"] == rep and goal_event["target"] == "100000.00"


async def test_a_goal_writes_money_in_minor_units_and_a_count_whole(
    client: httpx.AsyncClient,
) -> None:
    _, team, rep = await org_with_rep(client)
    body = {"org_unit_id": team, "owner_id": rep, "period_key": "2026-03"}

    money = await client.post(
        "/goals", json={**body, "metric": "revenue", "target": "100000"}, headers=PLANNER
    )
    count = await client.post(
        "/goals", json={**body, "metric": "deals_won", "target": "12"}, headers=PLANNER
    )

    assert money.status_code == count.status_code == 201, (money.text, count.text)
    goal = money.json()["goal"]
    assert (goal["target"], goal["unit"], goal["currency"]) == ("100000.00", "1.00", "CNY")
    assert (count.json()["goal"]["target"], count.json()["goal"]["unit"]) == ("12", "1")
    history = await client.get(f"/goals/{goal['id']}/history", headers=PLANNER)
    assert history.json()["versions"][0]["target"] == "100000.00"


async def test_a_person_carries_an_owner_id_per_crm_source_and_publishes_them(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    _, team, rep = await org_with_rep(client)
    ids = {"hubspot-eu": "90210", "salesforce": "005Ax000001"}
    body = {"name": "Rep", "org_unit_id": team, "email": "rep@example.com", "crm_ids": ids}
    response = await client.put(f"/people/{rep}", json=body, headers=PLANNER)
    assert response.status_code == 200, response.text
    assert response.json()["crm_ids"] == ids
    # A change that leaves crm_ids out keeps them.
    renamed = {"name": "Rep Renamed", "org_unit_id": team, "email": "rep@example.com"}
    response = await client.put(f"/people/{rep}", json=renamed, headers=PLANNER)
    assert response.json()["crm_ids"] == ids
    read = await client.get(f"/people/{rep}", headers=PLANNER)
    assert read.json()["crm_ids"] == ids

    seen = await events_about({rep}, kafka_bootstrap, count=3)
    assert [e["data"].get("crm_ids") for e in seen] == [{}, ids, ids]
    refused = await client.put(
        f"/people/{rep}", json={**body, "crm_ids": {"": "1"}}, headers=PLANNER
    )
    assert refused.status_code == 422
    assert refused.json()["field"].startswith("crm_ids")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metric": "happiness"}, "metric"),
        ({"owner_id": "nobody"}, "owner_id"),
        ({"target": "0"}, "target"),
        ({"target": "-5"}, "target"),
        ({"period_key": "2026-13"}, "period_key"),
        ({"org_unit_id": "nowhere"}, "org_unit_id"),
        ({"owners": ["a", "b"]}, "owners"),
    ],
)
async def test_goals_that_fail_the_checks_are_422_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    _, team, rep = await org_with_rep(client)
    body = {"metric": "revenue", "org_unit_id": team, "owner_id": rep, "period_key": "2026-03"}
    response = await client.post("/goals", json={**body, "target": "10", **change}, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


async def test_a_child_goal_must_lie_within_its_parents_period(client: httpx.AsyncClient) -> None:
    _, team, rep = await org_with_rep(client)
    body = {"metric": "revenue", "org_unit_id": team, "owner_id": rep, "target": "10"}
    parent = (
        await client.post("/goals", json={**body, "period_key": "2026-03"}, headers=PLANNER)
    ).json()["goal"]
    inside = await client.post(
        "/goals",
        json={**body, "period_key": "2026-W10", "parent_id": parent["id"]},
        headers=PLANNER,
    )
    assert inside.status_code == 201, inside.text
    outside = await client.post(
        "/goals",
        json={**body, "period_key": "2026-W14", "parent_id": parent["id"]},
        headers=PLANNER,
    )
    assert outside.status_code == 422
    assert outside.json()["field"] == "period_key"


async def test_an_org_unit_cannot_be_moved_under_itself(client: httpx.AsyncClient) -> None:
    company, team, _ = await org_with_rep(client)
    response = await client.put(
        f"/org-units/{company}", json={"name": "Acme", "parent_id": team}, headers=PLANNER
    )
    assert response.status_code == 422
    assert response.json()["field"] == "parent_id"


async def test_a_units_members_are_listed_and_an_unknown_unit_is_404(
    client: httpx.AsyncClient,
) -> None:
    company, team, rep = await org_with_rep(client)
    members = await client.get(f"/org-units/{team}/members", headers=PLANNER)
    assert members.status_code == 200, members.text
    assert members.json()["data"] == [{"id": rep, "name": "Rep"}]
    assert (await client.get(f"/org-units/{company}/members", headers=PLANNER)).json()["data"] == []
    assert (await client.get("/org-units/nowhere/members", headers=PLANNER)).status_code == 404


async def test_only_planners_shape_plans(client: httpx.AsyncClient) -> None:
    body = {"name": "X", "kind": "team"}
    assert (await client.put("/org-units/x", json=body)).status_code == 401
    rep = bearer(Role.REP, person_id="r")
    assert (await client.put("/org-units/x", json=body, headers=rep)).status_code == 404
    assert (await client.get("/org-units/x", headers=PLANNER)).status_code == 404


async def events_about(keys: set[str], bootstrap: str, count: int) -> list[dict]:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(
        topics.ORG,
        topics.GOALS,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: list[dict] = []  # type: ignore[type-arg]
    try:
        async with asyncio.timeout(30):
            while len(seen) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    seen.extend(
                        json.loads(r.value) for r in records if r.key and r.key.decode() in keys
                    )
    finally:
        await consumer.stop()
    return seen


async def test_ready_metrics_and_the_correlation_id_travels_with_the_event(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}

    unit = f"corr-{uuid4().hex[:6]}"
    response = await client.put(
        f"/org-units/{unit}",
        json={"name": "Traced"},
        headers={**PLANNER, "X-Correlation-ID": f"trace-{unit}"},
    )
    assert response.headers["X-Correlation-ID"] == f"trace-{unit}"
    (event,) = await events_about({unit}, kafka_bootstrap, count=1)
    assert event["correlationid"] == f"trace-{unit}"

    exposition = (await client.get("/metrics")).text
    assert (
        'attain_events_published_total{service="goal-service",type="attain.goal.OrgUnitUpserted.v1"}'
        in exposition
    )
    assert 'route="/org-units/{org_unit_id}"' in exposition
    assert "attain_outbox_backlog" in exposition


async def test_a_target_change_is_a_version_and_an_archived_goal_stays_archived(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    _, team, rep = await org_with_rep(client)
    body = {"metric": "revenue", "org_unit_id": team, "person_id": rep, "owner_id": rep,
            "period_key": "2026-03", "target": "100000"}  # fmt: skip
    goal = (await client.post("/goals", json=body, headers=PLANNER)).json()["goal"]
    url = f"/goals/{goal['id']}"

    silent = await client.patch(url, json={"target": "120000"}, headers=PLANNER)
    assert silent.status_code == 422 and silent.json()["field"] == "reason"
    no_owner = await client.patch(url, json={"owner_id": None, "reason": "x"}, headers=PLANNER)
    assert no_owner.status_code == 422 and no_owner.json()["field"] == "owner_id"
    shared = await client.patch(url, json={"contributors": [rep]}, headers=PLANNER)
    assert shared.status_code == 422 and shared.json()["field"] == "contributors.0"
    raised = await client.patch(
        url, json={"target": "120000", "reason": "new key account"}, headers=PLANNER
    )
    assert raised.status_code == 200, raised.text
    assert raised.json()["goal"]["version"] == 2
    versions = (await client.get(f"{url}/history", headers=PLANNER)).json()["versions"]
    assert [(v["version"], v["fields"], v["reason"]) for v in versions] == [
        (1, ["created"], "created"),
        (2, ["target"], "new key account"),
    ]
    assert (Decimal(versions[1]["previous_target"]), Decimal(versions[1]["target"])) == (
        100_000,
        120_000,
    )
    assert versions[1]["changed_by"] == "planner"

    archived = await client.post(
        f"{url}/archive", json={"status": "cancelled", "reason": "territory sold"}, headers=PLANNER
    )
    assert archived.status_code == 200 and archived.json()["status"] == "cancelled"
    later = await client.patch(url, json={"target": "1", "reason": "x"}, headers=PLANNER)
    assert later.status_code == 409
    seen = await events_about({goal["id"]}, kafka_bootstrap, count=3)
    assert [e["type"].split(".")[2] for e in seen] == [
        "GoalUpserted",
        "GoalUpserted",
        "GoalArchived",
    ]
    assert seen[-1]["data"]["reason"] == "territory sold"


async def test_the_metrics_catalog_says_how_each_metric_adds_up(client: httpx.AsyncClient) -> None:
    catalog = {
        m["key"]: m for m in (await client.get("/catalog/metrics", headers=PLANNER)).json()["data"]
    }
    assert catalog["revenue"] == {
        "key": "revenue",
        "kind": "sum",
        "money": True,
        "direction": "higher_is_better",
    }
    assert catalog["sales_cycle_days"]["direction"] == "lower_is_better"
    assert catalog["win_rate"]["kind"] == "ratio"


async def test_a_reps_goal_list_pages_through_their_own_goals_only(
    client: httpx.AsyncClient,
) -> None:
    """The cursor was the last id of the unfiltered page: a rep paging their list
    was handed another rep's goal ids."""
    _, team, ann = await org_with_rep(client)
    bob = f"bob-{uuid4().hex[:6]}"
    response = await client.put(
        f"/people/{bob}", json={"name": "Bob", "org_unit_id": team}, headers=PLANNER
    )
    assert response.status_code == 200, response.text
    owned: dict[str, set[str]] = {ann: set(), bob: set()}
    for person in (ann, bob):
        for month in ("2026-01", "2026-02", "2026-03"):
            created = await client.post(
                "/goals",
                json={
                    "metric": "revenue",
                    "org_unit_id": team,
                    "person_id": person,
                    "owner_id": person,
                    "period_key": month,
                    "target": "1000",
                },
                headers=PLANNER,
            )
            assert created.status_code == 201, created.text
            owned[person].add(created.json()["goal"]["id"])

    seen, cursors, after = set(), set(), None
    rep = bearer(Role.REP, person_id=ann)
    for _ in range(10):
        params = {"limit": "1", **({"after": after} if after else {})}
        page = (await client.get("/goals", params=params, headers=rep)).json()
        assert page["count"] == 3
        seen |= {g["id"] for g in page["data"]}
        after = page["next_after"]
        if after is None:
            break
        cursors.add(after)
    assert seen == owned[ann]
    assert not cursors & owned[bob], "the cursor names bob's goal"


async def test_a_persons_record_is_read_by_them_and_the_managers_above_them(
    client: httpx.AsyncClient,
) -> None:
    """Every rep read every colleague's e-mail and memberships by id."""
    company, team, ann = await org_with_rep(client)
    lead, bob = f"lead-{uuid4().hex[:6]}", f"bob-{uuid4().hex[:6]}"
    for person, unit in ((lead, company), (bob, team)):
        response = await client.put(
            f"/people/{person}", json={"name": person, "org_unit_id": unit}, headers=PLANNER
        )
        assert response.status_code == 200, response.text
    response = await client.put(
        f"/org-units/{team}",
        json={"name": "East", "kind": "team", "parent_id": company, "manager_id": lead},
        headers=PLANNER,
    )
    assert response.status_code == 200, response.text
    for headers, status in (
        (bearer(Role.REP, person_id=ann), 200),
        (bearer(Role.MANAGER, person_id=lead), 200),
        (bearer(Role.VIEWER, person_id="viewer"), 200),
        (bearer(Role.REP, person_id=bob), 404),
        (bearer(Role.MANAGER, person_id=bob), 404),
    ):
        assert (await client.get(f"/people/{ann}", headers=headers)).status_code == status


async def test_a_capacity_split_counts_the_people_who_carry_a_quota(
    client: httpx.AsyncClient,
) -> None:
    """A manager in the team they manage carries no quota unless marked as carrying one."""
    tag = uuid4().hex[:6]
    company, east, west = f"co-{tag}", f"east-{tag}", f"west-{tag}"
    boss, lead_e, lead_w = f"boss-{tag}", f"lead-e-{tag}", f"lead-w-{tag}"

    async def put(url: str, body: dict[str, object]) -> None:
        response = await client.put(url, json=body, headers=PLANNER)
        assert response.status_code == 200, response.text

    def person(unit: str, since: str, **more: object) -> dict[str, object]:
        return {"name": "P", "org_unit_id": unit, "member_since": since, **more}

    await put(f"/org-units/{company}", {"name": "Co", "kind": "company"})
    for someone in (boss, lead_e, lead_w):
        await put(f"/people/{someone}", person(company, "2024-01-01"))
    for unit, lead in ((east, lead_e), (west, lead_w)):
        body = {"name": unit, "kind": "team", "parent_id": company, "manager_id": lead}
        await put(f"/org-units/{unit}", body)
    # east's lead works in east; west's stays in the company above it.
    await put(f"/people/{lead_e}", person(east, "2025-01-01"))
    for rep, unit in ((f"e1-{tag}", east), (f"w1-{tag}", west)):
        await put(f"/people/{rep}", person(unit, "2024-01-01"))
    created = await client.post(
        "/goals",
        json={
            "metric": "revenue",
            "org_unit_id": company,
            "owner_id": boss,
            "period_key": "FY2026",
            "target": "1000",
        },
        headers=PLANNER,
    )
    assert created.status_code == 201, created.text
    root = created.json()["goal"]["id"]

    async def split() -> dict[str, Decimal]:
        applied = await client.post(
            f"/goals/{root}/plans",
            json={"steps": [{"kind": "org", "method": "capacity"}], "dry_run": False},
            headers=PLANNER,
        )
        assert applied.status_code == 200, applied.text
        children = await client.get(f"/goals?parent_id={root}", headers=PLANNER)
        return {g["org_unit_id"]: Decimal(g["target"]) for g in children.json()["data"]}

    # One rep each: east's lead carries no quota.
    assert await split() == {east: Decimal(500), west: Decimal(500)}
    await put(f"/people/{lead_e}", person(east, "2025-01-01", carries_quota=True))
    marked = (await client.get(f"/people/{lead_e}", headers=PLANNER)).json()
    assert marked["carries_quota"] is True
    assert await split() == {east: Decimal(667), west: Decimal(333)}
