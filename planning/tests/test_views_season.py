"""The season page, its panels and the planner's actions: the manufacturing approval, weekly
actuals, the store drill-down, the markdown approval, run again, and the report page."""
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from planning.models import Allocation, MarkdownDecision, Season, VarianceCheck, WeeklyActual
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)
from planning.tests.season_fixtures import PARAMS, bare_season, start_season, upload_week, week_units

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def actuals_csv(units_by_store, name="week.csv"):
    body = "store_id,units_sold\n" + "".join(f"{s},{u}\n" for s, u in sorted(units_by_store.items()))
    return SimpleUploadedFile(name, body.encode(), content_type="text/csv")


@pytest.fixture
def awaiting(seeded, planner, inline_jobs, fit_memo):
    """A season paused for the manufacturing approval."""
    season = start_season(planner)
    assert season.__class__.objects.get(pk=season.pk).status == "awaiting_approval"
    return season


@pytest.fixture
def at_markdown(planned_season, planner):
    """A season whose week-6 checkpoint recommended a markdown (sales behind the target)."""
    for week in range(1, 7):
        upload_week(planned_season, week, week_units(week), user=planner)
    planned_season.refresh_from_db()
    assert planned_season.pending_approval == "approve_markdown"
    return planned_season


def test_season_page_shows_agents_plan_and_the_approval_form(awaiting, planner):
    page = signed_in(planner).get(f"/seasons/{awaiting.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-live-workflow="{awaiting.pk}"' in html
    assert f'data-last-seq="{awaiting.events.order_by("-seq").first().seq}"' in html
    assert f'data-socket-path="/api/workflows/{awaiting.pk}/stream"' in html
    assert re.search(r'data-agent="demand" data-state="done"', html)
    assert re.search(r'data-agent="inventory" data-state="waiting"', html)
    assert re.search(r'data-agent="pricing" data-state="idle"', html)
    assert "Your approval is needed" in html
    assert 'name="safety_stock_pct"' in html and 'value="accept"' in html
    assert "Weekly forecast with 80% interval" in html and "<svg" in html
    assert "Fashion forward" in html and "Store allocation (15 stores)" in html


def test_viewer_sees_the_season_without_the_forms(awaiting, viewer):
    page = signed_in(viewer).get(f"/seasons/{awaiting.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Manufacturing order" in html
    assert 'name="safety_stock_pct"' not in html
    assert "Only planners can change or accept the order." in html


def test_manufacturing_preview_answers_with_the_panel_and_commits_nothing(awaiting, planner):
    demand = Allocation.objects.get(season=awaiting).demand_units
    response = signed_in(planner).post(
        f"/seasons/{awaiting.pk}/manufacturing", {"action": "modify", "safety_stock_pct": "25"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="manufacturing-panel"')
    assert "Preview, not committed" in html
    assert f"<strong>{round(demand * 1.25):,}</strong>" in html
    assert Allocation.objects.get(season=awaiting).status == "proposed"
    assert "HX-Trigger" not in response


def test_accepting_the_order_commits_it_and_reloads_the_panels(awaiting, planner):
    response = signed_in(planner).post(
        f"/seasons/{awaiting.pk}/manufacturing", {"action": "accept", "safety_stock_pct": "25"}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "season-changed"
    allocation = Allocation.objects.get(season=awaiting)
    assert allocation.status == "accepted" and allocation.safety_stock_pct == 0.25
    assert "Accepted" in response.content.decode()
    awaiting.refresh_from_db()
    assert awaiting.status == "completed"


def test_accept_without_htmx_redirects_back_to_the_season(awaiting, planner):
    response = signed_in(planner).post(f"/seasons/{awaiting.pk}/manufacturing", {"action": "accept"})
    assert response.status_code == 302 and response["Location"] == f"/seasons/{awaiting.pk}/"
    assert Allocation.objects.get(season=awaiting).status == "accepted"


def test_an_out_of_range_safety_stock_is_explained_in_the_panel(awaiting, planner):
    response = signed_in(planner).post(
        f"/seasons/{awaiting.pk}/manufacturing", {"action": "modify", "safety_stock_pct": "50"}, headers=HTMX)
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()


def test_a_safety_stock_that_is_not_a_number_or_an_unknown_action_is_refused(awaiting, planner):
    client = signed_in(planner)
    for data, message in (({"action": "modify", "safety_stock_pct": "lots"}, "safety_stock_pct: enter a number"),
                          ({"action": "approve", "safety_stock_pct": "20"}, "action: modify or accept")):
        response = client.post(f"/seasons/{awaiting.pk}/manufacturing", data, headers=HTMX)
        assert response.status_code == 422 and message in response.content.decode()
        assert "HX-Trigger" not in response
    assert Allocation.objects.get(season=awaiting).status == "proposed"


def test_viewers_cannot_approve(awaiting, viewer):
    response = signed_in(viewer).post(
        f"/seasons/{awaiting.pk}/manufacturing", {"action": "accept"}, headers=HTMX)
    assert response.status_code == 403
    assert Allocation.objects.get(season=awaiting).status == "proposed"


def test_panels_fragment_updates_the_status_badge_out_of_band(awaiting, viewer):
    response = signed_in(viewer).get(f"/seasons/{awaiting.pk}/panels", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="workflow-status"' in html and 'hx-swap-oob="true"' in html


def test_a_bad_weekly_file_lists_its_rows_and_saves_nothing(planned_season, planner):
    units = week_units(1)
    units.pop("S002")
    units["S001"] = "lots"
    response = signed_in(planner).post(
        f"/seasons/{planned_season.pk}/actuals", {"week": "1", "file": actuals_csv(units)}, headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was saved." in html
    assert "<td>2</td><td>units_sold</td>" in html  # row 2 (S001), the bad column
    assert "Missing data for stores: S002" in html
    assert not WeeklyActual.objects.exists()


def test_a_week_upload_shows_the_variance_band_and_reloads_the_panels(planned_season, planner):
    client = signed_in(planner)
    high = {store: round(units * 1.5) for store, units in week_units(1).items()}
    response = client.post(
        f"/seasons/{planned_season.pk}/actuals", {"week": "1", "file": actuals_csv(high)}, headers=HTMX)
    assert response.status_code == 200, response.content.decode()
    assert response["HX-Trigger"] == "season-changed"
    html = response.content.decode()
    assert "Week 1 recorded" in html and "Re-forecast</span>" in html
    panels = client.get(f"/seasons/{planned_season.pk}/panels", headers=HTMX).content.decode()
    assert 'class="band-red-row"' in panels and "Forecast vs actual by week" in panels
    assert "re-forecast" in panels  # text label on the chart, not only a colour
    check = VarianceCheck.objects.get(season=planned_season, week=1)
    assert check.expected_remaining_lower < check.expected_remaining < check.expected_remaining_upper
    assert 'id="rest-of-season"' in panels and "Rest of the season (weeks 2&ndash;12)" in panels
    stores = client.get(f"/seasons/{planned_season.pk}/variance/1/stores", headers=HTMX)
    assert stores.status_code == 200
    assert stores.content.decode().count("<tr>") == 51  # header + 50 stores


def test_the_same_week_again_is_refused_unless_replaced(planned_season, planner):
    client = signed_in(planner)
    units = week_units(1)
    assert client.post(f"/seasons/{planned_season.pk}/actuals",
                       {"week": "1", "file": actuals_csv(units)}, headers=HTMX).status_code == 200
    again = client.post(f"/seasons/{planned_season.pk}/actuals",
                        {"week": "1", "file": actuals_csv(units)}, headers=HTMX)
    assert again.status_code == 409 and "overwrite" in again.content.decode()
    replaced = client.post(f"/seasons/{planned_season.pk}/actuals",
                           {"week": "1", "overwrite": "true", "file": actuals_csv(units)}, headers=HTMX)
    assert replaced.status_code == 200


def test_a_week_upload_without_a_file_or_over_the_size_limit_is_refused(planned_season, planner, settings):
    client = signed_in(planner)
    missing = client.post(f"/seasons/{planned_season.pk}/actuals", {"week": "1"}, headers=HTMX)
    assert missing.status_code == 422 and "Choose the CSV file of the week" in missing.content.decode()
    settings.UPLOAD_MAX_BYTES = 100
    too_big = client.post(f"/seasons/{planned_season.pk}/actuals",
                          {"week": "1", "file": actuals_csv(week_units(1))}, headers=HTMX)
    assert too_big.status_code == 413 and "the limit is 100" in too_big.content.decode()
    assert not WeeklyActual.objects.exists()


def test_a_week_that_is_not_a_number_or_outside_the_season_is_refused(planned_season, planner):
    client = signed_in(planner)
    bad = client.post(f"/seasons/{planned_season.pk}/actuals",
                      {"week": "first", "file": actuals_csv(week_units(1))}, headers=HTMX)
    assert bad.status_code == 422 and "Enter the season week of the file" in bad.content.decode()
    outside = client.post(f"/seasons/{planned_season.pk}/actuals",
                          {"week": "13", "file": actuals_csv(week_units(1))}, headers=HTMX)
    assert outside.status_code == 422 and "between 1 and 12 for this season" in outside.content.decode()
    assert not WeeklyActual.objects.exists()


def test_viewers_cannot_upload_actuals(planned_season, viewer):
    response = signed_in(viewer).post(
        f"/seasons/{planned_season.pk}/actuals", {"week": "1", "file": actuals_csv(week_units(1))}, headers=HTMX)
    assert response.status_code == 403
    assert not WeeklyActual.objects.exists()


def test_markdown_preview_then_accept(at_markdown, planner):
    client = signed_in(planner)
    page = client.get(f"/seasons/{at_markdown.pk}/").content.decode()
    assert 'name="elasticity"' in page and "sell-through =" in page
    preview = client.post(f"/seasons/{at_markdown.pk}/markdown", {"action": "modify", "elasticity": "1.0"},
                          headers=HTMX)
    assert preview.status_code == 200
    assert "Preview, not committed" in preview.content.decode()
    assert "at elasticity 1.0 the markdown is" in preview.content.decode()
    assert MarkdownDecision.objects.get().status == "recommended"
    accepted = client.post(f"/seasons/{at_markdown.pk}/markdown", {"action": "accept", "elasticity": "1.0"},
                           headers=HTMX)
    assert accepted.status_code == 200 and accepted["HX-Trigger"] == "season-changed"
    decision = MarkdownDecision.objects.get()
    assert decision.status == "accepted" and decision.elasticity == 1.0
    assert "Accepted" in accepted.content.decode()
    # The approvals history names both decisions, on the season page and the report.
    for url in (f"/seasons/{at_markdown.pk}/panels", f"/seasons/{at_markdown.pk}/report/"):
        page = client.get(url, headers=HTMX)
        assert page.status_code == 200 and "elasticity 1.0 → markdown" in page.content.decode()


def test_viewers_cannot_decide_the_markdown(at_markdown, viewer):
    response = signed_in(viewer).post(f"/seasons/{at_markdown.pk}/markdown", {"action": "accept"}, headers=HTMX)
    assert response.status_code == 403
    assert MarkdownDecision.objects.get().status == "recommended"


def test_report_page_shows_accuracy_stock_markdown_and_cost(at_markdown, viewer):
    page = signed_in(viewer).get(f"/seasons/{at_markdown.pk}/report/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("MAPE", "WAPE", "Bias", "By cluster", "Stockouts", "Leftover units", "Markdown impact",
                 "Approvals", "Tokens", "Original forecast and actual units by week", "6 of 12 weeks",
                 f"{at_markdown.approvals.first().created_at:%Y-%m-%d %H:%M}"):
        assert text in html, text


def test_report_of_a_season_without_a_plan_says_why(seeded, planner, viewer):
    pending = bare_season(planner, status="pending")
    page = signed_in(viewer).get(f"/seasons/{pending.pk}/report/")
    assert page.status_code == 200
    assert "The season has no plan yet." in page.content.decode()


def test_a_failed_season_can_be_run_again_by_a_planner(seeded, planner, viewer, inline_jobs, fit_memo):
    failed = bare_season(planner, status="failed", error="The forecast step timed out.")
    assert "Run again" not in signed_in(viewer).get(f"/seasons/{failed.pk}/").content.decode()
    client = signed_in(planner)
    page = client.get(f"/seasons/{failed.pk}/").content.decode()
    assert "The forecast step timed out." in page and "Run again" in page
    response = client.post(f"/seasons/{failed.pk}/run-again")
    rerun = Season.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == f"/seasons/{rerun.pk}/"
    assert rerun.parameters["season_start_date"] == PARAMS["season_start_date"]


def test_unknown_season_is_404(viewer):
    assert signed_in(viewer).get("/seasons/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_export_buttons_link_to_the_csv_downloads(planned_season, viewer):
    client = signed_in(viewer)
    html = client.get(f"/seasons/{planned_season.pk}/").content.decode()
    links = re.findall(r'href="(/api/exports/[a-z]+/\d+\.csv)"', html)
    assert len(links) == 3
    for link in links:
        response = client.get(link)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
