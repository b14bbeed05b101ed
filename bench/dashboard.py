"""dashboard: the manager's team page for a region, rendered by dashboard-service (p95 of warm
requests one after another), and a signed deal webhook until the change shows in an open page
(p95, measured in a real browser: Debian's Chromium driven by Playwright, from just before the
webhook is sent until htmx has swapped the rep's grid row in; BENCHMARKS.md).

The five services run as processes of their own. The workload's org tree and people go into
goal-service through its API, the goals through one plan (company → regions → teams → reps by
capacity, then quarters, months and weeks by working days), the year's deals through
tracking-service's batch API; alert- and incentive-service follow from the events.

    uv run python bench/dashboard.py --scale W/10
"""

import asyncio
import math
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from _stack import (
    JWT_SECRET,
    SOURCE_ID,
    Stack,
    Tracking,
    alert_service,
    bench_stack,
    bulk_load,
    environment_for,
    headers_for,
    incentive_service,
    json_bytes,
    note,
    parse_scale,
    print_figure,
    print_headline,
    print_workload,
    serving,
    tracking_processes,
)
from decomposition import load_org
from playwright.async_api import Page, async_playwright
from playwright.async_api import TimeoutError as PageTimeout

from attain_devstack.workload import (
    AMOUNT_SIGMA,
    CANCELLED_SHARE,
    CURRENCY,
    MEDIAN_AMOUNT,
    Rep,
    Workload,
)
from servicekit.auth import Role, mint_token
from servicekit.migrations import upgrade
from tracking_service.cli.sign import signed_headers

TARGET_RENDER_MS = 300.0
TARGET_LIVE_SECONDS = 1.5
WARM_UP_REQUESTS = 5
RENDER_REQUESTS = 60
LIVE_DEALS = 30
LIVE_TIMEOUT_SECONDS = 15.0  # a change not shown by then counts as never shown
BETWEEN_DEALS_SECONDS = 0.5
QUIET_POLLS, QUIET_POLL_SECONDS, QUIET_LIMIT_SECONDS = 3, 2.0, 600.0
CHROMIUM = os.environ.get("ATTAIN_CHROMIUM", "/usr/bin/chromium")
SESSION_COOKIE = "attain_session"  # DashboardSettings.session_cookie


def main() -> None:
    today = datetime.now(UTC).date()
    workload = Workload(parse_scale(__doc__), year=today.year)
    region = workload.units[1]
    reps = [rep for rep in workload.reps if region.id in rep.team.path]
    print_workload(
        workload,
        f"; the page of {region.id} ({len(reps)} reps), {RENDER_REQUESTS} renders after "
        f"{WARM_UP_REQUESTS} to warm up; {LIVE_DEALS} signed deals closing today, one at a time, "
        "watched in Chromium",
    )
    with bench_stack() as stack, five_services(stack) as urls:
        loaded = asyncio.run(load(urls, workload))
        manager = {"Authorization": f"Bearer {manager_token(region.manager_id)}"}
        page_path = f"/team/units/{region.id}"
        render = asyncio.run(time_gets(urls.dashboard, page_path, manager))
        quarter = _quarter_key(today)
        baseline_path = (
            f"/progress?org_unit_id={region.id}&period_key={quarter}&metric=revenue&limit=1000"
        )
        baseline = asyncio.run(time_gets(urls.tracking_url, baseline_path, manager))
        live = asyncio.run(watch_live(urls, page_path, region.manager_id, reps, today))
    render_p95, baseline_p95 = render.percentile_ms(95), baseline.percentile_ms(95)
    live_p95 = live.p95_seconds
    print_figure("loaded", loaded)
    print_figure(
        "render",
        f"GET {page_path} as {region.manager_id}: p50 {render.percentile_ms(50):.0f} ms, "
        f"p95 {render_p95:.0f} ms, max {max(render.seconds) * 1000:.0f} ms over "
        f"{len(render.seconds)} requests ({render.page_bytes:,} bytes, {render.rows} grid rows, "
        f"{render.cells} coloured cells)",
    )
    print_figure(
        "baseline",
        f"GET tracking-service {baseline_path.split('?')[0]} for the region's quarter goals "
        f"(the largest list the page reads): p95 {baseline_p95:.0f} ms",
    )
    print_figure("ratio", f"page p95 / that list's p95: {render_p95 / baseline_p95:.1f}")
    print_figure(
        "live",
        f"webhook sent until the rep's row is swapped in the open page: p50 "
        f"{live.percentile(50):.2f} s, p95 {live_p95:.2f} s, max {max(live.seconds):.2f} s, "
        f"{live.missed} of {len(live.seconds)} not shown within {LIVE_TIMEOUT_SECONDS:.0f} s",
    )
    print_headline(
        "dashboard",
        f"render p95 {render_p95:.0f} ms, live p95 {live_p95:.2f} s",
        f"< {TARGET_RENDER_MS:.0f} ms, < {TARGET_LIVE_SECONDS} s",
        render_p95 < TARGET_RENDER_MS and live_p95 < TARGET_LIVE_SECONDS and live.missed == 0,
    )


# --- the services ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Urls:
    goal: str
    tracking: Tracking
    alert: str
    incentive: str
    dashboard: str

    @property
    def tracking_url(self) -> str:
        return self.tracking.url

    @property
    def apis(self) -> tuple[str, ...]:
        return (self.goal, self.tracking.url, self.alert, self.incentive)


@contextmanager
def five_services(stack: Stack) -> Iterator[Urls]:
    with ExitStack() as services:
        tracking_url = services.enter_context(tracking_processes(stack))
        response = httpx.put(
            f"{tracking_url}/sources/{SOURCE_ID}",
            json={"name": "Bench CRM"},
            headers=headers_for(Role.ADMIN),
        )
        response.raise_for_status()
        tracking = Tracking(tracking_url, response.json()["secret"])
        upgrade("goal_service", stack.database_url)
        goal_url = services.enter_context(
            serving(
                "goal_service.main:create_app",
                environment_for(stack, ATTAIN_GOAL_TRACKING_URL=tracking_url),
                stack.work_dir / "goal.log",
            )
        )
        alert_url = services.enter_context(alert_service(stack))
        incentive_url = services.enter_context(incentive_service(stack))
        dashboard_url = services.enter_context(
            serving(
                "dashboard_service.main:create_app",
                environment_for(
                    stack,
                    ATTAIN_DASHBOARD_GOAL_URL=goal_url,
                    ATTAIN_DASHBOARD_TRACKING_URL=tracking_url,
                    ATTAIN_DASHBOARD_ALERT_URL=alert_url,
                    ATTAIN_DASHBOARD_INCENTIVE_URL=incentive_url,
                ),
                stack.work_dir / "dashboard.log",
            )
        )
        yield Urls(goal_url, tracking, alert_url, incentive_url, dashboard_url)


def manager_token(person_id: str) -> str:
    return mint_token(JWT_SECRET, subject=person_id, roles=[Role.MANAGER], person_id=person_id)


# --- the workload, through the public APIs ---------------------------------------------------


def company_target(workload: Workload) -> int:
    """What the workload's reps are expected to sell in the year (the generator's own sum), so
    that some reps are ahead and some behind rather than everyone far off."""
    won = workload.size.deals * (1 - CANCELLED_SHARE)
    return round(won * MEDIAN_AMOUNT * math.exp(AMOUNT_SIGMA**2 / 2))


PLAN = {
    "dry_run": False,
    "include_changes": False,
    "steps": [
        {"kind": "org", "method": "capacity"},  # company → regions
        {"kind": "org", "method": "capacity"},  # regions → teams
        {"kind": "org", "method": "capacity"},  # teams → reps
        {
            "kind": "time",
            "grains": ["quarter", "month", "week"],
            "profile": {"kind": "working_days"},
        },
    ],
}


async def load(urls: Urls, workload: Workload) -> str:
    started = time.perf_counter()
    org = await load_org(urls.goal, workload)
    planner = headers_for(Role.PLANNER)
    company = workload.units[0]
    async with httpx.AsyncClient(headers=planner, timeout=3600) as client:
        created = await client.post(
            f"{urls.goal}/goals",
            json={
                "metric": "revenue",
                "org_unit_id": company.id,
                "owner_id": company.manager_id,
                "period_key": f"FY{workload.year}",
                "target": str(company_target(workload)),
            },
        )
        _expect(created, 201, "POST /goals")
        root = created.json()["goal"]["id"]
        applied = await client.post(f"{urls.goal}/goals/{root}/plans", json=PLAN)
        _expect(applied, 200, "POST /goals/{id}/plans")
        goals = int(applied.json()["summary"]["created"])
        note(f"plan applied: {goals:,} goals; waiting for tracking-service to hold them")
        await _until(
            lambda: _count(client, f"{urls.tracking_url}/progress", limit=1), goals, "tracking"
        )
    deals = bulk_load(urls.tracking, workload)
    note(f"{deals.records:,} deal records projected; waiting for alert- and incentive-service")
    await _until_quiet(urls, workload)
    return (
        f"{org}; {goals:,} goals by one plan; {deals.records:,} deal records through the batch "
        f"API; everything consumed after {time.perf_counter() - started:.0f} s (not timed)"
    )


async def _count(client: httpx.AsyncClient, url: str, **params: Any) -> int:
    response = await client.get(url, params=params, headers=headers_for(Role.ADMIN))
    _expect(response, 200, url)
    return int(response.json()["count"])


async def _until(count: Any, expected: int, what: str) -> None:
    deadline = time.monotonic() + QUIET_LIMIT_SECONDS
    while (seen := await count()) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} holds {seen:,} of {expected:,} after {QUIET_LIMIT_SECONDS}s")
        await asyncio.sleep(0.5)


async def _until_quiet(urls: Urls, workload: Workload) -> None:
    """Until alert-service's open alerts and incentive-service's leaderboard stop changing and no
    service has an outbox row left to publish: what they still consume or publish would otherwise
    compete with what is measured (and a live deal's event would queue behind it)."""
    company = workload.units[0].id
    fiscal_year = f"FY{workload.year}"
    admin = headers_for(Role.ADMIN)
    last: tuple[object, ...] = ()
    steady = 0
    deadline = time.monotonic() + QUIET_LIMIT_SECONDS
    async with httpx.AsyncClient(headers=admin, timeout=120) as client:
        while steady < QUIET_POLLS and time.monotonic() < deadline:
            alerts = await client.get(f"{urls.alert}/alerts", params={"limit": 1})
            board = await client.get(
                f"{urls.incentive}/org-units/{company}/leaderboard", params={"period": fiscal_year}
            )
            _expect(alerts, 200, "GET /alerts")
            _expect(board, 200, "GET /org-units/{id}/leaderboard")
            now = (alerts.json()["count"], [r["actual"] for r in board.json()["data"]])
            backlog = sum([await _outbox_backlog(client, url) for url in urls.apis])
            steady = steady + 1 if now == last and backlog == 0 else 0
            last = now
            await asyncio.sleep(QUIET_POLL_SECONDS)
    note(f"quiet: {last[0]} alerts")


async def _outbox_backlog(client: httpx.AsyncClient, base_url: str) -> float:
    """The service's unpublished outbox rows, from its metrics."""
    exposition = (await client.get(f"{base_url}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("attain_outbox_backlog{")
    )


def _expect(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise SystemExit(f"{what} answered {response.status_code}: {response.text[:1000]}")


def _quarter_key(day: date) -> str:
    return f"FY{day.year}-Q{(day.month - 1) // 3 + 1}"


# --- render ----------------------------------------------------------------------------------


@dataclass
class Timings:
    seconds: list[float]
    page_bytes: int = 0
    rows: int = 0
    cells: int = 0

    def percentile_ms(self, p: int) -> float:
        return statistics.quantiles(self.seconds, n=100)[p - 1] * 1000


async def time_gets(base_url: str, path: str, headers: dict[str, str]) -> Timings:
    """`GET path` one request after another on one keep-alive connection, after a warm-up."""
    timings = Timings([])
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        for n in range(WARM_UP_REQUESTS + RENDER_REQUESTS):
            started = time.perf_counter()
            response = await client.get(path)
            elapsed = time.perf_counter() - started
            _expect(response, 200, f"GET {path}")
            if n >= WARM_UP_REQUESTS:
                timings.seconds.append(elapsed)
        body = response.text
    timings.page_bytes = len(body.encode())
    timings.rows = body.count('<tr id="row-')
    timings.cells = body.count("data-band=")
    return timings


# --- live ------------------------------------------------------------------------------------

WATCH_SWAPS = """
() => {
  window.__swaps = [];
  new MutationObserver((mutations) => {
    const at = Date.now();
    for (const mutation of mutations)
      for (const node of mutation.addedNodes)
        if (node.id) window.__swaps.push({id: node.id, at});
  }).observe(document.querySelector("table.pace-grid tbody"), {childList: true});
}
"""
SSE_OPEN = """
document.addEventListener("htmx:sseOpen", () => { window.__sseOpen = true; });
window.__sse = [];
document.addEventListener("htmx:sseMessage", (e) => {
  window.__sse.push({type: e.detail.type, at: Date.now()});
});
window.__sseErrors = 0;
document.addEventListener("htmx:sseError", () => { window.__sseErrors += 1; });
"""


@dataclass
class Live:
    seconds: list[float]

    @property
    def missed(self) -> int:
        return sum(1 for s in self.seconds if s == math.inf)

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.seconds, n=100)[p - 1]

    @property
    def p95_seconds(self) -> float:
        return self.percentile(95)


async def watch_live(
    urls: Urls, page_path: str, manager_id: str, reps: list[Rep], today: date
) -> Live:
    live = Live([])
    responses: list[tuple[float, int, str]] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context()
            await context.add_cookies(
                [
                    {
                        "name": SESSION_COOKIE,
                        "value": manager_token(manager_id),
                        "url": urls.dashboard,
                    }
                ]
            )
            await context.add_init_script(SSE_OPEN)
            page = await context.new_page()
            page.on("response", lambda r: responses.append((time.time(), r.status, r.url)))
            await page.goto(urls.dashboard + page_path)
            await page.wait_for_function("window.__sseOpen === true", timeout=30_000)
            await page.evaluate(WATCH_SWAPS)
            async with httpx.AsyncClient(base_url=urls.tracking_url, timeout=30) as client:
                for n in range(LIVE_DEALS):
                    rep = reps[n % len(reps)]
                    live.seconds.append(
                        await _one_deal(client, page, urls, rep, n, today, responses)
                    )
                    await asyncio.sleep(BETWEEN_DEALS_SECONDS)
        finally:
            await browser.close()
    return live


async def _one_deal(
    client: httpx.AsyncClient,
    page: Page,
    urls: Urls,
    rep: Rep,
    n: int,
    today: date,
    responses: list[tuple[float, int, str]],
) -> float:
    deal = {
        "id": f"live-{n:04d}",
        "version": 1,
        "stage": "won",
        "amount": "25000.00",
        "currency": CURRENCY,
        "owner_id": rep.id,
        "closed_on": today.isoformat(),
    }
    body = json_bytes(deal).decode()
    headers = signed_headers(urls.tracking.source_secret, body)
    sent = time.time()
    response = await client.post(f"/webhooks/{SOURCE_ID}/deals", content=body, headers=headers)
    _expect(response, 200, "the deal webhook")
    row = f"row-person-{rep.id}"
    try:
        shown_ms = await page.wait_for_function(
            """([row, after]) => {
                 const swap = window.__swaps.find((s) => s.id === row && s.at >= after);
                 return swap ? swap.at : null;
               }""",
            arg=[row, sent * 1000],
            timeout=LIVE_TIMEOUT_SECONDS * 1000,
            polling=20,
        )
    except PageTimeout:
        # What the page heard and fetched meanwhile, to tell where the change stopped.
        heard = await page.evaluate(
            "(after) => [window.__sse.filter((m) => m.at >= after).length, window.__sseErrors]",
            sent * 1000,
        )
        fetched = [(status, url.split("?")[0]) for at, status, url in responses if at >= sent]
        note(
            f"deal {deal['id']} for {rep.id}: not shown within {LIVE_TIMEOUT_SECONDS} s; the page "
            f"heard {heard[0]} live messages ({heard[1]} errors) and fetched {fetched[:5]}"
        )
        return math.inf
    return float(await shown_ms.json_value()) / 1000 - sent


if __name__ == "__main__":
    main()
