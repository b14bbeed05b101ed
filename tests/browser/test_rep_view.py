"""A rep's "my goals" in Chromium against the five services as processes: sign in,
see the goal, watch a signed deal move it without a reload, acknowledge an alert,
find another rep's page not found, read it in Chinese and English, and hear
nothing on the live channel about another rep's goal."""

import asyncio
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from babel.messages.pofile import read_po
from browsing import REACTION_MS, acknowledge, assert_accessible, screenshot, sign_in
from playwright.sync_api import BrowserContext, Page, Route, expect

from attain_devstack.processes import Stack
from dashboard_service.api.i18n import TRANSLATIONS_DIR
from servicekit.auth import Role, mint_token
from servicekit.settings import DEVELOPMENT_SECRET
from tracking_service.cli.sign import signed_headers

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u3400-\u9fff]")


def bearer(person_id: str, *roles: Role) -> dict[str, str]:
    token = mint_token(
        DEVELOPMENT_SECRET, subject=person_id, roles=list(roles), person_id=person_id
    )
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer("admin", Role.ADMIN)


@dataclass(frozen=True)
class World:
    stack: Stack
    team: str
    ann: str
    bob: str
    ann_goal: str
    bob_goal: str
    source: str
    secret: str

    def won_deal(self, owner: str, amount: str) -> None:
        deal = json.dumps(
            {
                "id": f"D-{uuid4().hex[:10]}",
                "version": 1,
                "stage": "won",
                "amount": amount,
                "currency": "CNY",
                "owner_id": owner,
                "closed_on": datetime.now(UTC).date().isoformat(),
            }
        )
        url = f"{self.stack.urls['tracking-service']}/webhooks/{self.source}/deals"
        response = httpx.post(url, content=deal, headers=signed_headers(self.secret, deal))
        assert response.status_code == 200, response.text

    def api(self, service: str, path: str, who: dict[str, str] = ADMIN) -> Any:
        response = httpx.get(f"{self.stack.urls[service]}{path}", headers=who, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), f"{response.request.url}: {response.text}"
    return response.json()


def eventually(read: Callable[[], Any], holds: Callable[[Any], bool], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if holds(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never held; last: {value}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world(stack: Stack) -> World:
    """A company with one team of two reps, each with a revenue goal two thirds
    through its 30 days and a 5% commission plan; a CRM source for their deals."""
    tag = uuid4().hex[:6]
    company, team = f"acme-{tag}", f"east-{tag}"
    ann, bob = f"ann-{tag}", f"bob-{tag}"
    goals, tracking = stack.urls["goal-service"], stack.urls["tracking-service"]
    incentives = stack.urls["incentive-service"]
    today = datetime.now(UTC).date()
    with httpx.Client(headers=ADMIN, timeout=10) as http:
        ok(http.put(f"{goals}/org-units/{company}", json={"name": "Acme", "kind": "company"}))
        ok(
            http.put(
                f"{goals}/org-units/{team}",
                json={"name": "East", "kind": "team", "parent_id": company},
            )
        )
        goal_ids = []
        for person, name in ((ann, "Ann"), (bob, "Bob")):
            ok(
                http.put(
                    f"{goals}/people/{person}",
                    json={"name": name, "org_unit_id": team, "member_since": "2020-01-01"},
                )
            )
            written = ok(
                http.post(
                    f"{goals}/goals",
                    json={
                        "metric": "revenue",
                        "org_unit_id": team,
                        "person_id": person,
                        "owner_id": person,
                        "period_start": (today - timedelta(days=20)).isoformat(),
                        "period_end": (today + timedelta(days=9)).isoformat(),
                        "target": "100000",
                    },
                )
            )
            goal_ids.append(written["goal"]["id"])
        secret = ok(http.put(f"{tracking}/sources/crm-{tag}", json={"name": "CRM"}))["secret"]
        ok(
            http.put(
                f"{incentives}/plans/flat-{tag}",
                json={
                    "name": "5%",
                    "period": "month",
                    "currency": "CNY",
                    "assignments": [{"person_id": ann}, {"person_id": bob}],
                },
            )
        )
        ok(
            http.put(
                f"{incentives}/plans/flat-{tag}/versions/2020-01-01",
                json={
                    "components": [
                        {
                            "kind": "commission",
                            "id": "base",
                            "method": "marginal",
                            "tiers": [{"floor": "0", "ceiling": None, "rate": "0.05"}],
                        }
                    ]
                },
            )
        )
    created = World(stack, team, ann, bob, goal_ids[0], goal_ids[1], f"crm-{tag}", secret)
    for goal_id in goal_ids:
        eventually(
            lambda goal_id=goal_id: (
                httpx.get(f"{tracking}/goals/{goal_id}/progress", headers=ADMIN).status_code
            ),
            lambda status: status == 200,
        )
    return created


def shown(attainment: str) -> str:
    """How the page writes an attainment (one decimal)."""
    return f"{Decimal(attainment) * 100:.1f}%"


def test_a_rep_signs_in_and_sees_their_goal(browser_context: BrowserContext, world: World) -> None:
    page = browser_context.new_page()
    page.goto("/me")
    expect(page.get_by_role("heading", name=re.compile("^登录"))).to_be_visible()
    assert_accessible(page)
    screenshot(page, "sign-in-development")

    sign_in(page, world.stack, world.ann)
    expect(page).to_have_url(re.compile(f"/people/{world.ann}$"))
    card = page.locator(f"#goal-{world.ann_goal}")
    expect(card).to_be_visible()
    progress = world.api("tracking-service", f"/goals/{world.ann_goal}/progress")
    expect(card.locator("[data-field=attainment]")).to_have_text(shown(progress["attainment"]))
    expect(page.locator(f"#goal-{world.bob_goal}")).to_have_count(0)
    expect(card.locator(".chart svg")).to_have_count(1)
    assert_accessible(page)
    page.close()


def test_a_signed_deal_moves_the_open_page_without_a_reload(
    browser_context: BrowserContext, world: World
) -> None:
    page = browser_context.new_page()
    sign_in(page, world.stack, world.ann)
    attainment = page.locator(f"#goal-{world.ann_goal} [data-field=attainment]")
    before = world.api("tracking-service", f"/goals/{world.ann_goal}/progress")
    expect(attainment).to_have_text(shown(before["attainment"]))
    page.evaluate("window.notReloaded = true")

    world.won_deal(world.ann, "10000.00")
    after = eventually(
        lambda: world.api("tracking-service", f"/goals/{world.ann_goal}/progress"),
        lambda body: Decimal(body["actual"]) == Decimal(before["actual"]) + 10000,
    )
    expect(attainment).to_have_text(shown(after["attainment"]), timeout=REACTION_MS)
    statement_total = page.locator("[data-field=statement-total]")
    expect(statement_total).not_to_have_text("¥0.00", timeout=REACTION_MS)
    assert page.evaluate("window.notReloaded") is True, "the page was reloaded"
    assert_accessible(page)
    screenshot(page, "rep-goals-zh")
    page.close()


def open_alert_on_the_page(
    page: Page, world: World, person_id: str, goal_id: str, *, reload: bool
) -> dict[str, Any]:
    """An open alert of the goal that the page shows. alert-service, whose copy of the org may
    be behind, can replace the first alert it opened by another as it catches up, so this asks
    for the open alerts again until one of them is on the page (loaded again each time if
    `reload`, else kept up by the live channel)."""
    deadline = time.monotonic() + REACTION_MS / 1000
    while True:
        if reload:
            page.reload()
        open_now = world.api(
            "alert-service",
            f"/alerts?goal_id={goal_id}&status=open",
            bearer(person_id, Role.REP),
        )["data"]
        shown = [a for a in open_now if page.locator(f"#alert-{a['id']}").is_visible()]
        if shown:
            return shown[0]
        assert time.monotonic() < deadline, f"no open alert of the goal on the page: {open_now}"
        page.wait_for_timeout(500)


def test_acknowledging_an_alert_on_the_page_acknowledges_it_at_alert_service(
    browser_context: BrowserContext, world: World
) -> None:
    page = browser_context.new_page()
    sign_in(page, world.stack, world.ann)
    # Far behind a linear pace two thirds through the period: the pace rule opens
    # an alert on the goal's next progress; the open page shows it by itself.
    world.won_deal(world.ann, "100.00")
    alert = open_alert_on_the_page(page, world, world.ann, world.ann_goal, reload=False)
    assert_accessible(page)
    acknowledge(page, f"#alert-{alert['id']}")
    at_alert_service = world.api(
        "alert-service", f"/alerts/{alert['id']}", bearer(world.ann, Role.REP)
    )
    assert at_alert_service["status"] == "acknowledged"
    assert at_alert_service["acknowledged_by"] == world.ann
    page.close()


# Counts the goal card's re-fetches that went out (a queued one has not yet) and those that
# ended: swapped in, failed or aborted (one the live channel sent just before the acknowledge
# is aborted by it, and never swaps), so the test knows when none is in flight.
WATCH_CARD = """(card) => {
  window.__card = {requests: 0, ended: 0};
  const count = (name, field) => document.body.addEventListener(name, (e) => {
    if (e.detail.elt.id === card && e.detail.requestConfig.verb === "get") window.__card[field]++;
  });
  count("htmx:beforeRequest", "requests");
  count("htmx:afterRequest", "ended");
}"""


def test_a_live_refresh_during_an_acknowledge_does_not_swallow_it(
    browser_context: BrowserContext, world: World
) -> None:
    """The live re-fetch of a goal card signalled while the acknowledge is on its way: held
    at the browser's network until the re-fetch had its chance, the acknowledge still shows
    on the page (the re-fetch's older card must not replace it, nor the acknowledge's answer
    go to a card no longer on the page)."""
    page = browser_context.new_page()
    sign_in(page, world.stack, world.bob)
    world.won_deal(world.bob, "100.00")
    # Without waiting for the live channel: the race this test is about starts only then.
    alert = open_alert_on_the_page(page, world, world.bob, world.bob_goal, reload=True)
    item = page.locator(f"#alert-{alert['id']}")
    card = f"goal-{world.bob_goal}"
    page.evaluate(WATCH_CARD, card)

    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/alerts/*/acknowledge", hold)
    item.get_by_role("button", name="确认").click()
    deadline = time.monotonic() + REACTION_MS / 1000
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)  # Playwright hands the route over while it waits
    assert held, "the acknowledge never left the page"
    # What the live channel does when the goal moves (htmx-ext-sse triggers `sse:<event>`).
    page.evaluate("(card) => htmx.trigger(document.getElementById(card), 'sse:' + card)", card)
    # A re-fetch that went out lands (or is aborted) before the acknowledge goes on.
    page.wait_for_function("window.__card.ended >= window.__card.requests", timeout=REACTION_MS)
    held[0].continue_()

    expect(page.locator(f"#alert-{alert['id']}")).to_contain_text("已确认", timeout=REACTION_MS)
    page.unroute("**/alerts/*/acknowledge", hold)
    at_alert_service = world.api(
        "alert-service", f"/alerts/{alert['id']}", bearer(world.bob, Role.REP)
    )
    assert at_alert_service["status"] == "acknowledged"
    page.close()


def test_another_reps_page_is_the_not_found_page(
    browser_context: BrowserContext, world: World
) -> None:
    page = browser_context.new_page()
    sign_in(page, world.stack, world.ann)
    response = page.goto(f"/people/{world.bob}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    expect(page.get_by_text("Bob")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "not-found")
    page.close()


def test_chinese_and_english_pages_render_with_no_missing_translation(
    browser_context: BrowserContext, world: World
) -> None:
    page = browser_context.new_page()
    sign_in(page, world.stack, world.ann)
    with (TRANSLATIONS_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        english = [m.id for m in read_po(source) if m.id and m.string != m.id and "%(" not in m.id]

    page.goto(f"/people/{world.ann}?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="My goals")).to_be_visible()
    text = page.locator("body").inner_text()
    # Only the language switch and the brand are written in Chinese on an English page.
    leftover = CJK.sub("", text.replace("中文", "").replace("看板", ""))
    assert CJK.search(text.replace("中文", "").replace("看板", "")) is None, leftover
    assert_accessible(page)
    screenshot(page, "rep-goals-en")

    page.goto(f"/people/{world.ann}?lang=zh")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", name="我的目标")).to_be_visible()
    lines = {line.strip() for line in page.locator("body").inner_text().splitlines()}
    untranslated = [m for m in english if m in lines or (" " in m and any(m in ln for ln in lines))]
    assert untranslated == [], f"English left on the Chinese page: {untranslated}"
    # The switch is remembered: the next page without ?lang= is still Chinese.
    page.goto(f"/people/{world.ann}")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.close()


def test_a_reps_live_channel_carries_nothing_about_another_reps_goal(world: World) -> None:
    # Playwright's loop runs in this thread while the module's browser is open.
    with ThreadPoolExecutor(max_workers=1) as thread:
        heard = thread.submit(asyncio.run, listen_to_both_pages(world)).result()
    assert f"goal-{world.bob_goal}" in heard[world.bob]
    assert f"goal-{world.ann_goal}" in heard[world.ann]
    assert f"goal-{world.bob_goal}" not in heard[world.ann]
    assert all(event.endswith(world.ann) or world.ann_goal in event for event in heard[world.ann])


async def listen_to_both_pages(world: World) -> dict[str, list[str]]:
    """Ann's and Bob's pages' live channels while Bob, then Ann, close a deal."""
    dashboard = world.stack.urls["dashboard-service"]
    ann, bob = bearer(world.ann, Role.REP), bearer(world.bob, Role.REP)
    async with httpx.AsyncClient(base_url=dashboard, timeout=30) as http:

        async def live_url(who: dict[str, str], person_id: str) -> str:
            page = await http.get(f"/people/{person_id}", headers=who)
            assert page.status_code == 200, page.text
            found = re.search(r'sse-connect="([^"]+)"', page.text)
            assert found is not None, "the page opened no live channel"
            return found.group(1).replace("&amp;", "&")

        heard: dict[str, list[str]] = {world.ann: [], world.bob: []}
        arrived: defaultdict[tuple[str, str], asyncio.Event] = defaultdict(asyncio.Event)
        subscribed = {world.ann: asyncio.Event(), world.bob: asyncio.Event()}

        async def listen(who: dict[str, str], person_id: str) -> None:
            async with http.stream("GET", await live_url(who, person_id), headers=who) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith(":"):
                        subscribed[person_id].set()
                    if line.startswith("event:"):
                        event = line.removeprefix("event:").strip()
                        heard[person_id].append(event)
                        arrived[person_id, event].set()

        listeners = [
            asyncio.create_task(listen(ann, world.ann)),
            asyncio.create_task(listen(bob, world.bob)),
        ]
        try:
            await asyncio.wait_for(
                asyncio.gather(*(e.wait() for e in subscribed.values())), timeout=30
            )

            async def until_heard(person_id: str, event: str) -> None:
                await asyncio.wait_for(arrived[person_id, event].wait(), timeout=30)

            # Bob's deal first: once Bob's own page heard it, the dashboard has fanned
            # it out; Ann's deal after it, so anything about Bob would reach Ann before.
            await asyncio.to_thread(world.won_deal, world.bob, "5000.00")
            await until_heard(world.bob, f"goal-{world.bob_goal}")
            await asyncio.to_thread(world.won_deal, world.ann, "5000.00")
            await until_heard(world.ann, f"goal-{world.ann_goal}")
        finally:
            for listener in listeners:
                listener.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
    return heard
