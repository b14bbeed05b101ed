"""The planner's and the admin's views assembled from the real APIs, in process
(goal-, tracking- and incentive-service on their own databases and the real
broker), called with the person's own token as the pages call them."""

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest

from attain_devstack.postgres import temporary_database
from attain_devstack.stack import Infrastructure
from attain_devstack.testing import TEST_SECRET, bearer, migrate, running
from dashboard_service.clients import Attain, Upstream404
from dashboard_service.domain.planning import PlanForm, WarningKind
from dashboard_service.main import create_app as create_dashboard_app
from dashboard_service.service_layer import admin, planner
from dashboard_service.settings import DashboardSettings
from goal_service.main import create_app as create_goal_app
from goal_service.settings import GoalSettings
from incentive_service.main import create_app as create_incentive_app
from incentive_service.settings import IncentiveSettings
from servicekit.auth import Role
from tracking_service.main import create_app as create_tracking_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

ADMIN = bearer(Role.ADMIN, person_id="admin")
D = Decimal


@dataclass
class Stack:
    goals: httpx.AsyncClient
    http: httpx.AsyncClient  # what the dashboard calls the APIs through
    settings: DashboardSettings

    def attain(self, *roles: Role, person_id: str = "someone") -> Attain:
        token = bearer(*roles, person_id=person_id)["Authorization"].removeprefix("Bearer ")
        return Attain(self.http, self.settings, token)


@pytest.fixture(scope="module")
def databases(infrastructure: Infrastructure) -> Iterator[list[str]]:
    """One database per service, shared by the module's tests (each works in an org of its own)."""
    with ExitStack() as stack:
        yield [stack.enter_context(temporary_database(infrastructure.database_url)) for _ in "gti"]


@pytest.fixture(scope="module")
async def stack(databases: list[str], kafka_bootstrap: str) -> AsyncIterator[Stack]:
    goal_db, tracking_db, incentive_db = databases
    await migrate("goal_service", goal_db)
    await migrate("tracking_service", tracking_db)
    await migrate("incentive_service", incentive_db)
    common: dict[str, Any] = {
        "kafka_bootstrap": kafka_bootstrap,
        "jwt_secret": TEST_SECRET,
        "outbox_poll_seconds": 0.2,
    }
    tracking_app = create_tracking_app(TrackingSettings(database_url=tracking_db, **common))
    incentive_app = create_incentive_app(IncentiveSettings(database_url=incentive_db, **common))
    async with running(tracking_app), running(incentive_app):
        goal_app = create_goal_app(
            GoalSettings(database_url=goal_db, **common),
            tracking_transport=httpx.ASGITransport(app=tracking_app),
        )
        async with running(goal_app) as goals:
            mounts = {
                "http://goal": httpx.ASGITransport(app=goal_app),
                "http://tracking": httpx.ASGITransport(app=tracking_app),
                "http://incentive": httpx.ASGITransport(app=incentive_app),
            }
            settings = DashboardSettings(
                goal_url="http://goal",
                tracking_url="http://tracking",
                incentive_url="http://incentive",
                tracking_public_url="https://crm-in.example.com",
                jwt_secret=TEST_SECRET,
            )
            async with httpx.AsyncClient(mounts=mounts) as http:
                yield Stack(goals, http, settings)


async def put(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    response = await client.put(path, json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


async def company_goal(stack: Stack, target: str = "1000000") -> tuple[str, str, list[str]]:
    """A company with two teams, each with a manager, and the company's FY2026
    revenue goal; returns the company, the goal and the teams."""
    tag = uuid4().hex[:6]
    company, teams = f"co-{tag}", [f"east-{tag}", f"west-{tag}"]
    await put(stack.goals, f"/org-units/{company}", {"name": f"Acme {tag}", "kind": "company"})
    for team in teams:
        await put(
            stack.goals,
            f"/people/mgr-{team}",
            {"name": team, "org_unit_id": company, "member_since": "2025-01-01"},
        )
        await put(
            stack.goals,
            f"/org-units/{team}",
            {"name": team, "parent_id": company, "manager_id": f"mgr-{team}"},
        )
    await put(
        stack.goals,
        f"/people/ceo-{tag}",
        {"name": "CEO", "org_unit_id": company, "member_since": "2025-01-01"},
    )
    response = await stack.goals.post(
        "/goals",
        json={
            "metric": "revenue",
            "org_unit_id": company,
            "owner_id": f"ceo-{tag}",
            "period_key": "FY2026",
            "target": target,
        },
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return company, response.json()["goal"]["id"], teams


ORG_AND_QUARTERS = PlanForm(
    org=True, org_method="equal", time=True, time_grains=("quarter",), reason="FY2026 plan"
)


async def test_a_planner_previews_a_plan_then_applies_it_and_the_tree_adds_up(
    stack: Stack,
) -> None:
    company, goal_id, teams = await company_goal(stack)
    attain = stack.attain(Role.PLANNER, person_id="planner")
    home = await planner.planning_home(attain, company, "FY2026")
    assert [g.id for g in home.goals] == [goal_id]

    view = await planner.goal_tree(attain, goal_id)
    assert [(r.goal.id, r.children_sum) for r in view.rows] == [(goal_id, None)]

    shown = await planner.submit_plan(attain, view, ORG_AND_QUARTERS, apply=False)
    assert not shown.refused and shown.table is not None
    teams_rows = [r for r in shown.table.rows if r.parent.endswith("FY2026") and "Q" not in r.child]
    assert sorted(r.child.split(" · ")[0] for r in teams_rows) == sorted(teams)
    assert all(r.target == D(500000) and r.currency == "CNY" for r in teams_rows)
    assert all(r.explanation for r in shown.table.rows)
    quarters = [r for r in shown.table.rows if "FY2026-Q" in r.child]
    assert len(quarters) == 8 and sum(r.target for r in quarters) == D(1000000)
    # a preview changes nothing
    assert len((await planner.goal_tree(attain, goal_id)).rows) == 1

    applied = await planner.submit_plan(attain, view, ORG_AND_QUARTERS, apply=True)
    assert applied.applied is not None and applied.applied["id"]
    tree = await planner.goal_tree(attain, goal_id)
    assert len(tree.rows) == 1 + 2 + 8
    assert tree.rows[0].children_sum == D(1000000) and tree.rows[0].adds_up is True
    assert all(r.adds_up is True for r in tree.rows if r.depth == 1)

    team_goal = tree.rows[1].goal
    history = await planner.goal_history(attain, team_goal.id)
    assert [v.version for v in history.versions] == [1]
    assert history.versions[0].plan_id == applied.applied["id"]


async def test_a_stretch_makes_the_children_add_up_to_more_on_purpose_not_a_warning(
    stack: Stack,
) -> None:
    _, goal_id, teams = await company_goal(stack)
    attain = stack.attain(Role.PLANNER, person_id="planner")
    view = await planner.goal_tree(attain, goal_id)
    form = PlanForm(org=True, org_stretch="1.1")
    shown = await planner.submit_plan(attain, view, form, apply=False)
    assert shown.table is not None
    under_root = [r for r in shown.table.rows if any(t in r.child for t in teams)]
    assert sum(r.target for r in under_root) == D(1100000)  # the company's 1,000,000 x 1.1
    every = [*shown.table.warnings, *(w for r in shown.table.rows for w in r.warnings)]
    assert not [w for w in every if w.kind is WarningKind.CHILDREN_DO_NOT_ADD_UP], every


async def test_a_refused_plan_names_the_form_field(stack: Stack) -> None:
    _, goal_id, _ = await company_goal(stack)
    attain = stack.attain(Role.PLANNER, person_id="planner")
    view = await planner.goal_tree(attain, goal_id)

    zero = await planner.submit_plan(attain, view, PlanForm(org=True, org_stretch="0"), apply=False)
    assert zero.problem is not None and zero.problem.status == 422
    assert zero.error_field == "org_stretch"

    typed = PlanForm(steps_json='[{"kind": "reconcile", "policy": "biggest"}]')
    bad = await planner.submit_plan(attain, view, typed, apply=False)
    assert bad.error_field == "steps_json" and bad.error_within == "[0].policy"

    unread = await planner.submit_plan(attain, view, PlanForm(org=True, org_caps="x"), apply=False)
    assert (unread.error_field, unread.fault, unread.problem) == ("org_caps", "not_pairs", None)


async def test_a_rep_gets_not_found_for_the_planner_s_tree(stack: Stack) -> None:
    _, goal_id, _ = await company_goal(stack)
    with pytest.raises(Upstream404):
        await planner.goal_tree(stack.attain(Role.REP, person_id="nobody"), goal_id)


async def test_an_import_reports_each_row(stack: Stack) -> None:
    company, _, teams = await company_goal(stack)
    attain = stack.attain(Role.PLANNER, person_id="planner")
    csv = (
        "metric,org_unit_id,owner_id,period_key,target\n"
        f"revenue,{teams[0]},mgr-{teams[0]},FY2026-Q1,1000\n"
        f"revenue,{teams[1]},nobody-{company},FY2026-Q1,1000\n"
    )
    report = await planner.import_file(attain, "goals", "targets.csv", csv.encode())
    assert (report.applied, report.rejected, report.whole_file_refused) == (1, 1, False)
    good, bad = report.rows
    assert (good.line, good.status) == (2, "applied") and good.id
    assert (bad.line, bad.status, bad.field) == (3, "rejected", "owner_id")

    refused = await planner.import_file(
        attain,
        "goals",
        "bad.csv",
        f"metric,org_unit_id,owner_id,period_key,target\n"
        f"revenue,nowhere-{company},mgr-{teams[0]},FY2026,1\n".encode(),
    )
    assert refused.whole_file_refused and refused.problem is not None
    [row] = refused.rows
    assert (row.line, row.status, row.field) == (2, "rejected", "org_unit_id")


async def test_a_proposal_is_accepted_from_the_tree(stack: Stack) -> None:
    _, goal_id, _ = await company_goal(stack)
    attain = stack.attain(Role.PLANNER, person_id="planner")
    view = await planner.goal_tree(attain, goal_id)
    await planner.submit_plan(
        attain, view, PlanForm(time=True, time_grains=("quarter",)), apply=True
    )
    response = await stack.goals.post(
        f"/goals/{goal_id}/replans", json={"as_of": "2026-05-15", "dry_run": False}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    [proposal] = (await planner.goal_tree(attain, goal_id)).proposals
    assert proposal.table.rows
    decided = await planner.decide_proposal(attain, proposal.id, accept=True)
    assert decided["status"] == "accepted"
    assert (await planner.goal_tree(attain, goal_id)).proposals == []


async def test_an_admin_registers_a_source_and_sees_where_it_sends(stack: Stack) -> None:
    attain = stack.attain(Role.ADMIN, person_id="admin")
    source_id = f"crm-{uuid4().hex[:6]}"
    saved = await admin.register_source(
        attain,
        "https://crm-in.example.com",
        source_id=source_id,
        name="Our CRM",
        kind="generic",
        secret="",
        organization_id="",
    )
    assert saved.secret.startswith("whsec_")
    assert saved.endpoints[0].url == f"https://crm-in.example.com/webhooks/{source_id}/deals"
    listed = await admin.sources(attain, "https://crm-in.example.com")
    assert source_id in {s.id for s in listed}
    with pytest.raises(Upstream404):
        await admin.sources(stack.attain(Role.PLANNER), "https://crm-in.example.com")


async def test_a_rate_added_by_the_admin_is_listed(stack: Stack) -> None:
    attain = stack.attain(Role.ADMIN, person_id="admin")
    stored = await admin.add_rate(attain, currency="usd", on="2026-02-17", rate="7.12")
    assert stored["stored"] == 1
    view = await admin.fx_rates(attain, "USD", None, None, today=date(2026, 3, 1))
    assert [(r.on.isoformat(), r.rate) for r in view.rates] == [("2026-02-17", D("7.12"))]
    parked = await admin.parked(attain)
    assert parked.count == len(parked.records)


async def test_a_plan_saved_from_json_a_payout_run_and_the_payroll_file(stack: Stack) -> None:
    attain = stack.attain(Role.ADMIN, person_id="admin")
    plan_id = f"plan-{uuid4().hex[:6]}"
    saved = await admin.save_plan(
        attain,
        plan_id=plan_id,
        plan_json='{"name": "Reps", "period": "month", "currency": "CNY",'
        ' "assignments": [{"role": "rep"}]}',
        effective_from="2026-01-01",
        terms_json='{"components": [{"kind": "commission", "id": "base", "method": "marginal",'
        ' "tiers": [{"floor": 0, "ceiling": null, "rate": 0.05}]}]}',
    )
    assert saved["id"] == plan_id and len(saved["versions"]) == 1
    assert saved["versions"][0]["terms"]["components"][0]["tiers"][0]["rate"] == "0.05"
    assert plan_id in {p["id"] for p in await admin.plans(attain)}

    run = await admin.payout_run(attain, "2026-01")
    again = await admin.payout_run(attain, "2026-01")
    assert run["digest"] == again["digest"]
    with pytest.raises(Upstream404):
        await admin.statements_csv(attain, "1999-01")


# --- the pages, through the dashboard app ---------------------------------------------


@pytest.fixture(scope="module")
async def pages(stack: Stack, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = stack.settings.model_copy(update={"kafka_bootstrap": kafka_bootstrap})
    app = create_dashboard_app(settings)
    async with running(app) as client:
        app.state.http = stack.http  # the APIs in process, as the fixture's mounts reach them
        yield client


def signed_in(*roles: Role, person_id: str) -> dict[str, str]:
    return bearer(*roles, person_id=person_id)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_plan_builder_previews_then_applies_and_shows_the_new_tree(
    stack: Stack, pages: httpx.AsyncClient, lang: str
) -> None:
    _, goal_id, teams = await company_goal(stack)
    planner_token = signed_in(Role.PLANNER, person_id="planner")
    form = {"org": "true", "org_method": "equal", "time": "true", "time_grains": "quarter"}
    shown = await pages.post(
        f"/planning/goals/{goal_id}/plans?lang={lang}",
        data={**form, "action": "preview"},
        headers=planner_token,
    )
    assert shown.status_code == 200, shown.text
    assert 'id="preview"' in shown.text and teams[0] in shown.text
    assert ("Proposed target" in shown.text) == (lang == "en")
    tree = await pages.get(f"/planning/goals/{goal_id}", headers=planner_token)
    assert teams[0] not in tree.text  # the preview applied nothing

    applied = await pages.post(
        f"/planning/goals/{goal_id}/plans",
        data={**form, "action": "apply"},
        headers=planner_token,
    )
    assert applied.status_code == 303
    tree = await pages.get(applied.headers["location"], headers=planner_token)
    assert tree.status_code == 200 and teams[0] in tree.text and "FY2026-Q4" in tree.text


async def test_a_refused_plan_is_shown_beside_its_field(
    stack: Stack, pages: httpx.AsyncClient
) -> None:
    _, goal_id, _ = await company_goal(stack)
    shown = await pages.post(
        f"/planning/goals/{goal_id}/plans?lang=en",
        data={"org": "true", "org_stretch": "-1", "action": "preview"},
        headers=signed_in(Role.PLANNER, person_id="planner"),
    )
    assert shown.status_code == 422
    assert 'id="error-org_stretch"' in shown.text and 'id="preview"' not in shown.text


async def test_planning_and_admin_are_not_found_for_those_without_the_role(
    stack: Stack, pages: httpx.AsyncClient
) -> None:
    _, goal_id, _ = await company_goal(stack)
    rep = signed_in(Role.REP, person_id="rep-1")
    assert (await pages.get(f"/planning/goals/{goal_id}", headers=rep)).status_code == 404
    planner_token = signed_in(Role.PLANNER, person_id="planner")
    assert (await pages.get("/admin", headers=planner_token)).status_code == 404
    assert (await pages.get("/planning", headers=planner_token)).status_code == 200


async def test_the_admin_pages_render_and_a_registered_source_shows_its_url_and_secret(
    stack: Stack, pages: httpx.AsyncClient
) -> None:
    admin_token = signed_in(Role.ADMIN, person_id="admin")
    source_id = f"crm-{uuid4().hex[:6]}"
    registered = await pages.post(
        "/admin/sources",
        data={"source_id": source_id, "name": "Our CRM", "kind": "generic"},
        headers=admin_token,
    )
    assert registered.status_code == 303
    page = await pages.get(registered.headers["location"], headers=admin_token)
    assert f"https://crm-in.example.com/webhooks/{source_id}/deals" in page.text
    assert "whsec_" in page.text
    for path in ("/admin", "/admin/parked", "/admin/fx", "/admin/plans", "/admin/periods"):
        for lang in ("en", "zh"):
            response = await pages.get(f"{path}?lang={lang}", headers=admin_token)
            assert response.status_code == 200, (path, lang, response.text[:500])


async def test_the_payroll_file_streams_through_with_the_admin_s_token(
    stack: Stack, pages: httpx.AsyncClient
) -> None:
    admin_token = signed_in(Role.ADMIN, person_id="admin")
    missing = await pages.get("/admin/statements.csv?period_key=1999-01", headers=admin_token)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("lang", "month", "not_ended"),
    [
        ("en", "2097-01", "has not ended yet"),
        ("zh", "2097-02", "尚未结束"),
    ],
)
async def test_closing_a_period_before_it_ends_takes_the_box_ticked(
    stack: Stack, pages: httpx.AsyncClient, lang: str, month: str, not_ended: str
) -> None:
    admin_token = signed_in(Role.ADMIN, person_id="admin")
    form = await pages.get(f"/admin/periods?lang={lang}", headers=admin_token)
    assert 'type="checkbox" id="force" name="force" value="true"' in form.text

    unticked = {"period_key": month, "confirm_key": month}
    refused = await pages.post(
        f"/admin/periods/close?lang={lang}", data=unticked, headers=admin_token
    )
    assert refused.status_code == 422
    assert 'id="error-force"' in refused.text and not_ended in refused.text
    assert "conflicts with what is already there" not in refused.text
    assert 'aria-invalid="true" aria-describedby="error-force"' in refused.text

    closed = await pages.post(
        f"/admin/periods/close?lang={lang}",
        data={**unticked, "force": "true"},
        headers=admin_token,
    )
    assert closed.status_code == 200, closed.text[:500]
    assert 'id="period-result"' in closed.text and 'id="error-force"' not in closed.text
    assert month in closed.text
