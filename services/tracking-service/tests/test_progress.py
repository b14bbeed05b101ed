"""Live progress across the process boundary: the directory and goals from
goal-service's events, deals through the API, the projector folding the ledger
into goals, `GoalProgressUpdated` on the broker, who may read what, the
statistics for planning, and the rebuild that checks it all against the ledger."""

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from attain_contracts import GoalUpserted, OrgUnitUpserted, Period, PersonUpserted, topics
from attain_contracts.types import Membership
from attain_devstack.testing import TEST_SECRET, bearer, migrate, publish, running
from servicekit.auth import Role
from tracking_service.cli.rebuild import rebuild
from tracking_service.main import create_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN, person_id="admin")
INTEGRATION = bearer(Role.INTEGRATION)
MARCH = Period(key="2026-03", start=date(2026, 3, 1), end=date(2026, 3, 31))
AS_OF = "2026-03-31T12:00:00Z"


class Org:
    """A company with two teams and a rep in each, named uniquely per test."""

    def __init__(self) -> None:
        tag = uuid4().hex[:6]
        self.company, self.east, self.west = f"co-{tag}", f"east-{tag}", f"west-{tag}"
        self.ann, self.bob = f"ann-{tag}", f"bob-{tag}"
        self.boss, self.east_manager = f"boss-{tag}", f"em-{tag}"

    def units(self) -> list[OrgUnitUpserted]:
        now = datetime.now(UTC)
        return [
            OrgUnitUpserted(
                org_unit_id=unit,
                name=unit,
                kind=kind,
                parent_id=path[-2] if len(path) > 1 else None,
                manager_id=manager,
                path=path,
                version=1,
                updated_at=now,
            )
            for unit, kind, path, manager in [
                (self.company, "company", [self.company], self.boss),
                (self.east, "team", [self.company, self.east], self.east_manager),
                (self.west, "team", [self.company, self.west], None),
            ]
        ]

    def person(self, person_id: str, unit: str, version: int = 1) -> PersonUpserted:
        return PersonUpserted(
            person_id=person_id,
            name=person_id,
            maturity="experienced",
            memberships=[Membership(org_unit_id=unit, valid_from=date(2025, 1, 1))],
            version=version,
            updated_at=datetime.now(UTC),
        )


def goal(
    org_unit_id: str,
    owner_id: str,
    *,
    person_id: str | None = None,
    metric: str = "revenue",
    target: str = "100000",
    parent_id: str | None = None,
    period: Period = MARCH,
) -> GoalUpserted:
    return GoalUpserted(
        goal_id=f"g-{uuid4().hex[:8]}",
        parent_id=parent_id,
        metric=metric,
        direction="higher_is_better",
        org_unit_id=org_unit_id,
        person_id=person_id,
        owner_id=owner_id,
        period=period,
        timezone="Asia/Shanghai",
        target=Decimal(target),
        currency="CNY" if metric == "revenue" else None,
        status="active",
        method="manual",
        version=1,
        updated_at=datetime.now(UTC),
    )


def deal(owner: str, amount: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"D-{uuid4().hex[:10]}",
        "version": 1,
        "stage": "won",
        "amount": amount,
        "currency": "CNY",
        "owner_id": owner,
        "created_on": "2026-02-20",
        "closed_on": "2026-03-10",
        **fields,
    }


@pytest.fixture(scope="module")
def database(module_database: str) -> str:
    return module_database


@pytest.fixture(scope="module")
async def client(database: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    await migrate("tracking_service", database)
    settings = TrackingSettings(
        database_url=database,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings)) as client:
        response = await client.put("/sources/crm", json={"name": "CRM"}, headers=ADMIN)
        assert response.status_code == 200, response.text
        yield client


async def batch(client: httpx.AsyncClient, **records: list[dict[str, Any]]) -> dict[str, Any]:
    response = await client.post("/sources/crm/batch", json=records, headers=INTEGRATION)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def until(
    client: httpx.AsyncClient,
    url: str,
    holds: Callable[[dict[str, Any]], bool],
    seconds: float = 30,
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + seconds
    last: httpx.Response | None = None
    while asyncio.get_running_loop().time() < deadline:
        last = await client.get(url, headers=ADMIN)
        if last.status_code == 200 and holds(last.json()):
            return last.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never held; last: {last and last.text}")


async def live(client: httpx.AsyncClient, goal_id: str, actual: str) -> dict[str, Any]:
    """The goal in the live list (the projector's figures) once its actual is `actual`."""
    body = await until(
        client,
        "/progress?limit=1000&on=2026-03-10",
        lambda b: any(
            g["goal_id"] == goal_id and Decimal(g["actual"]) == Decimal(actual) for g in b["data"]
        ),
    )
    return next(g for g in body["data"] if g["goal_id"] == goal_id)


async def setup(kafka_bootstrap: str, org: Org, *events: Any) -> None:
    await publish(kafka_bootstrap, *org.units(), *events)


async def test_team_and_rep_goals_count_their_deals_once_each(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    team = goal(org.east, org.east_manager)
    company = goal(org.company, org.boss, target="500000")
    rep = goal(org.east, org.ann, person_id=org.ann)
    await setup(kafka_bootstrap, org, org.person(org.ann, org.east), team, company, rep)
    await until(client, f"/goals/{rep.goal_id}/progress?as_of={AS_OF}", lambda _: True)

    await batch(client, deals=[deal(org.ann, "30000"), deal(org.ann, "20000.50")])

    for g, attainment in [(rep, "0.5000"), (team, "0.5000"), (company, "0.1000")]:
        body = await live(client, g.goal_id, "50000.50")
        assert body["attainment"] == attainment
    exact = await client.get(f"/goals/{team.goal_id}/progress?as_of={AS_OF}", headers=ADMIN)
    assert Decimal(exact.json()["actual"]) == Decimal("50000.50")


async def test_progress_writes_money_counts_and_ratios_one_way(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    money = goal(org.east, org.ann, person_id=org.ann)
    count = goal(org.east, org.ann, person_id=org.ann, metric="deals_won", target="4")
    await setup(kafka_bootstrap, org, org.person(org.ann, org.east), money, count)
    await until(client, f"/goals/{count.goal_id}/progress?as_of={AS_OF}", lambda _: True)

    await batch(client, deals=[deal(org.ann, "30000"), deal(org.ann, "20000")])

    written = await live(client, money.goal_id, "50000")
    assert (written["actual"], written["target"], written["attainment"]) == (
        "50000.00",
        "100000.00",
        "0.5000",
    )
    assert re.fullmatch(r"\d+\.\d{2}", written["expected_to_date"]), written
    assert re.fullmatch(r"\d+\.\d{4}", written["pace"]), written
    counted = await live(client, count.goal_id, "2")
    assert (counted["actual"], counted["target"], counted["attainment"]) == ("2", "4", "0.5000")
    series = await client.get(f"/goals/{money.goal_id}/series?as_of={AS_OF}", headers=ADMIN)
    assert series.json()["points"][-1]["actual"] == "50000.00"


async def test_a_goal_created_mid_period_starts_with_the_ledger(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    await setup(kafka_bootstrap, org, org.person(org.bob, org.west))
    probe = goal(org.west, org.bob, person_id=org.bob)
    await publish(kafka_bootstrap, probe)
    await until(client, f"/goals/{probe.goal_id}/progress?as_of={AS_OF}", lambda _: True)
    await batch(client, deals=[deal(org.bob, "7000")])
    await live(client, probe.goal_id, "7000")

    late = goal(org.west, org.boss)
    await publish(kafka_bootstrap, late)
    assert (await live(client, late.goal_id, "7000"))["metric"] == "revenue"


async def test_many_goals_heard_of_at_once_each_start_with_their_own_ledger_rows(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    """A plan's goals arrive by the thousand in one batch: each is counted from the rows
    of its own scope (person or subtree, product line, metric, ratio), and a goal moved
    to another scope is counted again."""
    org = Org()
    await setup(kafka_bootstrap, org, org.person(org.ann, org.east), org.person(org.bob, org.west))
    probe = goal(org.west, org.bob, person_id=org.bob)
    await publish(kafka_bootstrap, probe)
    await until(client, f"/goals/{probe.goal_id}/progress?as_of={AS_OF}", lambda _: True)
    await batch(
        client,
        deals=[
            deal(org.ann, "3000", product_line="A"),
            deal(org.ann, "2000", product_line="B"),
            deal(org.bob, "7000"),
            deal(org.bob, "500", stage="lost"),
        ],
    )
    await live(client, probe.goal_id, "7000")

    ann_a = goal(org.east, org.ann, person_id=org.ann).model_copy(update={"product_line": "A"})
    ann = goal(org.east, org.ann, person_id=org.ann)
    east = goal(org.east, org.east_manager)
    company = goal(org.company, org.boss)
    rate = goal(org.west, org.bob, person_id=org.bob, metric="win_rate", target="0.5")
    expected = {
        ann_a.goal_id: "3000",
        ann.goal_id: "5000",
        east.goal_id: "5000",
        company.goal_id: "12000",
        rate.goal_id: "0.5",
    }
    await publish(kafka_bootstrap, ann_a, ann, east, company, rate)
    for goal_id, actual in expected.items():
        await live(client, goal_id, actual)

    moved = ann_a.model_copy(update={"product_line": "B", "version": 2})
    await publish(kafka_bootstrap, moved)
    await live(client, moved.goal_id, "2000")


async def test_live_progress_and_progress_without_as_of_agree_on_a_credit_dated_after_today(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    around_today = Period(start=today - timedelta(days=5), end=today + timedelta(days=20))
    rep = goal(org.east, org.ann, person_id=org.ann, period=around_today)
    await setup(kafka_bootstrap, org, org.person(org.ann, org.east), rep)
    await until(client, f"/goals/{rep.goal_id}/progress", lambda _: True)

    await batch(
        client,
        deals=[
            deal(org.ann, "100", created_on=None, closed_on=str(today - timedelta(days=1))),
            deal(org.ann, "50", created_on=None, closed_on=str(today + timedelta(days=3))),
        ],
    )

    listed = await until(
        client,
        f"/progress?owner_id={org.ann}",
        lambda b: any(
            g["goal_id"] == rep.goal_id and Decimal(g["actual"]) == 150 for g in b["data"]
        ),
    )
    (live_figures,) = [g for g in listed["data"] if g["goal_id"] == rep.goal_id]
    read = await client.get(f"/goals/{rep.goal_id}/progress", headers=ADMIN)
    assert read.status_code == 200, read.text
    assert Decimal(live_figures["actual"]) == Decimal(read.json()["actual"]) == Decimal(150)
    assert live_figures["attainment"] == read.json()["attainment"]


async def test_a_person_heard_of_late_moves_their_credits_to_their_team(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    team = goal(org.east, org.east_manager)
    await setup(kafka_bootstrap, org, team)
    await until(client, f"/goals/{team.goal_id}/progress?as_of={AS_OF}", lambda _: True)
    sent = deal(org.ann, "4000")
    await batch(client, deals=[sent])
    history = await until(
        client, f"/sources/crm/deals/{sent['id']}/history", lambda b: bool(b["ledger"])
    )
    assert {tuple(row["org_path"]) for row in history["ledger"]} == {()}

    await publish(kafka_bootstrap, org.person(org.ann, org.east))
    await live(client, team.goal_id, "4000")
    history = (await client.get(f"/sources/crm/deals/{sent['id']}/history", headers=ADMIN)).json()
    repathed = [row for row in history["ledger"] if row["reason"] == "repathed"]
    assert {tuple(row["org_path"]) for row in repathed} == {(), (org.company, org.east)}


async def test_a_ratio_goal_reads_numerator_and_denominator(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    win_rate = goal(org.west, org.bob, person_id=org.bob, metric="win_rate", target="0.5")
    await setup(kafka_bootstrap, org, org.person(org.bob, org.west), win_rate)
    await until(client, f"/goals/{win_rate.goal_id}/progress?as_of={AS_OF}", lambda _: True)
    await batch(
        client,
        deals=[deal(org.bob, "100"), deal(org.bob, "100", stage="lost")]
        + [deal(org.bob, "100", stage="lost") for _ in range(2)],
    )
    body = await live(client, win_rate.goal_id, "0.25")
    assert (Decimal(body["numerator"]), Decimal(body["denominator"])) == (1, 4)
    assert body["pace"] == "0.5000"


async def test_one_progress_event_per_goal_per_batch(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    rep = goal(org.east, org.ann, person_id=org.ann)
    await setup(kafka_bootstrap, org, org.person(org.ann, org.east), rep)
    await until(client, f"/goals/{rep.goal_id}/progress?as_of={AS_OF}", lambda _: True)
    await batch(client, deals=[deal(org.ann, "10") for _ in range(50)])
    await live(client, rep.goal_id, "500")

    events = await _progress_events(kafka_bootstrap, rep.goal_id, settle_on=Decimal(500))
    after_batch = [e for e in events if Decimal(e["actual"]) != 0]
    assert [Decimal(e["actual"]) for e in after_batch] == [Decimal(500)]
    assert after_batch[0]["person_id"] == org.ann
    assert after_batch[0]["timezone"] == "Asia/Shanghai"


async def test_reps_see_their_own_and_managers_their_subtree(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    ann_goal = goal(org.east, org.ann, person_id=org.ann)
    bob_goal = goal(org.west, org.bob, person_id=org.bob)
    east_goal = goal(org.east, org.east_manager)
    await setup(
        kafka_bootstrap,
        org,
        org.person(org.ann, org.east),
        org.person(org.bob, org.west),
        ann_goal,
        bob_goal,
        east_goal,
    )
    for g in (ann_goal, bob_goal, east_goal):
        await until(client, f"/goals/{g.goal_id}/progress?as_of={AS_OF}", lambda _: True)

    async def visible(headers: dict[str, str]) -> set[str]:
        body = (await client.get(f"/progress?org_unit_id={org.company}", headers=headers)).json()
        return {g["goal_id"] for g in body["data"]}

    assert await visible(bearer(Role.REP, person_id=org.ann)) == {ann_goal.goal_id}
    assert await visible(bearer(Role.MANAGER, person_id=org.east_manager)) == {
        ann_goal.goal_id,
        east_goal.goal_id,
    }
    assert await visible(bearer(Role.PLANNER, person_id="p")) == {
        ann_goal.goal_id,
        bob_goal.goal_id,
        east_goal.goal_id,
    }
    one = f"/goals/{bob_goal.goal_id}/progress"
    assert (await client.get(one, headers=bearer(Role.REP, person_id=org.bob))).status_code == 200
    assert (await client.get(one, headers=bearer(Role.REP, person_id=org.ann))).status_code == 404
    manager = bearer(Role.MANAGER, person_id=org.east_manager)
    assert (await client.get(one, headers=manager)).status_code == 404
    assert (await client.get(one, headers=INTEGRATION)).status_code == 404
    assert (await client.get("/progress", headers=INTEGRATION)).status_code == 404


async def test_the_list_takes_several_periods_in_one_call(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    april = Period(key="2026-04", start=date(2026, 4, 1), end=date(2026, 4, 30))
    may = Period(key="2026-05", start=date(2026, 5, 1), end=date(2026, 5, 31))
    march_goal, april_goal, may_goal = (
        goal(org.east, org.ann, person_id=org.ann, period=period) for period in (MARCH, april, may)
    )
    await setup(
        kafka_bootstrap, org, org.person(org.ann, org.east), march_goal, april_goal, may_goal
    )
    for g in (march_goal, april_goal, may_goal):
        await until(client, f"/goals/{g.goal_id}/progress?as_of={AS_OF}", lambda _: True)

    async def listed(query: str) -> tuple[list[str], int]:
        response = await client.get(f"/progress?org_unit_id={org.east}&{query}", headers=ADMIN)
        assert response.status_code == 200, response.text
        body = response.json()
        return [g["goal_id"] for g in body["data"]], body["count"]

    both = "period_key=2026-03&period_key=2026-05"
    assert await listed(both) == ([march_goal.goal_id, may_goal.goal_id], 2)
    assert await listed("period_key=2026-04") == ([april_goal.goal_id], 1)
    first, _ = await listed(f"{both}&limit=1")
    assert first == [march_goal.goal_id]
    assert await listed(f"{both}&limit=1&after={march_goal.goal_id}") == ([may_goal.goal_id], 2)
    # By id, any of several: what alert-service asks to replay its goals at an instant.
    ids = f"goal_id={may_goal.goal_id}&goal_id={march_goal.goal_id}&goal_id=no-such-goal"
    assert await listed(ids) == ([march_goal.goal_id, may_goal.goal_id], 2)
    assert await listed(f"{ids}&as_of={AS_OF}") == ([march_goal.goal_id, may_goal.goal_id], 2)


async def test_the_series_accumulates_actual_beside_expected_by_day_and_by_week(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    org = Org()
    ann_goal = goal(org.east, org.ann, person_id=org.ann)
    await setup(kafka_bootstrap, org, org.person(org.ann, org.east), ann_goal)
    await until(client, f"/goals/{ann_goal.goal_id}/progress?as_of={AS_OF}", lambda _: True)
    await batch(
        client,
        deals=[
            deal(org.ann, "30000", closed_on="2026-03-10"),
            deal(org.ann, "20000", closed_on="2026-03-20"),
        ],
    )
    await live(client, ann_goal.goal_id, "50000")
    url = f"/goals/{ann_goal.goal_id}/series"
    days = (await client.get(f"{url}?as_of=2026-03-15T12:00:00Z", headers=ADMIN)).json()
    assert days["step"] == "day"
    assert [p["on"] for p in days["points"]] == [f"2026-03-{d:02}" for d in range(1, 16)]
    actual = {p["on"]: Decimal(p["actual"]) for p in days["points"]}
    assert actual["2026-03-09"] == 0 and actual["2026-03-10"] == actual["2026-03-15"] == 30000
    on_the_15th = await client.get(
        f"/goals/{ann_goal.goal_id}/progress?as_of=2026-03-15T12:00:00Z", headers=ADMIN
    )
    assert days["points"][-1]["expected_to_date"] == on_the_15th.json()["expected_to_date"]

    weeks = (await client.get(f"{url}?step=week&as_of={AS_OF}", headers=ADMIN)).json()
    # March 2026's Sundays, and the period's last day.
    assert [p["on"] for p in weeks["points"]] == [
        "2026-03-01",
        "2026-03-08",
        "2026-03-15",
        "2026-03-22",
        "2026-03-29",
        "2026-03-31",
    ]
    assert Decimal(weeks["points"][-1]["actual"]) == 50000
    assert Decimal(weeks["points"][-1]["expected_to_date"]) == 100000
    other_rep = bearer(Role.REP, person_id=org.bob)
    assert (await client.get(url, headers=other_rep)).status_code == 404


async def test_statistics_for_planning(client: httpx.AsyncClient, kafka_bootstrap: str) -> None:
    org = Org()
    await setup(kafka_bootstrap, org, org.person(org.ann, org.east), org.person(org.bob, org.west))
    probe = goal(org.west, org.bob, person_id=org.bob)
    await publish(kafka_bootstrap, probe)
    await until(client, f"/goals/{probe.goal_id}/progress?as_of={AS_OF}", lambda _: True)
    await batch(
        client,
        deals=[
            deal(org.ann, "3000", created_on="2026-01-10", closed_on="2026-01-20"),
            deal(org.ann, "1000", created_on="2026-02-01", closed_on="2026-03-03"),
            deal(org.bob, "2000", stage="lost"),
        ],
        leads=[
            {
                "id": f"L-{uuid4().hex}",
                "version": 1,
                "owner_id": org.ann,
                "created_on": "2026-01-05",
            }
            for _ in range(4)
        ],
        activities=[
            {
                "id": f"A-{uuid4().hex}",
                "version": 1,
                "owner_id": org.ann,
                "occurred_on": "2026-01-06",
            }
            for _ in range(6)
        ],
    )
    url = f"/org-units/{org.company}/statistics?start=2026-01-01&end=2026-12-31"
    body = await until(client, url, lambda b: Decimal(b["totals"].get("deals_won", 0)) == 2)

    def amounts(figures: dict[str, str]) -> dict[str, Decimal]:
        return {key: Decimal(value) for key, value in figures.items()}

    assert amounts(body["by_child"]) == {org.east: 4000}
    assert amounts(body["by_month"]) == {"2026-01": 3000, "2026-03": 1000}
    assert amounts(body["by_person"]) == {org.ann: 4000}
    rates = {name: (Decimal(r["value"]), r["sample"]) for name, r in body["rates"].items()}
    assert rates["avg_deal_size"] == (2000, 2)
    assert rates["win_rate"] == (Decimal("0.6667"), 3)
    assert rates["lead_conversion"] == (Decimal("0.75"), 4)  # 3 opportunities from 4 leads
    assert rates["activities_per_opportunity"] == (2, 3)
    assert rates["sales_cycle_days"] == (20, 2)  # (10 + 30) / 2
    # Revenue in minor units, counts whole, every rate at one precision.
    assert (body["by_child"][org.east], body["totals"]["deals_won"]) == ("4000.00", "2")
    assert body["rates"]["win_rate"] == {
        "value": "0.6667",
        "numerator": "2",
        "denominator": "3",
        "sample": 3,
    }
    assert body["rates"]["avg_deal_size"]["value"] == "2000.0000"
    assert body["rates"]["avg_deal_size"]["numerator"] == "4000.00"

    east_manager = bearer(Role.MANAGER, person_id=org.east_manager)
    assert (await client.get(url, headers=east_manager)).status_code == 404
    east = f"/org-units/{org.east}/statistics"
    assert (await client.get(east, headers=east_manager)).status_code == 200
    assert (await client.get(east, headers=bearer(Role.REP, person_id=org.ann))).status_code == 404


async def test_rebuild_finds_the_live_figures_equal_to_the_ledger_and_reports_drift(
    client: httpx.AsyncClient, kafka_bootstrap: str, database: str
) -> None:
    org = Org()
    rep = goal(org.east, org.ann, person_id=org.ann)
    await setup(kafka_bootstrap, org, org.person(org.ann, org.east), rep)
    await until(client, f"/goals/{rep.goal_id}/progress?as_of={AS_OF}", lambda _: True)
    await batch(client, deals=[deal(org.ann, "123.45")])
    await live(client, rep.goal_id, "123.45")

    assert (await rebuild(database)).differences == []

    engine = create_async_engine(database)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE tracking.goal SET numerator = numerator + 1 WHERE id = :id"),
            {"id": rep.goal_id},
        )
    await engine.dispose()
    drift = await rebuild(database)
    assert [(d[0], d[1] - d[3]) for d in drift.differences] == [(rep.goal_id, Decimal(1))]
    assert (await rebuild(database, repair=True)).differences
    assert (await rebuild(database)).differences == []


async def test_a_new_customers_goal_counts_first_wins_and_rebuild_credits_deals_recorded_before(
    client: httpx.AsyncClient, kafka_bootstrap: str, database: str
) -> None:
    org = Org()
    rep = goal(org.east, org.ann, person_id=org.ann, metric="new_customers", target="4")
    await setup(kafka_bootstrap, org, org.person(org.ann, org.east), rep)
    await until(client, f"/goals/{rep.goal_id}/progress?as_of={AS_OF}", lambda _: True)
    customer = f"C-{uuid4().hex[:8]}"
    first, second = (
        deal(org.ann, "10", customer_id=customer),
        deal(org.ann, "20", customer_id=customer),
    )
    await batch(client, deals=[first, second])
    assert (await live(client, rep.goal_id, "1"))["attainment"] == "0.2500"

    # As if the deal had been recorded before new_customers was credited.
    engine = create_async_engine(database)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "DELETE FROM tracking.ledger_entry WHERE metric = 'new_customers'"
                " AND record_id = ANY(:ids)"
            ),
            {"ids": [first["id"], second["id"]]},
        )
        await connection.execute(
            text("UPDATE tracking.goal SET numerator = 0 WHERE id = :id"), {"id": rep.goal_id}
        )
    await engine.dispose()
    await live(client, rep.goal_id, "0")

    await rebuild(database, new_customers=True)
    await live(client, rep.goal_id, "1")
    assert (await rebuild(database)).differences == []


async def _progress_events(
    bootstrap: str, goal_id: str, settle_on: Decimal
) -> list[dict[str, Any]]:
    """Every GoalProgressUpdated of the goal, read until one shows `settle_on` and a
    second more has passed (a second event for the same batch would show by then)."""
    consumer = AIOKafkaConsumer(
        topics.PROGRESS,
        bootstrap_servers=bootstrap,
        group_id=f"t-{uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(30):
            while not any(Decimal(e["actual"]) == settle_on for e in found):
                found.extend(await _read(consumer, goal_id))
        found.extend(await _read(consumer, goal_id, ms=1000))
    finally:
        await consumer.stop()
    return found


async def _read(consumer: AIOKafkaConsumer, goal_id: str, ms: int = 500) -> list[dict[str, Any]]:
    batches = await consumer.getmany(timeout_ms=ms)
    # The topic is the session's: other tests publish to it too, a record that is no
    # envelope among them (the dashboard's feed must skip one).
    events = [
        json.loads(r.value)["data"]
        for records in batches.values()
        for r in records
        if r.value and r.value.startswith(b"{")
    ]
    return [e for e in events if e["goal_id"] == goal_id]
