"""The authorization matrix: every operation of every service's OpenAPI document
(read from `app.openapi()`, so a new endpoint is in it the day it is added),
called by each role on resources of another person and another team, and
without a token or with a bad one.

The four services run in-process against one database and the session's
broker, with a world of two teams: team A (manager `mgr_a`, rep `rep_a`) and
team B (manager `mgr_b`, rep `rep_b`), each rep with a goal, team B's rep with
an alert, a subscription, a deal, a plan of their own. Every call by team A's
people, a viewer or an integration is about team B's side.

An operation without a row in `expectations` fails the test: whoever adds an
endpoint says who may call it on someone else's resources, and the matrix
checks that it is so. A row for an operation that no longer exists fails too.

Outcomes:
- HIDDEN: 404, as if it did not exist (and nothing of team B in the answer);
- LISTED: 200, and none of team B's ids in the answer (a list filtered to the caller);
- SEEN: 2xx (who reads everything, or a resource the role is meant to reach);
- ALLOWED: past the authorization check (not 401, 403 or 404): the role may act;
- SHARED: 200 with no check of the content: reference data everyone reads (the
  org chart, the calendar, the metrics catalog, product lines, FX rates).
Operations without a bearer scheme (health checks, signed webhooks) are checked
to declare none; every other one must declare it and answer 401 without a
token, with a token of another secret, and with claims of the wrong shape."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest
from fastapi import FastAPI

from alert_service.main import create_app as alert_app
from alert_service.settings import AlertSettings
from attain_devstack.testing import TEST_SECRET, bearer, migrate, running
from goal_service.main import create_app as goal_app
from goal_service.settings import GoalSettings
from incentive_service.main import create_app as incentive_app
from incentive_service.settings import IncentiveSettings
from servicekit.auth import Role
from tracking_service.main import create_app as tracking_app
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.integration

WAIT_SECONDS = 90.0
MONTH, MONTH_START = "2026-11", date(2026, 11, 1)
AS_OF = datetime(2026, 11, 24, 12, tzinfo=UTC)
ADMIN = bearer(Role.ADMIN, person_id="admin-1")
OPEN_PATHS = {"/healthz", "/readyz"}
WEBHOOK_PREFIX = "/webhooks/"


class Outcome(StrEnum):
    HIDDEN = "hidden"
    LISTED = "listed"
    SEEN = "seen"
    ALLOWED = "allowed"
    SHARED = "shared"


H, L, S, A, G = Outcome.HIDDEN, Outcome.LISTED, Outcome.SEEN, Outcome.ALLOWED, Outcome.SHARED
CALLERS = ("rep_a", "mgr_a", "viewer", "integration")


@dataclass(frozen=True)
class Call:
    """How to call one operation on team B's side, and what each caller gets."""

    path: str
    rep_a: Outcome
    mgr_a: Outcome
    viewer: Outcome
    integration: Outcome
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    content: bytes | None = None

    def outcome(self, caller: str) -> Outcome:
        return Outcome(getattr(self, caller))


@dataclass
class World:
    s: str
    company: str
    team_a: str
    team_b: str
    mgr_a: str
    mgr_b: str
    rep_a: str
    rep_b: str
    goal_a: str = ""
    goal_b: str = ""
    goal_plan_b: str = ""
    alert_b: str = ""
    delivery_b: str = ""
    subscription_b: str = ""
    setting_b: str = ""
    plan_b: str = ""
    deal_b: str = ""
    source: str = ""

    def team_b_ids(self) -> set[str]:
        """What must never appear in an answer to team A's people."""
        ids = {
            self.mgr_b,
            self.rep_b,
            self.goal_b,
            self.goal_plan_b,
            self.alert_b,
            self.subscription_b,
            self.setting_b,
            self.plan_b,
            self.deal_b,
        }
        return {i for i in ids if i}

    def headers(self, caller: str) -> dict[str, str]:
        return {
            "rep_a": bearer(Role.REP, person_id=self.rep_a),
            "mgr_a": bearer(Role.MANAGER, person_id=self.mgr_a),
            "viewer": bearer(Role.VIEWER, person_id=f"viewer-{self.s}"),
            "integration": bearer(Role.INTEGRATION),
        }[caller]


def expectations(w: World) -> dict[tuple[str, str, str], Call]:
    """(service, method, path template) -> the call on team B's side."""
    b = w
    snooze = {"until": (AS_OF + timedelta(days=1)).isoformat()}
    subscription = {"channel": "email", "target": "x@example.com", "person_id": b.rep_b}
    estimate = {"period_key": MONTH, "deals": []}
    return {
        # goal-service
        ("goal", "PUT", "/org-units/{org_unit_id}"): Call(
            f"/org-units/{b.team_b}", H, H, H, H, body={"name": "B", "kind": "team"}
        ),
        ("goal", "GET", "/org-units/{org_unit_id}"): Call(f"/org-units/{b.team_b}", G, G, G, H),
        ("goal", "GET", "/org-units"): Call("/org-units", G, G, G, H),
        ("goal", "GET", "/org-units/{org_unit_id}/members"): Call(
            f"/org-units/{b.team_b}/members", H, H, S, H
        ),
        ("goal", "PUT", "/people/{person_id}"): Call(
            f"/people/{b.rep_b}", H, H, H, H, body={"name": "B", "org_unit_id": b.team_b}
        ),
        ("goal", "GET", "/people/{person_id}"): Call(f"/people/{b.rep_b}", H, H, S, H),
        ("goal", "PUT", "/product-lines/{product_line_id}"): Call(
            "/product-lines/cloud", H, H, H, H, body={"name": "Cloud", "maturity": "mature"}
        ),
        ("goal", "GET", "/product-lines"): Call("/product-lines", G, G, G, H),
        ("goal", "GET", "/calendar"): Call("/calendar", G, G, G, H),
        ("goal", "PUT", "/calendar"): Call("/calendar", H, H, H, H, body={}),
        ("goal", "POST", "/goals"): Call("/goals", H, H, H, H, body={}),
        ("goal", "GET", "/goals"): Call("/goals", L, L, S, H, query={"owner_id": b.rep_b}),
        ("goal", "GET", "/catalog/metrics"): Call("/catalog/metrics", G, G, G, H),
        ("goal", "GET", "/goals/{goal_id}"): Call(f"/goals/{b.goal_b}", H, H, S, H),
        ("goal", "PATCH", "/goals/{goal_id}"): Call(f"/goals/{b.goal_b}", H, H, H, H, body={}),
        ("goal", "POST", "/goals/{goal_id}/archive"): Call(
            f"/goals/{b.goal_b}/archive", H, H, H, H, body={"status": "cancelled"}
        ),
        ("goal", "GET", "/goals/{goal_id}/history"): Call(f"/goals/{b.goal_b}/history", H, H, S, H),
        ("goal", "GET", "/goals/{goal_id}/tree"): Call(f"/goals/{b.goal_b}/tree", H, H, S, H),
        ("goal", "POST", "/goals/{goal_id}/plans"): Call(
            f"/goals/{b.goal_b}/plans",
            H,
            H,
            H,
            H,
            body={"steps": [{"kind": "time", "grains": ["week"]}]},
        ),
        ("goal", "GET", "/goals/{goal_id}/plans"): Call(f"/goals/{b.goal_b}/plans", H, H, S, H),
        ("goal", "POST", "/goals/{goal_id}/replans"): Call(
            f"/goals/{b.goal_b}/replans", H, H, H, H, body={}
        ),
        ("goal", "GET", "/plans/{plan_id}"): Call(f"/plans/{b.goal_plan_b}", H, H, S, H),
        ("goal", "POST", "/plans/{plan_id}/accept"): Call(
            f"/plans/{b.goal_plan_b}/accept", H, H, H, H
        ),
        ("goal", "POST", "/plans/{plan_id}/reject"): Call(
            f"/plans/{b.goal_plan_b}/reject", H, H, H, H
        ),
        ("goal", "PUT", "/goals/{goal_id}/proposals/{scope}"): Call(
            f"/goals/{b.goal_b}/proposals/{b.rep_b}", H, H, H, H, body={"value": "1"}
        ),
        ("goal", "GET", "/goals/{goal_id}/proposals"): Call(
            f"/goals/{b.goal_b}/proposals", H, H, A, H
        ),
        ("goal", "POST", "/imports/org"): Call("/imports/org", H, H, H, H, content=b"id\n"),
        ("goal", "POST", "/imports/goals"): Call("/imports/goals", H, H, H, H, content=b"id\n"),
        # tracking-service
        ("tracking", "PUT", "/sources/{source_id}"): Call(
            f"/sources/{b.source}", H, H, H, H, body={"name": "CRM"}
        ),
        ("tracking", "GET", "/sources/{source_id}"): Call(f"/sources/{b.source}", H, H, H, H),
        ("tracking", "GET", "/sources"): Call("/sources", H, H, H, H),
        ("tracking", "GET", "/admin/parked"): Call("/admin/parked", H, H, H, H),
        ("tracking", "POST", "/sources/{source_id}/batch"): Call(
            f"/sources/{b.source}/batch", H, H, H, A, body={"deals": []}
        ),
        ("tracking", "POST", "/sources/{source_id}/imports/{kind}"): Call(
            f"/sources/{b.source}/imports/deals", H, H, H, A, content=b"id\n"
        ),
        ("tracking", "PUT", "/fx-rates"): Call("/fx-rates", H, H, H, A, body={"rates": []}),
        ("tracking", "GET", "/fx-rates"): Call(
            "/fx-rates",
            H,
            H,
            G,
            G,
            query={"currency": "USD", "start": "2026-01-01", "end": "2026-12-31"},
        ),
        ("tracking", "GET", "/goals/{goal_id}/progress"): Call(
            f"/goals/{b.goal_b}/progress", H, H, S, H
        ),
        ("tracking", "GET", "/goals/{goal_id}/series"): Call(
            f"/goals/{b.goal_b}/series", H, H, S, H
        ),
        ("tracking", "GET", "/progress"): Call(
            "/progress", L, L, S, H, query={"owner_id": b.rep_b}
        ),
        ("tracking", "GET", "/sources/{source_id}/{kind}/{record_id}/history"): Call(
            f"/sources/{b.source}/deals/{b.deal_b}/history", H, H, S, S
        ),
        ("tracking", "GET", "/org-units/{org_unit_id}/statistics"): Call(
            f"/org-units/{b.team_b}/statistics", H, H, S, H
        ),
        ("tracking", "GET", "/admin/projection"): Call("/admin/projection", H, H, H, H),
        # alert-service
        ("alert", "GET", "/alerts"): Call("/alerts", L, L, S, H, query={"owner_id": b.rep_b}),
        ("alert", "GET", "/alerts/{alert_id}"): Call(f"/alerts/{b.alert_b}", H, H, S, H),
        ("alert", "POST", "/alerts/{alert_id}/acknowledge"): Call(
            f"/alerts/{b.alert_b}/acknowledge", H, H, H, H, body={}
        ),
        ("alert", "POST", "/alerts/{alert_id}/snooze"): Call(
            f"/alerts/{b.alert_b}/snooze", H, H, H, H, body=snooze
        ),
        ("alert", "GET", "/rules"): Call("/rules", H, L, S, H),
        ("alert", "POST", "/rules"): Call("/rules", H, H, H, H, body={}),
        ("alert", "GET", "/rules/{setting_id}"): Call(f"/rules/{b.setting_b}", H, H, S, H),
        ("alert", "PUT", "/rules/{setting_id}"): Call(
            f"/rules/{b.setting_b}", H, H, H, H, body={"parameters": {}}
        ),
        ("alert", "DELETE", "/rules/{setting_id}"): Call(f"/rules/{b.setting_b}", H, H, H, H),
        ("alert", "GET", "/goals/{goal_id}/rules"): Call(f"/goals/{b.goal_b}/rules", H, H, S, H),
        ("alert", "GET", "/goals/{goal_id}"): Call(f"/goals/{b.goal_b}", H, H, S, H),
        ("alert", "GET", "/subscriptions"): Call(
            "/subscriptions", L, L, L, H, query={"person_id": b.rep_b}
        ),
        ("alert", "POST", "/subscriptions"): Call("/subscriptions", H, H, H, H, body=subscription),
        ("alert", "GET", "/subscriptions/{subscription_id}"): Call(
            f"/subscriptions/{b.subscription_b}", H, H, H, H
        ),
        ("alert", "PATCH", "/subscriptions/{subscription_id}"): Call(
            f"/subscriptions/{b.subscription_b}", H, H, H, H, body={"enabled": False}
        ),
        ("alert", "DELETE", "/subscriptions/{subscription_id}"): Call(
            f"/subscriptions/{b.subscription_b}", H, H, H, H
        ),
        ("alert", "POST", "/admin/evaluate"): Call("/admin/evaluate", H, H, H, H, body={}),
        ("alert", "POST", "/admin/deliveries/{delivery_id}/retry"): Call(
            f"/admin/deliveries/{b.delivery_b}/retry", H, H, H, H
        ),
        # incentive-service
        ("incentive", "PUT", "/plans/{plan_id}"): Call(f"/plans/{b.plan_b}", H, H, H, H, body={}),
        ("incentive", "GET", "/plans/{plan_id}"): Call(f"/plans/{b.plan_b}", H, H, S, H),
        ("incentive", "PUT", "/plans/{plan_id}/versions/{effective_from}"): Call(
            f"/plans/{b.plan_b}/versions/{MONTH_START}", H, H, H, H, body={}
        ),
        ("incentive", "GET", "/plans"): Call("/plans", L, L, S, H),
        ("incentive", "GET", "/people/{person_id}/statements"): Call(
            f"/people/{b.rep_b}/statements", H, H, S, H
        ),
        ("incentive", "GET", "/people/{person_id}/statements/{period_key}"): Call(
            f"/people/{b.rep_b}/statements/{MONTH}", H, H, S, H
        ),
        ("incentive", "POST", "/people/{person_id}/estimates"): Call(
            f"/people/{b.rep_b}/estimates", H, H, S, H, body=estimate
        ),
        ("incentive", "POST", "/periods/{period_key}/payout-run"): Call(
            f"/periods/{MONTH}/payout-run", H, H, H, H
        ),
        ("incentive", "POST", "/periods/{period_key}/close"): Call(
            f"/periods/{MONTH}/close", H, H, H, H
        ),
        ("incentive", "GET", "/periods/{period_key}/statements.csv"): Call(
            f"/periods/{MONTH}/statements.csv", H, H, H, H
        ),
        ("incentive", "GET", "/org-units/{unit_id}/leaderboard"): Call(
            f"/org-units/{b.team_b}/leaderboard", H, H, S, H, query={"period": MONTH}
        ),
        ("incentive", "GET", "/people/{person_id}/badges"): Call(
            f"/people/{b.rep_b}/badges", H, H, S, H
        ),
        ("incentive", "GET", "/people/{person_id}/scorecards/{period_key}"): Call(
            f"/people/{b.rep_b}/scorecards/{MONTH}", H, H, S, H
        ),
        ("incentive", "PUT", "/people/{person_id}/scorecards/{period_key}/growth"): Call(
            f"/people/{b.rep_b}/scorecards/{MONTH}/growth", H, H, H, H, body={"score": "50"}
        ),
        ("incentive", "PUT", "/org-units/{unit_id}/scorecard-weights"): Call(
            f"/org-units/{b.team_b}/scorecard-weights",
            H,
            H,
            H,
            H,
            body={"results": "0.6", "process": "0.3", "growth": "0.1"},
        ),
        # every service with a database (servicekit.deadletter_api): admins only
        **{
            (service, "GET", "/admin/dead-letters"): Call("/admin/dead-letters", H, H, H, H)
            for service in ("goal", "tracking", "alert", "incentive")
        },
        **{
            (service, "POST", "/admin/dead-letters/replay"): Call(
                "/admin/dead-letters/replay", H, H, H, H, body={"entries": ["0:0"]}
            )
            for service in ("goal", "tracking", "alert", "incentive")
        },
    }


@dataclass(frozen=True)
class Stack:
    clients: dict[str, httpx.AsyncClient]
    apps: dict[str, FastAPI]
    world: World


@pytest.fixture(scope="module")
async def stack(module_database: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    common: dict[str, Any] = {
        "database_url": module_database,
        "kafka_bootstrap": kafka_bootstrap,
        "jwt_secret": TEST_SECRET,
        "outbox_poll_seconds": 0.2,
        # Every operation is called with four refused tokens from one address, on purpose.
        "rate_limit_failed_auth_burst": 100_000,
    }
    for package in ("goal_service", "tracking_service", "alert_service", "incentive_service"):
        await migrate(package, module_database)
    tracking = tracking_app(TrackingSettings(**common))
    apps = {
        # goal-service asks tracking-service for history when it plans a re-plan.
        "goal": goal_app(GoalSettings(**common), tracking_transport=httpx.ASGITransport(tracking)),
        "tracking": tracking,
        # alert-service asks it for the progress as of a past instant it replays.
        "alert": alert_app(
            AlertSettings(**common, sweep_interval_seconds=3600, delivery_poll_seconds=3600),
            tracking_transport=httpx.ASGITransport(tracking),
        ),
        "incentive": incentive_app(IncentiveSettings(**common)),
    }
    async with AsyncExitStack() as running_apps:
        clients = {
            name: await running_apps.enter_async_context(running(app)) for name, app in apps.items()
        }
        yield Stack(clients, apps, await build_world(clients))


async def ok(response: Awaitable[httpx.Response], *statuses: int) -> dict[str, Any]:
    answer = await response
    assert answer.status_code in (statuses or (200, 201)), answer.text
    return dict(answer.json())


async def eventually(probe: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        answer = await probe()
        if answer.status_code == 200 or time.monotonic() > deadline:
            assert answer.status_code == 200, answer.text
            return answer
        await asyncio.sleep(0.2)


async def build_world(c: dict[str, httpx.AsyncClient]) -> World:
    s = uuid4().hex[:6]
    w = World(
        s,
        f"co-{s}",
        f"team-a-{s}",
        f"team-b-{s}",
        f"mgr-a-{s}",
        f"mgr-b-{s}",
        f"rep-a-{s}",
        f"rep-b-{s}",
        source=f"crm-{s}",
    )
    goals = c["goal"]
    await ok(
        goals.put(f"/org-units/{w.company}", json={"name": "Co", "kind": "company"}, headers=ADMIN)
    )
    for person in (w.mgr_a, w.mgr_b):
        await ok(
            goals.put(
                f"/people/{person}", json={"name": person, "org_unit_id": w.company}, headers=ADMIN
            )
        )
    for team, manager in ((w.team_a, w.mgr_a), (w.team_b, w.mgr_b)):
        body = {"name": team, "kind": "team", "parent_id": w.company, "manager_id": manager}
        await ok(goals.put(f"/org-units/{team}", json=body, headers=ADMIN))
    for rep, team in ((w.rep_a, w.team_a), (w.rep_b, w.team_b)):
        await ok(
            goals.put(f"/people/{rep}", json={"name": rep, "org_unit_id": team}, headers=ADMIN)
        )
        goal = {
            "metric": "revenue",
            "org_unit_id": team,
            "person_id": rep,
            "owner_id": rep,
            "period_key": MONTH,
            "target": "100000",
            "status": "active",
        }
        created = await ok(goals.post("/goals", json=goal, headers=ADMIN), 201)
        if rep == w.rep_a:
            w.goal_a = created["goal"]["id"]
        else:
            w.goal_b = created["goal"]["id"]
    plan = {"steps": [{"kind": "time", "grains": ["week"]}], "dry_run": False}
    w.goal_plan_b = (await ok(goals.post(f"/goals/{w.goal_b}/plans", json=plan, headers=ADMIN)))[
        "id"
    ]

    tracking, alerts, incentives = c["tracking"], c["alert"], c["incentive"]
    await ok(tracking.put(f"/sources/{w.source}", json={"name": "CRM"}, headers=ADMIN))
    w.deal_b = f"D-{s}"
    deal = {
        "id": w.deal_b,
        "version": 1,
        "stage": "won",
        "amount": "1000.00",
        "currency": "CNY",
        "owner_id": w.rep_b,
        "closed_on": "2026-11-10",
    }
    await ok(tracking.post(f"/sources/{w.source}/batch", json={"deals": [deal]}, headers=ADMIN))

    manager_b = bearer(Role.MANAGER, person_id=w.mgr_b)
    await eventually(lambda: alerts.get(f"/goals/{w.goal_b}/rules", headers=manager_b))
    await eventually(lambda: tracking.get(f"/goals/{w.goal_b}/progress", headers=manager_b))
    await eventually(lambda: incentives.get(f"/people/{w.rep_b}/badges", headers=manager_b))
    await eventually(
        lambda: goals.get(f"/goals/{w.goal_a}", headers=bearer(Role.MANAGER, person_id=w.mgr_a))
    )
    rep_b = bearer(Role.REP, person_id=w.rep_b)
    subscription = {"channel": "slack", "target": f"https://hooks.slack.invalid/{s}"}
    w.subscription_b = (
        await ok(alerts.post("/subscriptions", json=subscription, headers=rep_b), 201)
    )["id"]
    setting = {"rule": "pace", "scope": "org_unit", "scope_id": w.team_b, "parameters": {}}
    w.setting_b = (await ok(alerts.post("/rules", json=setting, headers=ADMIN), 201))["id"]
    evaluated = await ok(
        alerts.post(
            "/admin/evaluate",
            json={"as_of": AS_OF.isoformat(), "goal_ids": [w.goal_b]},
            headers=ADMIN,
        )
    )
    w.alert_b = next(ch["alert_id"] for ch in evaluated["data"] if ch["goal_id"] == w.goal_b)
    detail = await ok(alerts.get(f"/alerts/{w.alert_b}", headers=ADMIN))
    w.delivery_b = detail["deliveries"][0]["id"] if detail["deliveries"] else f"dl-{s}"

    w.plan_b = f"plan-b-{s}"
    plan_b = {
        "name": "B's own",
        "period": "month",
        "currency": "CNY",
        "assignments": [{"person_id": w.rep_b}],
    }
    await ok(incentives.put(f"/plans/{w.plan_b}", json=plan_b, headers=ADMIN))
    commission = {
        "kind": "commission",
        "id": "base",
        "method": "marginal",
        "tiers": [{"floor": "0", "ceiling": None, "rate": "0.05"}],
    }
    terms = {"components": [commission]}
    versions = f"/plans/{w.plan_b}/versions/{MONTH_START}"
    await ok(incentives.put(versions, json=terms, headers=ADMIN))
    await ok(incentives.post(f"/periods/{MONTH}/payout-run", headers=ADMIN))
    await eventually(
        lambda: incentives.get(f"/people/{w.rep_b}/statements/{MONTH}", headers=manager_b)
    )
    return w


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    ]


def unsigned(claims: dict[str, Any]) -> dict[str, str]:
    base = {"sub": "x", "aud": "attain", "exp": datetime.now(UTC) + timedelta(hours=1)}
    token = jwt.encode({**base, **claims}, TEST_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


BAD_TOKENS = {
    "no token": {},
    "another secret": bearer(Role.ADMIN, secret="another-secret-of-at-least-32-bytes!"),
    "roles as an object": unsigned({"roles": {"rep": True, "admin": False}}),
    "numeric person_id": unsigned({"roles": ["rep"], "person_id": 7}),
}


async def send(
    client: httpx.AsyncClient, method: str, call: Call, headers: dict[str, str]
) -> httpx.Response:
    if call.content is not None:
        headers = {**headers, "Content-Type": "text/csv"}
        return await client.request(
            method, call.path, params=call.query, content=call.content, headers=headers
        )
    return await client.request(
        method, call.path, params=call.query, json=call.body, headers=headers
    )


def judged(outcome: Outcome, call: Call, answer: httpx.Response, team_b: set[str]) -> str | None:
    """None when the answer is the outcome; else what is wrong. An id the caller
    sent may come back (a 404 names what it did not find); no other of team B's."""
    status, text = answer.status_code, answer.text
    asked = call.path + json.dumps(call.query) + json.dumps(call.body)
    leaked = sorted(i for i in team_b if i in text and i not in asked)
    if outcome is Outcome.HIDDEN:
        if status != 404:
            return f"expected 404, got {status}"
        return f"a 404 that names {leaked}" if leaked else None
    if outcome is Outcome.LISTED:
        if status != 200:
            return f"expected 200, got {status}"
        return f"the list holds team B's {leaked}" if leaked else None
    if outcome in (Outcome.SEEN, Outcome.SHARED):
        return None if 200 <= status < 300 else f"expected 2xx, got {status}: {text[:200]}"
    return None if status not in (401, 403, 404) else f"refused with {status}: {text[:200]}"


async def test_every_operation_of_every_service_is_in_the_matrix_and_holds(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    table = expectations(stack.world)
    enumerated: list[tuple[str, str, str, dict[str, Any]]] = [
        (service, method, path, operation)
        for service, app in stack.apps.items()
        for method, path, operation in operations(app)
    ]
    present = {(service, method, path) for service, method, path, _ in enumerated}
    public = {key for key in present if key[2] in OPEN_PATHS or key[2].startswith(WEBHOOK_PREFIX)}
    missing = sorted(present - public - table.keys())
    assert not missing, f"operations without a row in the authorization matrix: {missing}"
    assert not sorted(table.keys() - present), "rows for operations that no longer exist"

    failures: list[str] = []
    pairs = 0
    for service, method, path, operation in enumerated:
        declared = operation.get("security") == [{"HTTPBearer": []}]
        if (service, method, path) in public:
            if declared:
                failures.append(f"{service} {method} {path}: needs no token, yet declares one")
            continue
        if not declared:
            failures.append(f"{service} {method} {path}: does not declare the bearer scheme")
        call, client = table[(service, method, path)], stack.clients[service]
        # Reads first: a write wrongly let through must not hide a read's answer.
        for name, headers in BAD_TOKENS.items():
            answer = await send(client, method, call, headers)
            pairs += 1
            if answer.status_code != 401:
                failures.append(f"{service} {method} {path} with {name}: {answer.status_code}")
        if method == "GET":
            for caller in CALLERS:
                answer = await send(client, method, call, stack.world.headers(caller))
                pairs += 1
                wrong = judged(call.outcome(caller), call, answer, stack.world.team_b_ids())
                if wrong:
                    failures.append(f"{service} {method} {path} as {caller}: {wrong}")
    for service, method, path, _ in enumerated:
        if method == "GET" or (service, method, path) in public:
            continue
        call, client = table[(service, method, path)], stack.clients[service]
        for caller in CALLERS:
            answer = await send(client, method, call, stack.world.headers(caller))
            pairs += 1
            wrong = judged(call.outcome(caller), call, answer, stack.world.team_b_ids())
            if wrong:
                failures.append(f"{service} {method} {path} as {caller}: {wrong}")
    with capsys.disabled():
        print(
            f"\nauthorization matrix: {len(enumerated)} operations in 4 OpenAPI documents, "
            f"{len(public)} without a token, {len(table)} in the matrix, "
            f"{pairs} (operation, caller) pairs checked"
        )
    assert not failures, "\n".join(failures)
