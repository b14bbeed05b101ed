"""Shaping plans over HTTP against a real PostgreSQL: every way a plan's terms
fail to fit together is answered 422 naming the field, a change that would
rewrite a paid period 409, and only admins and planners shape plans."""

from typing import Any
from uuid import uuid4

import httpx
import pytest

from attain_devstack.testing import bearer
from servicekit.auth import Role

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN)
PLANNER = bearer(Role.PLANNER, person_id="planner-1")
COMMISSION = {
    "kind": "commission",
    "id": "base",
    "method": "marginal",
    "tiers": [
        {"floor": "0", "ceiling": "1.0", "rate": "0.05"},
        {"floor": "1.0", "ceiling": None, "rate": "0.08"},
    ],
}


async def new_plan(
    client: httpx.AsyncClient, period: str = "quarter", headers: dict[str, str] = ADMIN
) -> str:
    plan = f"plan-{uuid4().hex[:8]}"
    put = await client.put(f"/plans/{plan}", json=plan_body(period), headers=headers)
    assert put.status_code == 200, put.text
    return plan


def plan_body(period: str, assignments: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "name": "Plan",
        "period": period,
        "currency": "CNY",
        "assignments": assignments or [{"role": "rep", "org_unit_id": "nowhere"}],
    }


async def put_terms(
    client: httpx.AsyncClient, plan: str, day: str, *components: dict[str, Any]
) -> httpx.Response:
    return await client.put(
        f"/plans/{plan}/versions/{day}", json={"components": list(components)}, headers=ADMIN
    )


def problems(response: httpx.Response) -> list[tuple[str, str]]:
    return [(error["field"], error["code"]) for error in response.json()["errors"]]


def attainment_bonus(curve: list[tuple[str, str]], **rest: str) -> dict[str, Any]:
    return {
        "kind": "attainment_bonus",
        "id": "bonus",
        "target_incentive": "10000.00",
        "curve": [{"attainment": a, "payout": p} for a, p in curve],
        **rest,
    }


async def test_overlapping_tiers_are_named_by_field(client: httpx.AsyncClient) -> None:
    plan = await new_plan(client)
    overlapping = {
        **COMMISSION,
        "tiers": [
            {"floor": "0", "ceiling": "1.0", "rate": "0.05"},
            {"floor": "0.9", "ceiling": None, "rate": "0.08"},
        ],
    }
    response = await put_terms(client, plan, "2026-04-01", overlapping)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert problems(response) == [("components.0.tiers.1.floor", "tiers_overlap")]
    assert response.json()["field"] == "components.0.tiers.1.floor"


async def test_a_curve_must_rise_and_a_cap_must_not_be_below_the_gate(
    client: httpx.AsyncClient,
) -> None:
    plan = await new_plan(client)
    falling = attainment_bonus([("0.5", "0.5"), ("1.0", "0.4")])
    response = await put_terms(client, plan, "2026-04-01", COMMISSION, falling)
    assert response.status_code == 422, response.text
    assert problems(response) == [("components.1.curve.1.payout", "curve_not_monotone")]

    backwards = attainment_bonus([("1.0", "1.0"), ("0.8", "1.2")])
    response = await put_terms(client, plan, "2026-04-01", backwards)
    assert problems(response) == [("components.0.curve.1.attainment", "curve_not_monotone")]

    capped = attainment_bonus([("1.0", "1.0")], gate="0.8", cap="0.5")
    response = await put_terms(client, plan, "2026-04-01", capped)
    assert response.status_code == 422, response.text
    assert problems(response) == [("components.0.cap", "cap_below_gate")]

    # The same bonus with the cap at the gate is a valid plan.
    at_gate = attainment_bonus([("1.0", "1.0")], gate="0.8", cap="0.8")
    assert (await put_terms(client, plan, "2026-04-01", at_gate)).status_code == 200


async def test_a_version_takes_effect_on_the_first_day_of_a_period_of_its_kind(
    client: httpx.AsyncClient,
) -> None:
    for period, day in (("quarter", "2026-02-01"), ("month", "2026-02-15"), ("year", "2026-04-01")):
        plan = await new_plan(client, period)
        response = await put_terms(client, plan, day, COMMISSION)
        assert response.status_code == 422, (period, response.text)
        assert response.json()["field"] == "effective_from"
    quarterly = await new_plan(client, "quarter")
    assert (await put_terms(client, quarterly, "2026-07-01", COMMISSION)).status_code == 200


async def test_a_version_may_not_change_a_closed_period(client: httpx.AsyncClient) -> None:
    # The only test of this module that closes a month.
    plan = await new_plan(client, "month")
    assert (await put_terms(client, plan, "2026-01-01", COMMISSION)).status_code == 200
    closed = await client.post("/periods/2026-01/close", headers=ADMIN)
    assert closed.status_code == 200, closed.text

    lower = {**COMMISSION, "tiers": [{"floor": "0", "ceiling": None, "rate": "0.01"}]}
    rewritten = await put_terms(client, plan, "2026-01-01", lower)
    assert rewritten.status_code == 409, rewritten.text
    assert rewritten.json()["field"] == "effective_from"
    assert "2026-01" in rewritten.json()["detail"]
    # Unchanged terms change nothing, so they are no conflict.
    assert (await put_terms(client, plan, "2026-01-01", COMMISSION)).status_code == 200

    # December has no version yet and January keeps its own, so a December
    # version changes no closed period; February is after the last closed one.
    assert (await put_terms(client, plan, "2025-12-01", lower)).status_code == 200
    later = await put_terms(client, plan, "2026-02-01", lower)
    assert later.status_code == 200, later.text
    assert [v["effective_from"] for v in later.json()["versions"]] == [
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
    ]
    assert (await client.get(f"/plans/{plan}", headers=ADMIN)).json()["versions"][1]["terms"][
        "components"
    ][0]["tiers"] == COMMISSION["tiers"]


async def test_an_assignment_names_a_person_or_a_role(client: httpx.AsyncClient) -> None:
    for assignment in ({"person_id": "p-1", "role": "rep"}, {"org_unit_id": "team-1"}):
        response = await client.put(
            f"/plans/plan-{uuid4().hex[:8]}",
            json=plan_body("quarter", [assignment]),
            headers=ADMIN,
        )
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "assignments.0"
    for assignment in ({"person_id": "p-1"}, {"role": "manager", "org_unit_id": "team-1"}):
        response = await client.put(
            f"/plans/plan-{uuid4().hex[:8]}",
            json=plan_body("quarter", [assignment]),
            headers=ADMIN,
        )
        assert response.status_code == 200, response.text


async def test_a_plan_keeps_its_period_once_it_has_versions(client: httpx.AsyncClient) -> None:
    plan = await new_plan(client, "quarter")
    # Without versions nothing was priced by the plan yet: its kind may change.
    monthly = await client.put(f"/plans/{plan}", json=plan_body("month"), headers=ADMIN)
    assert monthly.status_code == 200, monthly.text
    assert monthly.json()["period"] == "month"

    assert (await put_terms(client, plan, "2026-05-01", COMMISSION)).status_code == 200
    yearly = await client.put(f"/plans/{plan}", json=plan_body("year"), headers=ADMIN)
    assert yearly.status_code == 409, yearly.text
    assert yearly.json()["field"] == "period"
    held = await client.get(f"/plans/{plan}", headers=ADMIN)
    assert held.json()["period"] == "month"
    renamed = await client.put(
        f"/plans/{plan}", json={**plan_body("month"), "name": "Renamed"}, headers=ADMIN
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"


async def test_only_admins_and_planners_shape_plans(client: httpx.AsyncClient) -> None:
    plan = f"plan-{uuid4().hex[:8]}"
    assert (await client.put(f"/plans/{plan}", json=plan_body("quarter"))).status_code == 401
    for role in (Role.REP, Role.MANAGER, Role.VIEWER):
        denied = await client.put(
            f"/plans/{plan}", json=plan_body("quarter"), headers=bearer(role, person_id="p-1")
        )
        # servicekit's require_roles answers a missing role as if nothing were there.
        assert denied.status_code == 404, (role, denied.text)
    assert (await client.get(f"/plans/{plan}", headers=ADMIN)).status_code == 404

    shaped = await new_plan(client, headers=PLANNER)
    rep = bearer(Role.REP, person_id="p-1")
    versions = await client.put(
        f"/plans/{shaped}/versions/2026-04-01", json={"components": [COMMISSION]}, headers=rep
    )
    assert versions.status_code == 404
    assert (await client.get(f"/plans/{shaped}", headers=ADMIN)).json()["versions"] == []
    assert (await client.get(f"/plans/{shaped}", headers=rep)).status_code == 200


async def test_text_that_cannot_be_stored_is_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    plan = f"plan-{uuid4().hex[:8]}"
    for body, field in (
        ({**plan_body("quarter"), "name": "Pl\x00an"}, "name"),
        ({**plan_body("quarter", [{"role": "rep", "org_unit_id": "e\x00st"}])}, "assignments"),
    ):
        response = await client.put(f"/plans/{plan}", json=body, headers=ADMIN)
        assert response.status_code == 422, response.text
        assert response.json()["field"].startswith(field)
    response = await client.put("/plans/a%00b", json=plan_body("quarter"), headers=ADMIN)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "plan_id"
    response = await client.put(f"/plans/{plan}/versions/0001-01-01", json={}, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "effective_from"
