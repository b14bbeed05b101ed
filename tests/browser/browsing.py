"""What browser tests share: Debian's Chromium driven by Playwright (never a
browser Playwright downloads), development sign-in through the page, the
axe-core check and screenshots into .artifacts/screenshots/ (git-ignored).

Use the `browser_context` and `stack` fixtures of tests/browser/conftest.py, and:
    sign_in(page, stack, person_id, roles=("rep",))
    assert_accessible(page)             # fails on serious or critical violations
    screenshot(page, "rep-goals-en")"""

import shutil
from collections.abc import Sequence
from pathlib import Path

from playwright.sync_api import Page, expect

from attain_devstack.processes import Stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
# Waits for the page to react (a live update, a swap); generous because the
# machine is shared. How fast it reacts is measured in bench/, not asserted here.
REACTION_MS = 20_000


def chromium_missing() -> str | None:
    if CHROMIUM.exists() or shutil.which("chromium"):
        return None
    return (
        f"BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM}. "
        "Install it with `apt-get install -y chromium` (.ci/run does)."
    )


def dashboard(stack: Stack) -> str:
    return stack.urls["dashboard-service"]


def sign_in(page: Page, stack: Stack, person_id: str, roles: Sequence[str] = ("rep",)) -> None:
    """Through the development sign-in page, as a person would."""
    page.context.clear_cookies()
    page.goto(dashboard(stack) + "/")
    page.wait_for_url("**/sign-in/development**")
    page.select_option("#person", person_id)
    for box in page.locator("input[name=roles]").all():
        box.set_checked(box.get_attribute("value") in roles)
    page.get_by_role("button", name="登录").or_(page.get_by_role("button", name="Sign in")).click()
    page.wait_for_load_state("networkidle")


def assert_accessible(page: Page) -> None:
    """axe-core (from the npm assets the service serves) on the page as it stands."""
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    assert violations == [], f"accessibility violations on {page.url}: {violations}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def acknowledge(page: Page, selector: str) -> None:
    """Click the alert's 确认 until the page says 已确认. A live re-fetch can replace the
    element under the click (several alerts opened by one progress event each re-fetch
    it), and then the click is lost: a person clicks again, and so does this."""
    button = page.locator(selector).get_by_role("button", name="确认")
    for _ in range(3):
        button.click()
        try:
            expect(page.locator(selector)).to_contain_text("已确认", timeout=REACTION_MS // 3)
            return
        except AssertionError:
            if button.count() == 0:  # taken, and still on its way to the page
                break
    expect(page.locator(selector)).to_contain_text("已确认", timeout=REACTION_MS)
