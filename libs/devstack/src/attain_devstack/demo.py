"""`make demo`: with `make run` going, load the reference workload (W/100 by default) through the
four services' public APIs, as a customer would, then play won deals into the signed webhook at a
steady rate, so that a newcomer who opens the dashboard sees it move.

    uv run python -m attain_devstack.demo                 # load, then play 2 deals a second
    uv run python -m attain_devstack.demo --rate 5 --seconds 60
    uv run python -m attain_devstack.demo --deals 0       # load only

What it loads (every call an upsert or a plan that, applied again, changes nothing, so a second
run continues where the first left off):
- goal-service: the calendar (only if its fiscal year does not start in January, as the
  workload's does), the org tree, the people, the product lines; for each metric the company's
  goal for this fiscal year, decomposed by one plan to regions, teams and reps by capacity and
  then to quarters, months and weeks by the workload's seasonal profile, and one time plan for
  each org unit's own goal;
- tracking-service: the CRM source and, through the batch API, the workload's deals closed this
  year before today;
- incentive-service: a monthly rep plan with two versions, a quarterly rep plan for the last
  team, and a quarterly team bonus for managers.

The workload's year is today's, so this year's, this quarter's and this month's goals are
active. Reps' deals follow the workload's skill (some reps fall behind their quota), and the
least skilled tenth are starved: none of their deals of the last two weeks are loaded and none
are played, so pace, forecast and silence alerts open for them.

Service URLs: `ATTAIN_DEMO_GOAL_URL`, `_TRACKING_URL`, `_ALERT_URL`, `_INCENTIVE_URL`
(default 127.0.0.1:8001 to 8004) and `_DASHBOARD_URL` (8000, only printed).
"""

import argparse
import asyncio
import itertools
import json
import math
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from attain_devstack import workload as w
from attain_devstack.workload import Rep, Unit, Workload
from servicekit.auth import Role, mint_token
from servicekit.settings import ServiceSettings
from tracking_service.cli.sign import signed_headers

SOURCE_ID = "demo-crm"
ADMIN_PERSON = "p-admin"
PLANNER_PERSON = "p-planner"
CONNECTIONS = 8
BATCH_SIZE = 5_000
STARVED_SHARE = 0.10
STARVED_DAYS = 14  # longer than the silence rule's 5 working days
REPORT_EVERY_SECONDS = 5.0
DEFAULT_RATE = 2.0
PLAN_TIMEOUT_SECONDS = 600.0
PLAN_IDS = ("demo-reps-monthly", "demo-reps-quarterly", "demo-managers")


class DemoError(Exception):
    """A service refused or failed a call the demo needs: what was asked and what it said."""


@dataclass(frozen=True)
class Urls:
    goal: str = "http://127.0.0.1:8001"
    tracking: str = "http://127.0.0.1:8002"
    alert: str = "http://127.0.0.1:8003"
    incentive: str = "http://127.0.0.1:8004"
    dashboard: str = "http://127.0.0.1:8000"

    @classmethod
    def from_environment(cls) -> "Urls":
        default = cls()
        return cls(
            **{
                name: os.environ.get(f"ATTAIN_DEMO_{name.upper()}_URL", getattr(default, name))
                for name in ("goal", "tracking", "alert", "incentive", "dashboard")
            }
        )


@dataclass(frozen=True)
class Cast:
    """Who plays which part: the reps starved of deals, and the people to sign in as."""

    starved: tuple[Rep, ...]
    playing: tuple[Rep, ...]
    company: Unit

    @classmethod
    def of(cls, workload: Workload) -> "Cast":
        by_skill = sorted(workload.reps, key=lambda rep: (rep.output / rep.planned, rep.id))
        starved = tuple(by_skill[: max(1, round(len(by_skill) * STARVED_SHARE))])
        playing = tuple(rep for rep in workload.reps if rep not in starved)
        return cls(starved, playing, workload.units[0])

    def sign_in_as(self) -> list[tuple[str, str, str]]:
        """(person, role, why) for the dashboard's development sign-in."""
        behind = self.starved[0]
        return [
            (behind.id, Role.REP, f"a rep of {behind.team.name} who is behind and gets no deals"),
            (behind.team.manager_id, Role.MANAGER, f"manages {behind.team.name}"),
            (self.company.manager_id, Role.MANAGER, f"manages {self.company.name}"),
            (PLANNER_PERSON, Role.PLANNER, "plans the goals"),
            (ADMIN_PERSON, Role.ADMIN, "sources, plans, payout runs"),
        ]


@dataclass
class Loaded:
    org_units: int = 0
    people: int = 0
    product_lines: int = 0
    calendar: str = ""
    plans: list[str] = field(default_factory=list)
    goals: int = 0
    secret: str = ""
    history: dict[str, int] = field(default_factory=dict)
    incentive_plans: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def describe(self) -> list[str]:
        history = _counts(self.history)
        return [
            f"calendar: {self.calendar}",
            f"org: {self.org_units:,} org units, {self.people:,} people, "
            f"{self.product_lines} product lines",
            *(f"goal plan: {plan}" for plan in self.plans),
            f"goals: {self.goals:,} in goal-service",
            f"tracking: source {SOURCE_ID}; this year's deals before today by batch: "
            + (history or "none (--no-history)"),
            *(f"incentive plan: {plan}" for plan in self.incentive_plans),
        ]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in counts.items())


@dataclass
class Played:
    sent: int = 0
    answered: dict[int, int] = field(default_factory=dict)
    deals: list[w.Deal] = field(default_factory=list)
    last: str = ""
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        answers = ", ".join(f"{status}: {n:,}" for status, n in sorted(self.answered.items()))
        return f"{self.sent:,} deals in {self.seconds:.1f} s ({self.rate:.1f}/s; {answers})"


class Api:
    """One service's API with an admin's development token; every answer checked."""

    def __init__(self, client: httpx.AsyncClient, gate: asyncio.Semaphore) -> None:
        self.client = client
        self.gate = gate

    async def call(
        self, method: str, path: str, body: Any = None, *, ok: Iterable[int] = (200, 201), **kw: Any
    ) -> Any:
        async with self.gate:
            response = await self.client.request(method, path, json=body, **kw)
        if response.status_code not in set(ok):
            raise DemoError(
                f"{method} {self.client.base_url}{path} answered {response.status_code}: "
                f"{response.text[:1000]}"
            )
        return response.json() if response.content else None

    async def every(self, calls: Iterable[Awaitable[Any]]) -> list[Any]:
        return list(await asyncio.gather(*calls))


def admin_headers() -> dict[str, str]:
    settings = ServiceSettings()
    token = mint_token(
        settings.jwt_secret.get_secret_value(),
        subject="demo",
        roles=[Role.ADMIN],
        person_id=ADMIN_PERSON,
        audience=settings.jwt_audience,
        ttl=timedelta(hours=24),
    )
    return {"Authorization": f"Bearer {token}"}


# --- loading ---------------------------------------------------------------------------------


async def load(
    urls: Urls,
    workload: Workload,
    today: date,
    cast: Cast,
    say: Callable[[str], None],
    *,
    with_history: bool = True,
) -> Loaded:
    """Everything the demo needs, through the APIs; a second call changes nothing."""
    started = time.perf_counter()
    loaded = Loaded()
    gate = asyncio.Semaphore(CONNECTIONS)
    headers = admin_headers()
    async with (
        httpx.AsyncClient(base_url=urls.goal, headers=headers, timeout=PLAN_TIMEOUT_SECONDS) as g,
        httpx.AsyncClient(base_url=urls.tracking, headers=headers, timeout=120) as t,
        httpx.AsyncClient(base_url=urls.incentive, headers=headers, timeout=120) as i,
    ):
        goals, tracking, incentives = Api(g, gate), Api(t, gate), Api(i, gate)
        loaded.calendar = await load_calendar(goals)
        say(f"calendar: {loaded.calendar}")
        loaded.org_units, loaded.people = await load_org(goals, workload)
        loaded.product_lines = await load_product_lines(goals)
        say(f"org: {loaded.org_units:,} org units, {loaded.people:,} people")
        # The ledger before the goals: a goal that tracking-service hears of counts what the
        # ledger holds at once, where deals arriving after the goals would each update dozens
        # of goals, and alert-service would first judge every goal on an empty ledger.
        loaded.secret = await load_source(tracking)
        if with_history:
            loaded.history = await load_history(tracking, workload, today, cast)
            say(f"history: {_counts(loaded.history)}")
        loaded.plans = await load_goals(goals, workload)
        loaded.goals = await count_goals(goals)
        say(f"goals: {loaded.goals:,}")
        loaded.incentive_plans = await load_incentive_plans(incentives, workload)
    loaded.seconds = time.perf_counter() - started
    return loaded


async def load_calendar(goals: Api) -> str:
    """The workload's periods are calendar years: the fiscal year must start in January."""
    calendar = await goals.call("GET", "/calendar")
    if calendar["fiscal_year_start_month"] != 1:
        calendar = await goals.call(
            "PUT",
            "/calendar",
            {
                "timezone": calendar["timezone"],
                "fiscal_year_start_month": 1,
                "holidays": calendar["holidays"],
                "growth_ceiling": calendar["growth_ceiling"],
            },
        )
        return f"{calendar['timezone']}, fiscal year set to start in January"
    return f"{calendar['timezone']}, fiscal year from January (as it was)"


async def load_org(goals: Api, workload: Workload) -> tuple[int, int]:
    """Units top down, then people, then each unit's manager (a manager must exist before a unit
    names them). A manager is a member of the unit above theirs, as the decomposition bench has
    it, so that a team's people are its reps and a plan splits a team's goal among them only."""
    listed = await goals.call("GET", "/org-units", params={"limit": 1000})
    existing = {unit["id"] for unit in listed["data"]}
    for depth in sorted({len(unit.path) for unit in workload.units}):
        level = [u for u in workload.units if len(u.path) == depth and u.id not in existing]
        await goals.every(goals.call("PUT", f"/org-units/{u.id}", _unit(u, None)) for u in level)
    year = workload.year
    managers = (
        goals.call(
            "PUT",
            f"/people/{unit.manager_id}",
            {
                "name": f"Manager of {unit.name}",
                "email": f"{unit.manager_id}@example.com",
                "org_unit_id": _parent(unit) or unit.id,
                "member_since": date(year - 1, 1, 1).isoformat(),
                "maturity": "experienced",
            },
        )
        for unit in workload.units
    )
    # A new rep joined at the start of this year and ramps up during it (capacity weights).
    reps = (
        goals.call(
            "PUT",
            f"/people/{rep.id}",
            {
                "name": f"Rep {rep.id[4:]}",
                "email": f"{rep.id}@example.com",
                "org_unit_id": rep.team.id,
                "member_since": date(year if rep.new else year - 1, 1, 1).isoformat(),
                "maturity": "new" if rep.new else "experienced",
                "hired_on": date(year, 1, 1).isoformat() if rep.new else None,
            },
        )
        for rep in workload.reps
    )
    await goals.every(managers)
    await goals.every(reps)
    await goals.every(
        goals.call("PUT", f"/org-units/{u.id}", _unit(u, u.manager_id)) for u in workload.units
    )
    return len(workload.units), len(workload.units) + len(workload.reps)


def _unit(unit: Unit, manager_id: str | None) -> dict[str, Any]:
    return {
        "name": unit.name,
        "kind": unit.kind,
        "parent_id": _parent(unit),
        "manager_id": manager_id,
    }


def _parent(unit: Unit) -> str | None:
    return unit.path[-2] if len(unit.path) > 1 else None


async def load_product_lines(goals: Api) -> int:
    await goals.every(
        goals.call("PUT", f"/product-lines/{line}", {"name": line.title(), "maturity": "mature"})
        for line in w.PRODUCT_LINES
    )
    return len(w.PRODUCT_LINES)


def time_step() -> dict[str, Any]:
    """Quarters, months and weeks by the workload's seasonal profile."""
    return {
        "kind": "time",
        "grains": ["quarter", "month", "week"],
        "profile": {"kind": "percentages", "months": list(w.MONTH_SHARES)},
    }


def company_plan(workload: Workload) -> dict[str, Any]:
    """Company → regions → teams → reps by capacity (headcount and the new reps' ramp), then
    every rep's year to quarters, months and weeks."""
    levels = max(len(unit.path) for unit in workload.units)  # the last org step is to people
    return {
        "dry_run": False,
        "include_changes": False,
        "reason": "demo: the workload's plan",
        "steps": [*({"kind": "org", "method": "capacity"} for _ in range(levels)), time_step()],
    }


async def load_goals(goals: Api, workload: Workload) -> list[str]:
    """For each metric: the company's goal for the year decomposed by one plan, then each org
    unit's own year split over time by a plan of its own (the company plan splits the reps')."""
    fiscal_year = f"FY{workload.year}"
    targets = _company_targets(workload)
    company = workload.units[0]
    applied = []
    for metric in w.METRICS:
        root = await _company_goal(goals, company, metric, fiscal_year, targets[metric], workload)
        answer = await goals.call("POST", f"/goals/{root}/plans", company_plan(workload))
        applied.append(f"{metric} {fiscal_year} of {company.id} → reps → weeks: {_summary(answer)}")
        unit_goals = await _unit_year_goals(goals, workload, metric, fiscal_year)
        answers = await goals.every(
            goals.call(
                "POST",
                f"/goals/{goal_id}/plans",
                {"dry_run": False, "include_changes": False, "steps": [time_step()]},
            )
            for goal_id in unit_goals
        )
        summed = {
            name: sum(int(a["summary"][name]) for a in answers)
            for name in ("created", "updated", "kept")
        }
        applied.append(
            f"{metric} {fiscal_year} of {len(unit_goals)} org units → weeks: "
            + ", ".join(f"{name} {n:,}" for name, n in summed.items())
        )
    return applied


def _company_targets(workload: Workload) -> dict[str, str]:
    """The workload's targets for the company's year: what its reps are expected to make."""
    wanted = {w.goal_id(workload.units[0].id, m, f"FY{workload.year}"): m for m in w.METRICS}
    targets = {}
    for goal in workload.goals():
        if goal.goal_id in wanted:
            targets[wanted[goal.goal_id]] = format(goal.target, "f")
            if len(targets) == len(wanted):
                break
    return targets


async def _company_goal(
    goals: Api, company: Unit, metric: str, fiscal_year: str, target: str, workload: Workload
) -> str:
    found = await goals.call(
        "GET",
        "/goals",
        params={"org_unit_id": company.id, "metric": metric, "period_key": fiscal_year},
    )
    for goal in found["goals"]:
        if goal["person_id"] is None and goal["parent_id"] is None and goal["product_line"] is None:
            return str(goal["id"])
    written = await goals.call(
        "POST",
        "/goals",
        {
            "metric": metric,
            "org_unit_id": company.id,
            "owner_id": company.manager_id,
            "period_key": fiscal_year,
            "target": target,
            "currency": w.CURRENCY if metric == "revenue" else None,
            "headcount": len(workload.reps),
            "rationale": "the reference workload's expected output",
        },
    )
    return str(written["goal"]["id"])


async def _unit_year_goals(
    goals: Api, workload: Workload, metric: str, fiscal_year: str
) -> list[str]:
    ids = []
    for unit in workload.units:
        found = await goals.call(
            "GET",
            "/goals",
            params={"org_unit_id": unit.id, "metric": metric, "period_key": fiscal_year},
        )
        ids += [g["id"] for g in found["goals"] if g["person_id"] is None]
    return ids


def _summary(answer: dict[str, Any]) -> str:
    summary = answer["summary"]
    counts = ", ".join(f"{name} {summary[name]:,}" for name in ("created", "updated", "kept"))
    notes = summary.get("notes") or []
    return counts + (f"; {len(notes)} notes, first: {notes[0]}" if notes else "")


async def count_goals(goals: Api) -> int:
    count, after = 0, None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"after": after} if after else {})}
        page = await goals.call("GET", "/goals", params=params)
        count += len(page["data"])
        after = page["next_after"]
        if after is None:
            return count


async def load_source(tracking: Api) -> str:
    source = await tracking.call("PUT", f"/sources/{SOURCE_ID}", {"name": "Demo CRM"})
    return str(source["secret"])


def history(workload: Workload, today: date, cast: Cast) -> list[w.Deal]:
    """The last version of each of this year's deals closed before today, less the starved
    reps' of the last `STARVED_DAYS`."""
    quiet_from = (today - timedelta(days=STARVED_DAYS)).isoformat()
    starved = {rep.id for rep in cast.starved}
    before = today.isoformat()
    return [
        deal
        for deal in workload.final_deals()
        if deal["closed_on"] < before
        and not (deal["owner_id"] in starved and deal["closed_on"] >= quiet_from)
    ]


async def load_history(
    tracking: Api, workload: Workload, today: date, cast: Cast
) -> dict[str, int]:
    deals = history(workload, today, cast)
    totals = {"sent": len(deals)}
    # One batch at a time: tracking-service takes each in one transaction, and parallel ones
    # measured slower on two cores.
    for start in range(0, len(deals), BATCH_SIZE):
        report = await tracking.call(
            "POST",
            f"/sources/{SOURCE_ID}/batch",
            {"deals": deals[start : start + BATCH_SIZE]},
            ok=(200, 207),
        )
        for name in ("accepted", "duplicate", "stale", "parked", "rejected"):
            totals[name] = totals.get(name, 0) + int(report[name])
        if report["errors"]:
            raise DemoError(f"the batch refused deals: {report['errors'][:3]}")
    return totals


def incentive_plans(workload: Workload) -> list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    """(plan, versions by first day): every rep on a monthly plan, the last team's reps on a
    quarterly one instead (the more specific assignment wins), managers on a team bonus."""
    year = workload.year
    last_team = [unit for unit in workload.units if unit.kind == "team"][-1]
    tiers: list[dict[str, Any]] = [
        {"floor": "0", "ceiling": "1", "rate": "0.04"},
        {"floor": "1", "ceiling": "1.5", "rate": "0.07"},
        {"floor": "1.5", "ceiling": None, "rate": "0.10"},
    ]
    threshold: dict[str, Any] = {
        "kind": "threshold_bonus",
        "id": "quota-club",
        "threshold": "1",
        "percent_of_commission": "10",
    }
    monthly_h2 = [*tiers[:2], {**tiers[2], "rate": "0.12"}]
    return [
        (
            {
                "id": PLAN_IDS[0],
                "name": "Reps, monthly",
                "period": "month",
                "assignments": [{"role": "rep"}],
            },
            {
                f"{year}-01-01": {"components": [_commission("marginal", tiers), threshold]},
                # From July the top tier pays more: a mid-year change is a new version.
                f"{year}-07-01": {"components": [_commission("marginal", monthly_h2), threshold]},
            },
        ),
        (
            {
                "id": PLAN_IDS[1],
                "name": f"Reps of {last_team.name}, quarterly",
                "period": "quarter",
                "assignments": [{"role": "rep", "org_unit_id": last_team.id}],
            },
            {
                f"{year}-01-01": {
                    "components": [
                        _commission(
                            "retroactive",
                            [
                                {"floor": "0", "ceiling": "0.8", "rate": "0.03"},
                                {"floor": "0.8", "ceiling": "1", "rate": "0.05"},
                                {"floor": "1", "ceiling": None, "rate": "0.08"},
                            ],
                        ),
                        {
                            "kind": "attainment_bonus",
                            "id": "on-target",
                            "target_incentive": "20000.00",
                            "curve": [
                                {"attainment": "0", "payout": "0"},
                                {"attainment": "1", "payout": "1"},
                                {"attainment": "2", "payout": "1.5"},
                            ],
                            "gate": "0.5",
                            "cap": "2",
                        },
                        threshold,
                        {
                            "kind": "team_bonus",
                            "id": "team",
                            "pool": "30000.00",
                            "threshold": "1",
                            "split": "contribution",
                        },
                    ]
                },
            },
        ),
        (
            {
                "id": PLAN_IDS[2],
                "name": "Managers, quarterly team bonus",
                "period": "quarter",
                "assignments": [{"role": "manager"}],
            },
            {
                f"{year}-01-01": {
                    "components": [
                        {
                            "kind": "team_bonus",
                            "id": "team",
                            "pool": "20000.00",
                            "threshold": "1",
                            "split": "equal",
                        }
                    ]
                },
            },
        ),
    ]


def _commission(method: str, tiers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "commission", "id": "commission", "method": method, "tiers": tiers}


async def load_incentive_plans(incentives: Api, workload: Workload) -> list[str]:
    described = []
    for plan, versions in incentive_plans(workload):
        plan_id = plan["id"]
        body = {key: value for key, value in plan.items() if key != "id"}
        await incentives.call("PUT", f"/plans/{plan_id}", {**body, "currency": w.CURRENCY})
        for first_day, terms in versions.items():
            stored = await incentives.call("PUT", f"/plans/{plan_id}/versions/{first_day}", terms)
        kinds = sorted({c["kind"] for terms in versions.values() for c in terms["components"]})
        described.append(
            f"{plan_id} ({plan['period']}ly; {', '.join(kinds)}; versions from "
            f"{', '.join(versions)}; revision {stored['revision']})"
        )
    return described


# --- playing ---------------------------------------------------------------------------------


class Player:
    """Won deals dated today for the reps who play, drawn like the workload's (the reps by their
    output, amounts log-normal), each signed and posted as the CRM would."""

    def __init__(self, workload: Workload, cast: Cast, today: date, run_id: str) -> None:
        self.today = today
        self.run_id = run_id
        self.rng = Random(f"{workload.seed}:demo:{run_id}")
        self.reps = [rep.id for rep in cast.playing]
        self.cumulative = list(itertools.accumulate(rep.output for rep in cast.playing))
        self.customers = max(1, workload.size.deals // w.DEALS_PER_CUSTOMER)
        self.numbers = itertools.count(1)

    def next_deal(self) -> w.Deal:
        rng = self.rng
        amount = max(rng.lognormvariate(math.log(w.MEDIAN_AMOUNT), w.AMOUNT_SIGMA), 1.0)
        return {
            "id": f"demo-{self.run_id}-{next(self.numbers):06d}",
            "version": 1,
            "stage": "won",
            "amount": f"{amount:.2f}",
            "currency": w.CURRENCY,
            "owner_id": rng.choices(self.reps, cum_weights=self.cumulative)[0],
            "closed_on": self.today.isoformat(),
            "created_on": (self.today - timedelta(days=rng.randint(7, 120))).isoformat(),
            "product_line": rng.choices(w.PRODUCT_LINES, w.PRODUCT_LINE_WEIGHTS)[0],
            "customer_id": f"C-{rng.randrange(self.customers):06d}",
        }


async def play(
    urls: Urls,
    secret: str,
    player: Player,
    *,
    rate: float,
    deals: int | None,
    seconds: float | None,
    stop: asyncio.Event,
    say: Callable[[str], None],
    watch: Callable[[], Awaitable[str]] | None = None,
) -> Played:
    """Post deals at `rate` a second until `deals` are sent, `seconds` have passed or `stop` is
    set; sends overlap (up to `CONNECTIONS`) so that a slow answer does not lower the rate.
    Every `REPORT_EVERY_SECONDS` it says how far it got, with what `watch` sees."""
    played = Played()
    url = f"{urls.tracking}/webhooks/{SOURCE_ID}/deals"
    gate = asyncio.Semaphore(CONNECTIONS)
    sending: set[asyncio.Task[None]] = set()
    started = time.monotonic()
    next_report = started + REPORT_EVERY_SECONDS

    async def send(client: httpx.AsyncClient, deal: w.Deal) -> None:
        body = json.dumps(deal)
        try:
            response = await client.post(url, content=body, headers=signed_headers(secret, body))
            status, answer = response.status_code, _answer(response)
        except httpx.HTTPError as error:
            status, answer = 0, f"{type(error).__name__}: {error}"
        finally:
            gate.release()
        played.answered[status] = played.answered.get(status, 0) + 1
        played.last = (
            f"{deal['id']} for {deal['owner_id']}, {deal['amount']} {deal['currency']} → "
            f"{status} {answer}"
        )

    async with httpx.AsyncClient(timeout=30) as client:
        for n in itertools.count():
            if deals is not None and n >= deals:
                break
            due = started + n / rate
            # Behind schedule (the services answer slower than the rate), the clock decides.
            if seconds is not None and max(due, time.monotonic()) - started >= seconds:
                break
            if await _stopped(stop, due - time.monotonic()):
                break
            await gate.acquire()
            deal = player.next_deal()
            played.deals.append(deal)
            played.sent += 1
            task = asyncio.create_task(send(client, deal))
            sending.add(task)
            task.add_done_callback(sending.discard)
            if time.monotonic() >= next_report:
                played.seconds = time.monotonic() - started
                seen = f"; {await watch()}" if watch else ""
                say(f"played {played.describe()}{seen}; last {played.last}")
                next_report += REPORT_EVERY_SECONDS
        await asyncio.gather(*sending)
    played.seconds = time.monotonic() - started
    return played


def _answer(response: httpx.Response) -> str:
    if response.status_code != 200:
        return response.text[:300]
    answer = response.json()
    flags = [name for name in ("duplicate", "stale") if answer.get(name)]
    if answer.get("parked"):
        flags.append(f"parked {answer['parked']}")
    return ", ".join(flags) or f"{len(answer.get('ledger_entries') or [])} ledger rows"


async def open_alerts(urls: Urls, owner_id: str) -> str:
    """How many alerts are open, in all and for one owner, or why that is not known."""
    async with httpx.AsyncClient(base_url=urls.alert, headers=admin_headers(), timeout=10) as a:
        alerts = Api(a, asyncio.Semaphore(2))
        try:
            every, own = await alerts.every(
                alerts.call("GET", "/alerts", params={"status": "open", "limit": 1, **owner})
                for owner in ({}, {"owner_id": owner_id})
            )
        except (DemoError, httpx.HTTPError) as error:
            return f"open alerts unknown ({type(error).__name__})"
    return f"open alerts {every['count']:,} ({owner_id}: {own['count']:,})"


async def _stopped(stop: asyncio.Event, wait: float) -> bool:
    if wait <= 0:
        return stop.is_set()
    try:
        await asyncio.wait_for(stop.wait(), wait)
    except TimeoutError:
        return False
    return True


# --- the command -----------------------------------------------------------------------------


def today_in(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


async def run(args: argparse.Namespace) -> None:
    urls = Urls.from_environment()
    say = _printer()
    async with httpx.AsyncClient(base_url=urls.goal, headers=admin_headers(), timeout=30) as g:
        calendar = await Api(g, asyncio.Semaphore(1)).call("GET", "/calendar")
    today = today_in(calendar["timezone"])
    workload = Workload(args.scale, seed=args.seed, year=today.year)
    cast = Cast.of(workload)
    say(
        f"demo: workload {workload.scale} (seed {workload.seed}) for {today.year}, today "
        f"{today} ({calendar['timezone']}); goal-service at {urls.goal}"
    )
    _sign_in(urls, cast, say)
    loaded = await load(urls, workload, today, cast, say, with_history=args.history)
    say(f"loaded in {loaded.seconds:.1f} s:")
    for line in loaded.describe():
        say(f"  {line}")
    if args.deals == 0:
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    say(
        f"playing won deals dated {today} at {args.rate:g}/s into "
        f"{urls.tracking}/webhooks/{SOURCE_ID}/deals (ids demo-{run_id}-…); "
        f"starved: {', '.join(rep.id for rep in cast.starved)}; Ctrl-C stops"
    )
    _sign_in(urls, cast, say)
    played = await play(
        urls,
        loaded.secret,
        Player(workload, cast, today, run_id),
        rate=args.rate,
        deals=args.deals,
        seconds=args.seconds,
        stop=stop,
        say=say,
        watch=lambda: open_alerts(urls, cast.starved[0].id),
    )
    say(f"stopped: played {played.describe()}; {await open_alerts(urls, cast.starved[0].id)}")


def _sign_in(urls: Urls, cast: Cast, say: Callable[[str], None]) -> None:
    say(f"sign in on the dashboard ({urls.dashboard}) as:")
    for person, role, why in cast.sign_in_as():
        say(f"  {person:<16} role {role:<8} {why}")


def _printer() -> Callable[[str], None]:
    started = time.monotonic()

    def say(line: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {line}", flush=True)

    return say


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load a demo org through the APIs and play deals into the signed webhook."
    )
    parser.add_argument("--scale", choices=list(w.SCALES), default="W/100")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="deals a second")
    parser.add_argument(
        "--deals", type=int, default=None, help="stop after this many (0: load only)"
    )
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument(
        "--no-history",
        dest="history",
        action="store_false",
        help="skip the batch of this year's deals before today",
    )
    args = parser.parse_args(argv)
    if args.rate <= 0:
        parser.error("--rate must be above 0")
    return args


def main() -> None:
    args = parse_args()
    try:
        asyncio.run(run(args))
    except DemoError as error:
        raise SystemExit(f"demo: {error}") from None
    except httpx.ConnectError as error:
        raise SystemExit(
            f"demo: {error.request.url} does not answer; is `make run` going? (the services' "
            "URLs can be set with ATTAIN_DEMO_GOAL_URL, _TRACKING_URL, _ALERT_URL, _INCENTIVE_URL)"
        ) from None
    except KeyboardInterrupt:
        print("\nstopped while loading; a second `make demo` continues", flush=True)


if __name__ == "__main__":
    main()
