"""A whole season watched live in one page, without a reload: the pre-season run, the accepted
manufacturing order, every week's actuals uploaded through the page, the markdown checkpoint
with its approval, and the season's completion. After every step the agent cards must have
settled (no card left "running" by a progress event that no completion follows: the DC empty,
the markdown on track, an alert), and at the end every card is done."""
import time

import pytest
from playwright.sync_api import expect

from planning.tests.browser.conftest import ARTIFACTS
from planning.tests.browser.live_server import sign_in
from planning.tests.browser.test_planner_pages import PARAMS, api, upload_week, week_csv

pytestmark = pytest.mark.browser

WEEKS = 5
CHECKPOINT = 3
# No holdback: every week's replenishment finds the DC empty, a progress event of the inventory
# agent that no completion follows.
SEASON = {**PARAMS, "forecast_horizon_weeks": WEEKS, "dc_holdback_percentage": 0.0,
          "markdown_checkpoint_week": CHECKPOINT, "markdown_threshold": 0.6}
AGENTS = ("demand", "inventory", "pricing")


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"live-season-{name}.png"), full_page=True)


def settled(page, base_url, season_id):
    """Wait until the page has applied every event the season has (over the WebSocket), then
    until no agent card is running: the processing of a step or week is over once its request
    answered, so a card still running now would stay so until a reload."""
    deadline = time.monotonic() + 20
    while True:
        server = api(page, base_url, "GET", f"/api/workflows/{season_id}")["last_seq"]
        seen = int(page.locator("#live").get_attribute("data-last-seq"))
        if seen >= server:
            break
        assert time.monotonic() < deadline, f"the page saw events up to {seen}, the season has {server}"
        time.sleep(0.1)
    expect(page.locator('.agent[data-state="running"]')).to_have_count(0, timeout=5_000)


def states(page):
    return {agent: page.locator(f'.agent[data-agent="{agent}"]').get_attribute("data-state") for agent in AGENTS}


def test_a_whole_season_live_ends_with_every_card_done(page, live_url, tmp_path):
    sign_in(page, live_url)
    created = api(page, live_url, "POST", "/api/workflows/forecast",
                  {"category_id": "womens_dresses", "parameters": SEASON})
    season_id = created["workflow_id"]
    page.goto(f"{live_url}/seasons/{season_id}/")
    page.evaluate("window.__samePage = true")  # gone if anything reloads the page
    expect(page.locator(".conn")).to_have_text("Live")

    # The pre-season run, to the manufacturing approval.
    inventory = page.locator('.agent[data-agent="inventory"]')
    expect(inventory).to_have_attribute("data-state", "waiting", timeout=60_000)
    expect(inventory.locator(".state")).to_have_text("Waiting for approval")
    expect(page.locator('.agent[data-agent="demand"]')).to_have_attribute("data-state", "done")
    settled(page, live_url, season_id)
    page.get_by_role("button", name="Accept order").click()
    expect(page.locator("#manufacturing-panel .alert.ok")).to_contain_text("Accepted by planner")
    expect(page.locator('.agent[data-agent="pricing"]')).to_have_attribute("data-state", "done")
    expect(page.locator("#workflow-status")).to_have_text("Completed")
    settled(page, live_url, season_id)
    assert states(page) == {"demand": "done", "inventory": "done", "pricing": "done"}

    # In season, week by week.
    for week in range(1, WEEKS + 1):
        expect(page.locator("#actuals-week")).to_have_value(str(week))
        upload_week(page, week_csv(tmp_path, week))
        expect(page.locator("#actuals-panel .alert")).to_contain_text(f"Week {week} recorded")
        settled(page, live_url, season_id)
        if week == CHECKPOINT:
            pricing = page.locator('.agent[data-agent="pricing"]')
            expect(pricing).to_have_attribute("data-state", "waiting")
            panel = page.locator("#markdown-panel")
            expect(panel).to_contain_text("Recommended markdown")
            screenshot(page, "markdown-checkpoint")
            page.locator("#live").screenshot(path=str(ARTIFACTS / "live-season-agents-checkpoint.png"))
            # A reload of the cards keeps the keyboard focus where it was (a card's log).
            page.focus("#log-pricing")
            api(page, live_url, "POST", "/api/approvals/markdown",
                {"workflow_id": season_id, "action": "modify", "elasticity_coefficient": 1.5})
            expect(pricing.locator(".log")).to_contain_text("Preview: elasticity 1.5")
            expect(pricing).to_have_attribute("data-state", "waiting")
            assert page.evaluate("document.activeElement.id") == "log-pricing"
            panel.get_by_role("button", name="Accept markdown").click()
            expect(page.locator("#markdown-panel .alert.ok")).to_contain_text("Accepted")
            expect(pricing).to_have_attribute("data-state", "done")
            settled(page, live_url, season_id)
        assert "running" not in states(page).values(), f"after week {week}: {states(page)}"
        if week < WEEKS:
            expect(inventory.locator(".log")).to_contain_text(f"Week {week}: no replenishment, the DC is empty")

    expect(page.locator("#workflow-status")).to_have_text("Completed")
    for agent in AGENTS:
        card = page.locator(f'.agent[data-agent="{agent}"]')
        expect(card).to_have_attribute("data-state", "done")
        expect(card.locator(".state")).to_have_text("Done")  # a word, not only a colour
    assert page.evaluate("window.__samePage") is True, "the page was reloaded"
    screenshot(page, "complete")
    page.locator("#live").screenshot(path=str(ARTIFACTS / "live-season-agents.png"))
