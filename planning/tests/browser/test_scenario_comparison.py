"""The scenario comparison at the manufacturing approval in a real browser (SPEC §13): a planner
opens a season waiting for the approval, adds a scenario, gets a problem shown next to its input
(the rest of the rows kept), compares, reads the table and the margin chart, and accepts one
scenario. The flow is timed (printed, not asserted; the target is under two minutes for a person)
and screenshots go to test-artifacts/scenario-*.png."""
import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from planning.tests.browser.conftest import ARTIFACTS
from planning.tests.browser.live_server import sign_in
from planning.tests.browser.test_planner_pages import (
    PARAMS,
    api,
    planned_season,
    upload_week,
    wait_for_status,
    week_csv,
)

pytestmark = pytest.mark.browser


def screenshot(page, name, selector=None, attempts=3):
    """A full page or one element; an element the panels' live reload replaces meanwhile is taken again."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = str(ARTIFACTS / f"scenario-{name}.png")
    if not selector:
        page.screenshot(path=path, full_page=True)
        return
    for attempt in range(attempts):
        try:
            page.locator(selector).screenshot(path=path)
            return
        except PlaywrightError:
            if attempt == attempts - 1:
                raise
            page.wait_for_timeout(500)


def test_compare_scenarios_and_accept_one(page, live_url):
    sign_in(page, live_url)
    created = api(page, live_url, "POST", "/api/workflows/forecast",
                  {"category_id": "womens_dresses", "parameters": PARAMS})
    season_id = created["workflow_id"]
    wait_for_status(page, live_url, season_id, "awaiting_approval")
    data = api(page, live_url, "GET", f"/api/workflows/{season_id}")["pending_approval"]["data"]
    proposed, demand = data["manufacturing_qty"], data["forecast_total"]

    started = time.monotonic()
    page.goto(f"{live_url}/seasons/{season_id}/")
    section = page.locator("#scenario-comparison")
    section.scroll_into_view_if_needed()
    expect(section.get_by_text("No scenarios compared yet")).to_be_visible()
    expect(page.locator("#s-0-name")).to_have_value("Proposed")
    expect(page.locator("#s-1-name")).to_have_value("Newsvendor")

    # A new scenario in the empty row, one more row added, a buy outside 0.5x..2x demand in it.
    page.fill("#s-4-name", "Lean, no top-ups")
    page.fill("#s-4-safety_stock_pct", "10")
    page.select_option("#s-4-replenishment_strategy", "none")
    section.get_by_role("button", name="Add a row").click()
    expect(page.locator("#s-5-name")).to_be_visible()
    expect(page.locator("#s-4-name")).to_have_value("Lean, no top-ups")
    page.fill("#s-5-name", "Double")
    page.fill("#s-5-manufacturing_qty", str(round(demand * 3)))
    section.get_by_role("button", name="Compare").click()
    error = page.locator("#s-5-manufacturing_qty-error")
    expect(error).to_contain_text("must be within")
    expect(page.locator("#s-5-manufacturing_qty")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#s-4-replenishment_strategy")).to_have_value("none")  # nothing typed is lost
    screenshot(page, "error", "#scenario-comparison")

    double = int(demand * 2)
    page.fill("#s-5-manufacturing_qty", str(double))
    section.get_by_role("button", name="Compare").click()
    table = page.locator("#scenario-comparison .scenario-table")
    expect(table.locator("tbody tr")).to_have_count(6)
    expect(table.locator(".badge.recommended")).to_have_count(1)
    expect(page.locator("#margin-chart-title")).to_have_text("Gross margin per scenario")
    expect(page.locator("#scenario-comparison svg .scenario-box")).to_have_count(6)
    expect(table.locator("tr", has_text="Double")).to_contain_text(f"{double:,}")
    compared = time.monotonic()
    screenshot(page, "compared", "#scenario-comparison")
    screenshot(page, "page")

    # Accept a scenario that is not the proposed order: the +10% buy.
    bigger = round(proposed * 1.1)
    row = table.locator("tr", has_text="Proposed +10%")
    row.get_by_role("button", name="Accept Proposed +10%").click()
    panel = page.locator("#manufacturing-panel")
    expect(panel.locator(".alert.ok")).to_contain_text("Accepted by planner")
    accepted = time.monotonic()
    print(f"\nscenario flow: open to compared {compared - started:.1f} s, to accepted {accepted - started:.1f} s "
          f"(the browser's steps, no human think time)")
    screenshot(page, "accepted")
    wait_for_status(page, live_url, season_id, "completed")
    expect(panel.locator(".kpi", has_text="Manufacture")).to_contain_text(re.compile(f"{bigger:,}"))


def test_compare_markdown_depths_and_accept_one(page, live_url, tmp_path):
    sign_in(page, live_url)
    season_id = planned_season(page, live_url, markdown_checkpoint_week=1, markdown_threshold=0.6)
    page.goto(f"{live_url}/seasons/{season_id}/")
    upload_week(page, week_csv(tmp_path, 1))
    panel = page.locator("#markdown-panel")
    expect(panel).to_contain_text("Recommended markdown")
    section = panel.locator("#scenario-comparison")
    expect(page.locator("#s-0-name")).to_have_value("No markdown")
    started = time.monotonic()
    empty = int(section.locator("input[name=rows]").get_attribute("value")) - 1  # the row left to type in
    page.fill(f"#s-{empty}-name", "Light")
    page.fill(f"#s-{empty}-markdown_pct", "10")
    section.get_by_role("button", name="Compare").click()
    table = section.locator(".scenario-table")
    expect(table.locator("tbody tr", has_text="Light")).to_contain_text("10%")
    expect(table.locator("tbody tr")).to_have_count(empty + 1)
    expect(section.locator("svg .scenario-box")).to_have_count(empty + 1)
    screenshot(page, "markdown-compared", "#markdown-panel")
    table.locator("tr", has_text="Light").get_by_role("button", name="Accept Light").click()
    expect(page.locator("#markdown-panel .alert.ok")).to_contain_text("Accepted")
    expect(page.locator("#markdown-panel .kpi", has_text="Markdown")).to_contain_text("10%")
    print(f"\nmarkdown scenario flow: {time.monotonic() - started:.1f} s (the browser's steps)")
    wait_for_status(page, live_url, season_id, "completed")
    screenshot(page, "markdown-accepted", "#markdown-panel")
