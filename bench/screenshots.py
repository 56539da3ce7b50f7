"""Screenshots of the planner pages for docs/screenshots/, taken in headless Chromium against a
live server on the demo data (the browser tests' server: planning.tests.browser.live_server).

The script plays a planner's season: describe it and extract the parameters (new-season.png),
confirm & run, preview a 25% safety stock and accept the order (season.png), upload five weeks of
actuals, the first one 30% above plan (variance.png, with the store drill-down open), then the
season report (report.png).

    .venv/bin/python bench/screenshots.py [--out docs/screenshots]
"""
import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from planning.tests.browser.live_server import CHROMIUM, CHROMIUM_ARGS, LiveServer, sign_in  # noqa: E402

SEASON_START = date(2025, 3, 1)
# The holdback is left out on purpose: the card shows how a defaulted field is highlighted.
DESCRIPTION = ("12-week season starting March 1st 2025, replenish every week. "
               "Markdown at week 6 if sell-through is below 60%.")


def weekly_files(folder):
    """Daily actuals files of the season (week 1 from the 'high' scenario, then 'normal')."""
    from mlpipeline import synthetic

    normal = synthetic.write_weekly_actuals_csvs(
        folder / "normal", synthetic.generate_future_season(None, "womens_dresses", SEASON_START))
    high = synthetic.write_weekly_actuals_csvs(
        folder / "high", synthetic.generate_future_season(None, "womens_dresses", SEASON_START,
                                                          scenario="high"))
    return [high[0], *normal[1:5]]


def screenshot_element(page, selector, path, attempts=3):
    """A panel can be reloaded under the camera by a late live event: settle and try again."""
    for attempt in range(attempts):
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        try:
            page.locator(selector).screenshot(path=path)
            return
        except PlaywrightError:
            if attempt == attempts - 1:
                raise


def play(page, base_url, out, folder):
    sign_in(page, base_url)
    page.goto(base_url + "/seasons/new/")
    page.fill("#user_input", DESCRIPTION)
    page.get_by_role("button", name="Extract").click()
    expect(page.locator("#confirmation-card")).to_be_visible()
    page.select_option("#category_id", "womens_dresses")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "new-season.png", full_page=True)

    page.get_by_role("button", name="Confirm & Run").click()
    expect(page.locator('.agent[data-agent="inventory"]')).to_have_attribute("data-state", "waiting")
    page.fill("#safety_stock_pct", "25")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#manufacturing-preview")).to_be_visible()
    page.get_by_role("button", name="Accept order").click()
    expect(page.locator("#workflow-status")).to_have_text("Completed")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "season.png", full_page=True)

    for week, path in enumerate(weekly_files(folder), start=1):
        page.set_input_files("#actuals-file", str(path))
        page.click("#actuals-panel button[type=submit]")
        expect(page.locator("#actuals-panel .alert")).to_contain_text(f"Week {week} recorded")
        page.wait_for_load_state("networkidle")
    page.locator("#variance-panel tbody tr").last.get_by_role("button").click()
    expect(page.locator("#store-drilldown table")).to_be_visible()
    screenshot_element(page, "#variance-panel", out / "variance.png")

    page.get_by_role("link", name="Season report").click()
    expect(page.locator("#report-chart-title")).to_be_attached()
    page.screenshot(path=out / "report.png", full_page=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="screenshots-"))
    server = LiveServer(folder).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)
            play(page, server.url, args.out, folder)
            browser.close()
    finally:
        server.stop()
    for name in ("new-season", "season", "variance", "report"):
        print(args.out / f"{name}.png")


if __name__ == "__main__":
    main()
