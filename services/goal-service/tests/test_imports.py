"""Imports of the org tree and of goals from a planner's spreadsheet (issue 4):
rows in any order, a per-row report, the good rows applied while the bad ones
are named by line and field."""

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from uuid import uuid4

import httpx
import openpyxl
import pytest
from aiokafka import AIOKafkaConsumer

from attain_contracts import topics
from attain_devstack.testing import TEST_SECRET, bearer, migrate, running
from goal_service.main import create_app
from goal_service.settings import GoalSettings
from servicekit.auth import Role

pytestmark = pytest.mark.integration

PLANNER = bearer(Role.PLANNER, person_id="planner")
CSV = {**PLANNER, "Content-Type": "text/csv"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def client(fresh_database, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    url = fresh_database()
    await migrate("goal_service", url)
    settings = GoalSettings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
        outbox_poll_seconds=0.2,
        tracking_url="http://127.0.0.1:9",  # nothing answers: SMART history is one warning
    )
    async with running(create_app(settings)) as client:
        yield client


def ids() -> dict[str, str]:
    suffix = uuid4().hex[:6]
    return {
        name: f"{name}-{suffix}"
        for name in ("acme", "north", "east", "boss", "rep", "lost", "a", "b", "p1", "p2")
    }


async def test_an_org_tree_in_any_order_with_a_manager_from_the_same_file(
    client: httpx.AsyncClient,
) -> None:
    n = ids()
    text = (
        "type,id,name,kind,parent_id,manager_id,email,org_unit_id,member_since,maturity\n"
        f"person,{n['rep']},Rep,,,,rep@acme.test,{n['east']},2026-01-05,new\n"
        f"unit,{n['east']},East,team,{n['north']},{n['boss']},,,,\n"
        f"person,{n['boss']},Boss,,,,,{n['north']},,\n"
        f"unit,{n['north']},North,region,{n['acme']},{n['boss']},,,,\n"
        f"unit,{n['acme']},Acme,company,,,,,,\n"
    )
    response = await client.post("/imports/org", content=text, headers=CSV)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["applied"], report["unchanged"], report["rejected"]) == (5, 0, 0)
    assert [(r["line"], r["id"]) for r in report["rows"]] == [
        (2, n["rep"]),
        (3, n["east"]),
        (4, n["boss"]),
        (5, n["north"]),
        (6, n["acme"]),
    ]

    east = (await client.get(f"/org-units/{n['east']}", headers=PLANNER)).json()
    assert east["path"] == [n["acme"], n["north"], n["east"]]
    assert east["manager_id"] == n["boss"]
    rep = (await client.get(f"/people/{n['rep']}", headers=PLANNER)).json()
    assert rep["maturity"] == "new"
    assert rep["memberships"] == [
        {"org_unit_id": n["east"], "valid_from": "2026-01-05", "valid_to": None}
    ]

    again = await client.post("/imports/org", content=text, headers=CSV)
    assert again.status_code == 200, again.text
    assert {r["status"] for r in again.json()["rows"]} == {"unchanged"}
    assert (await client.get(f"/org-units/{n['east']}", headers=PLANNER)).json()["version"] == east[
        "version"
    ]


async def test_bad_org_rows_are_reported_by_line_and_field_while_the_others_apply(
    client: httpx.AsyncClient,
) -> None:
    n = ids()
    text = (
        "type,id,name,parent_id,org_unit_id,maturity\n"
        f"unit,{n['acme']},Acme,,,\n"
        f"unit,{n['lost']},Lost,nowhere-{n['lost']},,\n"
        "\n"
        f"person,{n['p1']},P1,,{n['acme']},seasoned\n"
        f"person,{n['p2']},P2,,{n['lost']},\n"
        f"unit,{n['a']},A,{n['b']},,\n"
        f"unit,{n['b']},B,{n['a']},,\n"
        f"unit,{n['east']},East,{n['acme']},,\n"
        f"team,{n['north']},North,,,\n"
    )
    response = await client.post(
        "/imports/org",
        files={"file": ("org.csv", text, "application/vnd.ms-excel")},
        headers=PLANNER,
    )
    assert response.status_code == 207, response.text
    rows = {r["line"]: r for r in response.json()["rows"]}
    assert {line: r["status"] for line, r in rows.items()} == {
        2: "applied",
        3: "rejected",
        5: "rejected",
        6: "rejected",
        7: "rejected",
        8: "rejected",
        9: "applied",
        10: "rejected",
    }
    assert rows[3]["field"] == "parent_id" and "nowhere" in rows[3]["reason"]
    assert rows[5]["field"] == "maturity"
    assert rows[6]["field"] == "org_unit_id" and "line 3, was rejected" in rows[6]["reason"]
    assert rows[7]["field"] == "parent_id" and "cycle" in rows[7]["reason"]
    assert rows[10]["field"] == "type"
    east = (await client.get(f"/org-units/{n['east']}", headers=PLANNER)).json()
    assert east["path"] == [n["acme"], n["east"]]
    assert (await client.get(f"/org-units/{n['lost']}", headers=PLANNER)).status_code == 404


async def test_an_unreadable_file_is_refused_naming_the_problem(client: httpx.AsyncClient) -> None:
    async def refused(content: str | bytes, content_type: str = "text/csv") -> dict:  # type: ignore[type-arg]
        response = await client.post(
            "/imports/org", content=content, headers={**PLANNER, "Content-Type": content_type}
        )
        assert response.status_code == 422, response.text
        return response.json()  # type: ignore[no-any-return]

    assert (await refused(""))["detail"].startswith("the file has no header row")
    assert (await refused("type,id,colour\nunit,x,red\n"))["field"] == "colour"
    assert (await refused("type,id,name\n"))["detail"] == "the file has no rows below its header"
    assert "not application/json" in (await refused("{}", "application/json"))["detail"]
    assert "XLSX" in (await refused(b"not a zip", XLSX))["detail"]
    too_many = "type,id,name\n" + "unit,x,X\n" * 10_001
    assert "at most 10000 rows" in (await refused(too_many))["detail"]

    none_good = await refused("type,id,name,parent_id\nunit,x,X,nowhere\n")
    assert none_good["field"] == "parent_id"
    assert none_good["errors"][0]["line"] == 2


async def test_goals_from_xlsx_with_a_parent_by_ref_and_bad_rows_reported(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    n = ids()
    org = (
        "type,id,name,kind,parent_id,org_unit_id\n"
        f"unit,{n['acme']},Acme,company,,\n"
        f"unit,{n['east']},East,team,{n['acme']},\n"
        f"person,{n['rep']},Rep,,,{n['east']}\n"
    )
    assert (await client.post("/imports/org", content=org, headers=CSV)).status_code == 200
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    team, rep = n["east"], n["rep"]
    for values in (
        ("ref", "parent_ref", "metric", "org_unit_id", "person_id", "owner_id", "period_key",
         "period_start", "period_end", "target"),
        ("march", "q1", "revenue", team, rep, rep, "2026-03", None, None, 40_000),
        ("q1", None, "revenue", team, None, rep, None, date(2026, 1, 1), date(2026, 3, 31),
         120_000),
        ("mood", None, "happiness", team, None, rep, "FY2026-Q1", None, None, 10),
        (None, None, "revenue", team, None, rep, "FY2026-Q1", None, None, 0),
        (None, "mood", "revenue", team, None, rep, "2026-03", None, None, 5),
    ):  # fmt: skip
        sheet.append(values)
    data = io.BytesIO()
    book.save(data)

    response = await client.post(
        "/imports/goals", files={"file": ("targets.xlsx", data.getvalue(), XLSX)}, headers=PLANNER
    )
    assert response.status_code == 207, response.text
    report = response.json()
    assert (report["applied"], report["rejected"]) == (2, 3)
    rows = {r["line"]: r for r in report["rows"]}
    assert {line: r["status"] for line, r in rows.items()} == {
        2: "applied",
        3: "applied",
        4: "rejected",
        5: "rejected",
        6: "rejected",
    }
    assert rows[4]["field"] == "metric" and "happiness" in rows[4]["reason"]
    assert rows[5]["field"] == "target"
    assert rows[6]["field"] == "parent_ref" and "line 4" in rows[6]["reason"]
    assert "history_unavailable" in {w["code"] for w in rows[3]["warnings"]}

    quarter = (await client.get(f"/goals/{rows[3]['id']}", headers=PLANNER)).json()
    assert (quarter["period_key"], Decimal(quarter["target"])) == ("FY2026-Q1", 120_000)
    march = (await client.get(f"/goals/{rows[2]['id']}", headers=PLANNER)).json()
    assert march["parent_id"] == quarter["id"] and march["person_id"] == rep

    event = await goal_upserted(quarter["id"], kafka_bootstrap)
    assert event["owner_id"] == rep and Decimal(event["target"]) == 120_000


async def test_only_planners_and_admins_import(client: httpx.AsyncClient) -> None:
    text = "type,id,name\nunit,x,X\n"
    for path in ("/imports/org", "/imports/goals"):
        assert (await client.post(path, content=text)).status_code == 401
        rep = {**bearer(Role.REP, person_id="r"), "Content-Type": "text/csv"}
        assert (await client.post(path, content=text, headers=rep)).status_code == 404
    admin = {**bearer(Role.ADMIN, person_id="a"), "Content-Type": "text/csv"}
    unit = f"unit-{uuid4().hex[:6]}"
    response = await client.post(
        "/imports/org", content=f"type,id,name\nunit,{unit},U\n", headers=admin
    )
    assert response.status_code == 200, response.text


async def goal_upserted(goal_id: str, bootstrap: str) -> dict:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(
        topics.GOALS,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        event = json.loads(record.value)
                        if record.key == goal_id.encode() and event["type"].endswith(
                            "GoalUpserted.v1"
                        ):
                            return event["data"]  # type: ignore[no-any-return]
    finally:
        await consumer.stop()


async def test_a_goals_file_imported_again_changes_only_what_changed(
    client: httpx.AsyncClient,
) -> None:
    n = ids()
    org = (
        "type,id,name,kind,parent_id,org_unit_id\n"
        f"unit,{n['acme']},Acme,company,,\n"
        f"person,{n['rep']},Rep,,,{n['acme']}\n"
    )
    assert (await client.post("/imports/org", content=org, headers=CSV)).status_code == 200
    header = "ref,parent_ref,metric,org_unit_id,owner_id,period_key,target\n"
    rows = (
        f"q1,,revenue,{n['acme']},{n['rep']},FY2026-Q1,{{q1}}\n"
        f"jan,q1,revenue,{n['acme']},{n['rep']},2026-01,40000\n"
    )
    first = await client.post(
        "/imports/goals", content=header + rows.format(q1=120000), headers=CSV
    )
    assert first.status_code == 200, first.text
    again = await client.post(
        "/imports/goals", content=header + rows.format(q1=120000), headers=CSV
    )
    assert [r["status"] for r in again.json()["rows"]] == ["unchanged", "unchanged"]
    assert [r["id"] for r in again.json()["rows"]] == [r["id"] for r in first.json()["rows"]]
    raised = await client.post(
        "/imports/goals", content=header + rows.format(q1=150000), headers=CSV
    )
    assert [r["status"] for r in raised.json()["rows"]] == ["applied", "unchanged"]
    quarter_id = first.json()["rows"][0]["id"]
    history = (await client.get(f"/goals/{quarter_id}/history", headers=PLANNER)).json()
    last = history["versions"][-1]
    assert (Decimal(last["previous_target"]), Decimal(last["target"])) == (120_000, 150_000)
    assert last["reason"] == "imported"

    duplicate = await client.post(
        "/goals",
        json={"metric": "revenue", "org_unit_id": n["acme"], "owner_id": n["rep"],
              "period_key": "FY2026-Q1", "target": "1"},
        headers=PLANNER,
    )  # fmt: skip
    assert duplicate.status_code == 409 and quarter_id in duplicate.json()["detail"]
