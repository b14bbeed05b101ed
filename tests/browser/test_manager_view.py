"""A manager's "my team" in Chromium against the five services as processes: the
grid cell of a rep changes colour when a signed deal moves the rep's progress,
without a reload; acknowledging from the at-risk list acknowledges at
alert-service; a unit outside the manager's subtree is not found; the page and
the wall board pass axe-core in Chinese and English."""

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from browsing import REACTION_MS, acknowledge, assert_accessible, screenshot, sign_in
from playwright.sync_api import BrowserContext, Page, expect
from test_rep_view import ADMIN, eventually, ok

from attain_contracts.calendar import FiscalCalendar
from attain_devstack.processes import Stack
from tracking_service.cli.sign import signed_headers

pytestmark = pytest.mark.browser


class Team:
    """A company with one team managed by Mia: Ann has last quarter's revenue goal
    and nothing sold in it yet; Bob has a goal two thirds through with nothing
    sold, so alert-service has a pace alert open on it."""

    def __init__(self, stack: Stack) -> None:
        tag = uuid4().hex[:6]
        self.stack = stack
        self.company, self.team = f"acme-{tag}", f"east-{tag}"
        self.mia, self.ann, self.bob = f"mia-{tag}", f"ann-{tag}", f"bob-{tag}"
        today = datetime.now(UTC).date()
        last_quarter = FiscalCalendar().containing(
            FiscalCalendar().containing(today, "quarter").start - timedelta(days=1), "quarter"
        )
        assert last_quarter.key is not None
        self.quarter, self.quarter_start = last_quarter.key, last_quarter.start
        self.source = f"crm-{tag}"
        goals, tracking = stack.urls["goal-service"], stack.urls["tracking-service"]
        with httpx.Client(headers=ADMIN, timeout=10) as http:
            company = {"name": "Acme", "kind": "company"}
            ok(http.put(f"{goals}/org-units/{self.company}", json=company))
            team = {"name": "East", "kind": "team", "parent_id": self.company}
            ok(http.put(f"{goals}/org-units/{self.team}", json=team))
            for person, name, unit in (
                (self.mia, "Mia", self.company),
                (self.ann, "Ann", self.team),
                (self.bob, "Bob", self.team),
            ):
                body = {"name": name, "org_unit_id": unit, "member_since": "2020-01-01"}
                ok(http.put(f"{goals}/people/{person}", json=body))
            ok(http.put(f"{goals}/org-units/{self.team}", json={**team, "manager_id": self.mia}))
            self.ann_goal = self._goal(http, self.ann, {"period_key": self.quarter})
            self.bob_goal = self._goal(
                http,
                self.bob,
                {
                    "period_start": (today - timedelta(days=20)).isoformat(),
                    "period_end": (today + timedelta(days=9)).isoformat(),
                },
            )
            self.secret = ok(http.put(f"{tracking}/sources/{self.source}", json={"name": "CRM"}))[
                "secret"
            ]
        for goal_id in (self.ann_goal, self.bob_goal):
            eventually(
                lambda goal_id=goal_id: (
                    httpx.get(f"{tracking}/goals/{goal_id}/progress", headers=ADMIN).status_code
                ),
                lambda status: status == 200,
            )

    def _goal(self, http: httpx.Client, person: str, period: dict[str, str]) -> str:
        body = {
            "metric": "revenue",
            "org_unit_id": self.team,
            "person_id": person,
            "owner_id": person,
            "target": "100000",
            **period,
        }
        goal_id: str = ok(http.post(f"{self.stack.urls['goal-service']}/goals", json=body))["goal"][
            "id"
        ]
        return goal_id

    def won_deal(self, owner: str, amount: str, closed_on: date) -> None:
        deal = json.dumps(
            {
                "id": f"D-{uuid4().hex[:10]}",
                "version": 1,
                "stage": "won",
                "amount": amount,
                "currency": "CNY",
                "owner_id": owner,
                "closed_on": closed_on.isoformat(),
            }
        )
        url = f"{self.stack.urls['tracking-service']}/webhooks/{self.source}/deals"
        response = httpx.post(url, content=deal, headers=signed_headers(self.secret, deal))
        assert response.status_code == 200, response.text

    def open_alert(self) -> dict[str, Any]:
        def alerts() -> list[dict[str, Any]]:
            url = f"{self.stack.urls['alert-service']}/alerts"
            # The pace alert: silence and forecast may open beside it, in either order.
            answer = httpx.get(
                url, params={"goal_id": self.bob_goal, "rule": "pace"}, headers=ADMIN
            ).json()
            return [a for a in answer["data"] if a["status"] == "open"]

        found: list[dict[str, Any]] = eventually(alerts, bool)
        return found[0]

    def page_path(self, unit: str | None = None) -> str:
        return f"/team/units/{unit or self.team}?period={self.quarter}"


@pytest.fixture(scope="module")
def team(stack: Stack) -> Team:
    return Team(stack)


@pytest.fixture
def page(browser_context: BrowserContext, team: Team) -> Page:
    page = browser_context.new_page()
    sign_in(page, team.stack, team.mia, roles=("manager",))
    return page


def test_the_grid_cell_of_a_rep_changes_colour_after_a_signed_deal_without_a_reload(
    page: Page, team: Team
) -> None:
    page.goto(team.page_path())
    cell = page.locator(f'#row-person-{team.ann} td[data-goal="{team.ann_goal}"]')
    expect(cell).to_have_attribute("data-band", "behind")
    expect(cell).to_contain_text("落后")
    page.evaluate("window.notReloaded = true")

    team.won_deal(team.ann, "100000.00", team.quarter_start)

    expect(cell).to_have_attribute("data-band", "on_track", timeout=REACTION_MS)
    expect(cell).to_contain_text("正常")
    assert page.evaluate("window.notReloaded") is True
    page.close()


def test_acknowledging_from_the_at_risk_list_acknowledges_at_alert_service(
    page: Page, team: Team
) -> None:
    alert = team.open_alert()
    page.goto(team.page_path())
    row = page.locator(f"#risk-{alert['id']}")
    expect(row).to_contain_text("Bob")
    expect(row).to_contain_text("落后于进度")
    screenshot(page, "manager-team-zh")
    acknowledge(page, f"#risk-{alert['id']}")
    url = f"{team.stack.urls['alert-service']}/alerts/{alert['id']}"
    assert httpx.get(url, headers=ADMIN).json()["status"] == "acknowledged"
    page.close()


def test_a_unit_outside_the_managers_subtree_is_not_found(page: Page, team: Team) -> None:
    response = page.goto(team.page_path(team.company))
    assert response is not None and response.status == 404
    page.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_team_page_and_the_wall_board_pass_axe_in_both_languages(
    page: Page, team: Team, lang: str
) -> None:
    page.goto(f"{team.page_path()}&lang={lang}")
    heading = {"zh": "各期进度", "en": "Pace by period"}[lang]
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans" if lang == "zh" else "en")
    if lang == "en":
        assert not re.search(r"[\u4e00-\u9fff]", page.locator("main").inner_text())
    assert_accessible(page)
    screenshot(page, f"manager-team-{lang}")
    page.goto(f"/team/units/{team.team}/wall?period={team.quarter}&lang={lang}")
    expect(page.locator(".wall-title")).to_be_visible()
    expect(page.locator("header.top")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, f"manager-wall-{lang}")
    page.close()
