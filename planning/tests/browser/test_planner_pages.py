"""The planner's pages in a real browser: the pre-season flow to an accepted order with the agent
cards updating live, a weekly upload with a red variance, the markdown approval, the report page,
and the agent cards falling back to polling when the WebSocket fails."""
import json
import re
import time
from datetime import date
from functools import lru_cache

import pandas as pd
import pytest
from playwright.sync_api import expect

from planning.tests.browser.live_server import sign_in

pytestmark = pytest.mark.browser

SEASON_START = date(2025, 3, 1)
PARAMS = {
    "forecast_horizon_weeks": 12,
    "season_start_date": SEASON_START.isoformat(),
    "replenishment_strategy": "weekly",
    "dc_holdback_percentage": 0.45,
    "markdown_checkpoint_week": None,
    "markdown_threshold": None,
}


@lru_cache(maxsize=2)
def _season_truth():
    from mlpipeline import synthetic

    return synthetic.generate_future_season(None, "womens_dresses", SEASON_START, weeks=12)


def week_csv(folder, week, factor=1.0):
    """Week ``week``'s actuals of the demo stores (``store_id, units_sold``), scaled by ``factor``."""
    daily = _season_truth().daily
    in_week = daily[(daily["date"] - pd.Timestamp(SEASON_START)).dt.days // 7 + 1 == week]
    totals = in_week.groupby("store_id")["quantity_sold"].sum()
    path = folder / f"week_{week}.csv"
    path.write_text("store_id,units_sold\n" + "".join(
        f"{store},{round(units * factor)}\n" for store, units in totals.items()))
    return path


def api(page, base_url, method, path, body=None):
    """The JSON API with the browser's session (and its CSRF token for writes)."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    kwargs = {"headers": {"X-CSRFToken": token, "Content-Type": "application/json"}}
    if body is not None:
        kwargs["data"] = json.dumps(body)
    response = page.request.fetch(base_url + path, method=method, **kwargs)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def wait_for_status(page, base_url, season_id, status):
    deadline = time.monotonic() + 60
    while api(page, base_url, "GET", f"/api/workflows/{season_id}")["status"] != status:
        assert time.monotonic() < deadline, f"the season did not become {status}"
        time.sleep(0.2)


def planned_season(page, base_url, **params):
    """A season started through the API, its order accepted, its pre-season run completed."""
    created = api(page, base_url, "POST", "/api/workflows/forecast",
                  {"category_id": "womens_dresses", "parameters": {**PARAMS, **params}})
    season_id = created["workflow_id"]
    wait_for_status(page, base_url, season_id, "awaiting_approval")
    api(page, base_url, "POST", "/api/approvals/manufacturing", {"workflow_id": season_id, "action": "accept"})
    wait_for_status(page, base_url, season_id, "completed")
    return season_id


def upload_week(page, path):
    page.set_input_files("#actuals-file", str(path))
    page.click("#actuals-panel button[type=submit]")


def test_pre_season_flow_to_an_accepted_order(page, live_url):
    sign_in(page, live_url)
    page.get_by_role("link", name="New season").click()
    page.fill("#user_input", "12-week season starting March 1st 2025. Weekly replenishment, 45% holdback. "
                             "No markdowns.")
    page.get_by_role("button", name="Extract").click()
    card = page.locator("#confirmation-card")
    expect(card.locator(".badge")).to_have_text("Confidence: high")
    expect(page.locator("#season_end_date")).to_have_text("2025-05-23")
    page.select_option("#category_id", "womens_dresses")
    page.get_by_role("button", name="Confirm & Run").click()

    page.wait_for_url(f"{live_url}/seasons/*/")
    expect(page.locator(".conn")).to_have_text("Live")
    expect(page.locator('.agent[data-agent="demand"]')).to_have_attribute("data-state", "done", timeout=60_000)
    inventory = page.locator('.agent[data-agent="inventory"]')
    expect(inventory).to_have_attribute("data-state", "waiting")
    expect(page.locator("#workflow-status")).to_have_text("Awaiting Approval")

    page.fill("#safety_stock_pct", "25")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#manufacturing-preview")).to_contain_text("at 25% safety stock")
    # The preview's event reaches the inventory card over the WebSocket.
    expect(inventory.locator(".log")).to_contain_text("Preview: 25% safety stock")

    page.get_by_role("button", name="Accept order").click()
    expect(page.locator("#manufacturing-panel .alert.ok")).to_contain_text("Accepted by planner")
    expect(page.locator('.agent[data-agent="pricing"]')).to_have_attribute("data-state", "done")
    expect(page.locator("#workflow-status")).to_have_text("Completed")
    expect(page.locator("#manufacturing-panel")).to_contain_text("25%")
    expect(page.locator("#actuals-panel")).to_be_visible()


def test_weekly_upload_with_a_red_variance(page, live_url, tmp_path):
    sign_in(page, live_url)
    season_id = planned_season(page, live_url)
    page.goto(f"{live_url}/seasons/{season_id}/")
    upload_week(page, week_csv(tmp_path, 1, factor=1.5))
    expect(page.locator("#actuals-panel .alert")).to_contain_text("Week 1 recorded")
    expect(page.locator("#actuals-panel .alert")).to_contain_text("Re-forecast")
    red_row = page.locator("#variance-panel tr.band-red-row")
    expect(red_row).to_contain_text("Re-forecast")
    expect(page.locator("#variance-chart-title")).to_have_text("Forecast vs actual by week")
    expect(page.locator("#variance-panel svg text", has_text=re.compile("^re-forecast$"))).to_have_count(1)
    red_row.get_by_role("button").click()
    expect(page.locator("#store-drilldown-1 tbody tr")).to_have_count(50)


def test_markdown_approval(page, live_url, tmp_path):
    sign_in(page, live_url)
    season_id = planned_season(page, live_url, markdown_checkpoint_week=1, markdown_threshold=0.6)
    page.goto(f"{live_url}/seasons/{season_id}/")
    upload_week(page, week_csv(tmp_path, 1))
    panel = page.locator("#markdown-panel")
    expect(panel).to_contain_text("Recommended markdown")
    expect(page.locator("#workflow-status")).to_have_text("Awaiting Approval")
    page.fill("#elasticity", "1.5")
    panel.get_by_role("button", name="Preview").click()
    expect(page.locator("#markdown-preview")).to_contain_text("at elasticity 1.5")
    panel.get_by_role("button", name="Accept markdown").click()
    expect(page.locator("#markdown-panel .alert.ok")).to_contain_text("Accepted")
    expect(page.locator("#forecast-title")).to_be_visible()
    expect(page.locator("text=Markdown adjusted from week 2")).to_be_visible()


def test_report_page(page, live_url, tmp_path):
    sign_in(page, live_url)
    season_id = planned_season(page, live_url)
    page.goto(f"{live_url}/seasons/{season_id}/")
    upload_week(page, week_csv(tmp_path, 1))
    expect(page.locator("#actuals-panel .alert")).to_contain_text("Week 1 recorded")
    page.get_by_role("link", name="Season report").click()
    expect(page.get_by_role("heading", name="Forecast accuracy (against the original forecast)")).to_be_visible()
    for label in ("MAPE", "WAPE", "Bias (+ = over-forecast)", "Leftover units", "Stockouts (store-weeks)"):
        expect(page.locator(".kpi .label", has_text=label)).to_be_visible()
    expect(page.locator("#report-chart-title")).to_have_text("Original forecast and actual units by week")
    expect(page.locator("text=1 of 12 weeks reported")).to_be_visible()
    expect(page.locator("#approvals-title + div")).to_contain_text("accepted")


def test_agent_cards_fall_back_to_polling(page, live_url, tmp_path):
    page.route_web_socket("**/stream**", lambda socket: socket.close(code=1011))
    sign_in(page, live_url)
    season_id = planned_season(page, live_url)
    page.goto(f"{live_url}/seasons/{season_id}/")
    expect(page.locator(".conn")).to_have_text("Live updates by polling", timeout=20_000)
    upload_week(page, week_csv(tmp_path, 1))
    # The week's events reach the agent cards through GET /api/workflows/<id>/events?after=.
    expect(page.locator('.agent[data-agent="demand"] .log')).to_contain_text("Week 1 actuals uploaded")
