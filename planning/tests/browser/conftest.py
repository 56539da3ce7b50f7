"""Browser tests: Playwright (sync API) driving Debian's headless Chromium against a daphne
server (planning.tests.browser.live_server). A failing test leaves a screenshot and the page's
HTML in test-artifacts/."""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from planning.tests.browser.live_server import CHROMIUM, CHROMIUM_ARGS, REPO, LiveServer

ARTIFACTS = REPO / "test-artifacts"
expect.set_options(timeout=20_000)  # a week with a re-forecast refits the models


def pytest_collection_modifyitems(items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is open,
# which would break later tests that call asyncio.run(); the server goes with it.
@pytest.fixture(scope="module")
def live_url(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("live")).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        Path(ARTIFACTS / f"{name}.html").write_text(page.content(), encoding="utf-8")
    context.close()
