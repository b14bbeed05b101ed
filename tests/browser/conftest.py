"""Browser tests: the five services as processes (tests/e2e's stack) and one
Chromium per module with a fresh profile. Without Chromium every browser test
is skipped, and the run says so loudly once."""

import shutil
import tempfile
from collections.abc import Iterator

import pytest
from browsing import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, chromium_missing
from playwright.sync_api import BrowserContext, sync_playwright

from attain_devstack.processes import Stack, running_stack
from attain_devstack.stack import Infrastructure


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = chromium_missing()
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    if reason is None or not browser_items:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\n!!! {reason} !!!\n", red=True, bold=True)
    for item in browser_items:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def stack(infrastructure: Infrastructure, request: pytest.FixtureRequest) -> Iterator[Stack]:
    with running_stack(infrastructure, {}) as running:
        try:
            yield running
        finally:
            # The services' logs stay beside the screenshots, for a failure to be read.
            logs = ARTIFACTS / "logs" / request.module.__name__
            shutil.rmtree(logs, ignore_errors=True)
            shutil.copytree(running.log_dir, logs)


@pytest.fixture(scope="module")
def browser_context(stack: Stack) -> Iterator[BrowserContext]:
    with (
        tempfile.TemporaryDirectory(prefix="attain-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            base_url=stack.urls["dashboard-service"],
            viewport={"width": 1280, "height": 900},
            locale="zh-CN",
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()
