"""The approval panels' scenario comparison (SPEC §13): the partial with a saved comparison, the
compare form (saves and re-renders, 422 next to the field with what was typed kept, add a row,
viewers read only), the accept buttons and the margin distribution chart."""
import re
from html import unescape

import pytest
from django.db.models import F
from django.test import Client

from mlpipeline.allocation import split_by_shares
from planning.charts import margin_distribution_chart, money_ticks
from planning.models import HistoricalSale, ScenarioComparison, Season
from planning.selectors.scenarios import comparison_dict
from planning.services import scenarios
from planning.services.allocation import original_forecast
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)
from planning.tests.season_fixtures import accept_order, start_season, upload_week

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
PATHS = 300


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def waiting(seeded, planner, inline_jobs, fit_memo):
    """A season waiting for the manufacturing approval, its history priced at 40 a unit."""
    HistoricalSale.objects.filter(category=seeded).update(revenue=F("units") * 40)
    season = start_season(planner)
    season.refresh_from_db()
    assert season.pending_approval == Season.PendingApproval.MANUFACTURING
    return season


def rows(season, *scenario_rows, paths=PATHS, seed=3, action="compare"):
    """The compare form's POST data: one dict of fields per row."""
    data = {"rows": str(len(scenario_rows)), "paths": str(paths), "seed": str(seed), "action": action}
    for i, row in enumerate(scenario_rows):
        data.update({f"s-{i}-{name}": str(value) for name, value in row.items()})
    return data


def url(season):
    return f"/seasons/{season.pk}/scenarios"


def test_the_panel_prefills_the_what_ifs_and_shows_no_comparison_yet(waiting, planner):
    html = signed_in(planner).get(f"/seasons/{waiting.pk}/").content.decode()
    assert 'id="scenario-comparison"' in html and "No scenarios compared yet" in html
    data = waiting.approval_data
    assert 'name="s-0-name" type="text" maxlength="64" value="Proposed"' in html
    assert f'value="{data["newsvendor_buy_quantity"]}"' in html
    assert f'value="{round(data["manufacturing_qty"] * 1.1)}"' in html and "Proposed +10%" in html
    assert 'name="s-4-name"' in html and 'name="s-5-name"' not in html  # one empty row to type in
    assert 'name="paths" type="number" min="100" max="20000" step="1" value="2000"' in html


def test_the_partial_shows_the_latest_comparison_with_its_table_chart_and_accepts(waiting, planner, viewer):
    saved = scenarios.compare(waiting.pk, [{"name": "lean", "safety_stock_pct": 0.10}, {"name": "deep"}],
                              paths=PATHS, user=planner)
    page = signed_in(viewer).get(url(waiting))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Comparison {saved.pk}: 300 simulated seasons, seed 0" in html
    assert html.count('class="badge recommended"') == 1 and "★ Recommended" in html
    assert html.count('class="scenario-box"') == 2 and "<title" in html
    assert "Only planners can compare" in html and 'name="comparison_id"' not in html  # viewers read
    # A planner gets an Accept per row, posting to the manufacturing decision.
    html = signed_in(planner).get(f"/seasons/{waiting.pk}/").content.decode()
    forms = re.findall(r'<form method="post" action="/seasons/[^"]+/manufacturing" hx-post[^>]*>.*?</form>', html,
                       re.S)
    accepts = [f for f in forms if 'name="comparison_id"' in f]
    assert len(accepts) == 2 and all(f'name="comparison_id" value="{saved.pk}"' in f for f in accepts)
    assert 'name="scenario" value="lean"' in accepts[0] and 'hx-target="#manufacturing-panel"' in accepts[0]


def test_compare_saves_a_comparison_and_re_renders_the_partial(waiting, planner):
    qty = waiting.approval_data["manufacturing_qty"]
    post = rows(waiting, {"name": "Proposed", "safety_stock_pct": "20"},
                {"name": "Bigger", "manufacturing_qty": round(qty * 1.1), "replenishment_strategy": "none"},
                {}, {"name": "Deep markdown", "safety_stock_pct": "25", "markdown_pct": "30"})
    response = signed_in(planner).post(url(waiting), post, headers=HTMX)
    assert response.status_code == 200, response.content.decode()[:2000]
    saved = ScenarioComparison.objects.get(season=waiting)
    assert (saved.paths, saved.seed, saved.created_by) == (PATHS, 3, planner)
    assert saved.scenarios == [{"name": "Proposed", "safety_stock_pct": 0.2},
                               {"name": "Bigger", "manufacturing_qty": round(qty * 1.1),
                                "replenishment_strategy": "none"},
                               {"name": "Deep markdown", "safety_stock_pct": 0.25, "markdown_pct": 0.3}]
    html = response.content.decode()
    assert html.startswith("\n<section") or '<section class="scenarios" id="scenario-comparison"' in html
    assert f"Comparison {saved.pk}" in html and html.count('class="scenario-box"') == 3
    assert 'value="Deep markdown"' in html and 'name="s-3-markdown_pct"' in html  # the rows as typed stay
    # The same seed gives the same numbers.
    again = scenarios.compare(waiting.pk, saved.scenarios, paths=PATHS, seed=3)
    assert again.results == saved.results


def test_a_422_shows_the_problem_next_to_its_field_and_keeps_what_was_typed(waiting, planner):
    qty = waiting.approval_data["manufacturing_qty"]
    post = rows(waiting, {"name": "Proposed"}, {}, {"name": "Huge", "manufacturing_qty": qty * 5},
                {"name": "Typo", "dc_holdback_percentage": "45"})
    response = signed_in(planner).post(url(waiting), post, headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    # The service's scenarios.1.manufacturing_qty is the third row (the empty one was skipped).
    error = re.search(r'<p class="field-error" id="s-2-manufacturing_qty-error">([^<]+)</p>', html)
    assert error and "must be within" in error.group(1)
    assert 'id="s-2-manufacturing_qty"' in html and 'aria-describedby="s-2-manufacturing_qty-error"' in html
    assert f'value="{qty * 5}"' in html and 'value="Typo"' in html and 'value="45"' in html
    assert not ScenarioComparison.objects.exists()


def test_the_page_form_checks_percentages_and_numbers_itself(waiting, planner):
    client = signed_in(planner)
    response = client.post(url(waiting), rows(waiting, {"name": "A", "safety_stock_pct": "50"},
                                              {"name": "B", "manufacturing_qty": "lots"}, paths="2000.5"),
                           headers=HTMX)
    assert response.status_code == 422
    html = unescape(response.content.decode())
    assert re.search(r'id="s-0-safety_stock_pct-error">must be between 10% and 30% \(got 50%\)', html)
    assert 'id="s-1-manufacturing_qty-error">enter a whole number' in html
    assert 'id="scenario-paths-error">enter a whole number' in html and 'value="lots"' in html
    # Both buys in one row, and two rows of one name: the service's words, next to the inputs.
    response = client.post(url(waiting), rows(waiting, {"name": "A", "safety_stock_pct": "20", "manufacturing_qty":
                                                        waiting.approval_data["manufacturing_qty"]}), headers=HTMX)
    assert 'id="s-0-manufacturing_qty-error">give safety_stock_pct or manufacturing_qty, not both' in unescape(
        response.content.decode())
    response = client.post(url(waiting), rows(waiting, {"name": "A"}, {"name": "A", "safety_stock_pct": "25"}),
                           headers=HTMX)
    assert response.status_code == 422 and 'id="s-1-name-error">' in response.content.decode()
    response = client.post(url(waiting), rows(waiting, {}, {}), headers=HTMX)
    assert response.status_code == 422 and "Fill in at least one scenario." in response.content.decode()


def test_add_a_row_keeps_the_rows_and_compares_nothing(waiting, planner):
    response = signed_in(planner).post(url(waiting), rows(waiting, {"name": "Mine", "safety_stock_pct": "15"},
                                                          action="add"), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'value="Mine"' in html and 'value="15"' in html
    assert 'name="s-1-name"' in html and 'name="rows" value="2"' in html
    assert not ScenarioComparison.objects.exists()


def test_viewers_cannot_compare_and_other_states_are_409(waiting, planner, viewer, planned_season):
    response = signed_in(viewer).post(url(waiting), rows(waiting, {"name": "A"}), headers=HTMX)
    assert response.status_code == 403 and not ScenarioComparison.objects.exists()
    assert Client().get(url(waiting)).status_code == 302  # sign-in first
    response = signed_in(planner).post(url(planned_season), rows(planned_season, {"name": "A"}), headers=HTMX)
    assert response.status_code == 409 and "scenarios compare at the manufacturing" in response.content.decode()
    assert signed_in(viewer).get(url(planned_season)).status_code == 409


def test_the_compare_form_needs_the_csrf_token(waiting, planner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(planner)
    response = client.post(url(waiting), rows(waiting, {"name": "A"}), headers=HTMX)
    assert response.status_code == 403 and not ScenarioComparison.objects.exists()
    page = client.get(f"/seasons/{waiting.pk}/").content.decode()
    token = re.search(r'<form method="post" action="/seasons/[^"]+/scenarios".*?name="csrfmiddlewaretoken" '
                      r'value="([^"]+)"', page, re.S).group(1)
    response = client.post(url(waiting), {**rows(waiting, {"name": "A"}), "csrfmiddlewaretoken": token},
                           headers=HTMX)
    assert response.status_code == 200 and ScenarioComparison.objects.count() == 1
    assert 'role="status">Compared 1 scenario; recommended: A.' in response.content.decode()


def test_compare_without_htmx_redirects_back_to_the_season(waiting, planner):
    response = signed_in(planner).post(url(waiting), rows(waiting, {"name": "Proposed"}))
    assert response.status_code == 302 and response["Location"] == f"/seasons/{waiting.pk}/"
    assert ScenarioComparison.objects.filter(season=waiting).count() == 1


def test_the_compare_form_is_rate_limited_with_the_scenarios_scope(waiting, planner, settings):
    settings.RATE_LIMIT_PER_MINUTE = 1
    client = signed_in(planner)
    assert client.post(url(waiting), rows(waiting, {"name": "A"}, action="add"), headers=HTMX).status_code == 200
    response = client.post(url(waiting), rows(waiting, {"name": "A"}), headers=HTMX)
    assert response.status_code == 429 and response["Retry-After"]


def test_accept_posts_the_scenario_to_the_manufacturing_decision(waiting, planner):
    """The accept records the chosen scenario's buy (the approval service takes comparison_id and
    scenario)."""
    qty = round(waiting.approval_data["manufacturing_qty"] * 1.1)
    saved = scenarios.compare(waiting.pk, [{"name": "proposed"}, {"name": "bigger", "manufacturing_qty": qty}],
                              paths=PATHS, user=planner)
    response = signed_in(planner).post(f"/seasons/{waiting.pk}/manufacturing", {
        "action": "accept", "comparison_id": str(saved.pk), "scenario": "bigger"}, headers=HTMX)
    assert response.status_code == 200, response.content.decode()[:1500]
    waiting.allocation.refresh_from_db()
    assert waiting.allocation.status == "accepted" and waiting.allocation.manufacturing_qty == qty


def half_week(season, week):
    """Half the original plan's week, split by the stores' plans (sales far behind the target)."""
    total = round(original_forecast(season).weekly_units()[week - 1] * 0.5)
    return split_by_shares(total, {s.store_id: s.planned_units for s in season.allocation.stores.order_by("store_id")})


@pytest.fixture
def at_markdown(seeded, planner, inline_jobs, fit_memo):
    """A season paused for the markdown approval after week 3 (sales at half the plan), priced."""
    HistoricalSale.objects.filter(category=seeded).update(revenue=F("units") * 40)
    season = start_season(planner, {"markdown_checkpoint_week": 3})
    accept_order(season, planner)
    for week in (1, 2, 3):
        upload_week(season, week, half_week(season, week))
    season.refresh_from_db()
    assert season.pending_approval == Season.PendingApproval.MARKDOWN
    return season


def test_at_the_markdown_approval_the_rows_are_depths_and_accept_posts_the_markdown_decision(at_markdown, planner):
    client = signed_in(planner)
    recommended = at_markdown.markdowns.first().markdown_pct
    html = client.get(f"/seasons/{at_markdown.pk}/").content.decode()
    assert 'id="scenario-comparison"' in html and 'name="s-0-markdown_pct"' in html
    assert 'value="No markdown"' in html and f'value="Recommended {recommended:.0%}"' in html
    assert 'name="s-0-manufacturing_qty"' not in html  # only the depth varies
    automatic = ScenarioComparison.objects.filter(season=at_markdown).first()  # the checkpoint's own comparison
    if automatic is not None:
        assert f"Comparison {automatic.pk}:" in html and 'class="scenario-box"' in html
    response = client.post(url(at_markdown), rows(at_markdown, {"name": "none", "markdown_pct": "0"},
                                                  {"name": "deep", "markdown_pct": "40"}), headers=HTMX)
    assert response.status_code == 200, response.content.decode()[:2000]
    saved = ScenarioComparison.objects.filter(season=at_markdown).first()  # newest first
    assert saved.created_by == planner and saved.kind == "markdown"
    assert [s["settings"]["markdown_pct"] for s in saved.results] == [0.0, 0.4]
    html = response.content.decode()
    assert html.count(f'action="/seasons/{at_markdown.pk}/markdown"') == 2 and 'hx-target="#markdown-panel"' in html
    assert "<th scope=\"col\" class=\"num\">Markdown</th>" in html
    response = client.post(f"/seasons/{at_markdown.pk}/markdown", {
        "action": "accept", "comparison_id": str(saved.pk), "scenario": "deep"}, headers=HTMX)
    assert response.status_code == 200, response.content.decode()[:1500]
    decision = at_markdown.markdowns.first()
    assert (decision.status, decision.markdown_pct) == ("accepted", 0.4)


# --- the chart -------------------------------------------------------------------------------------


def comparison(n=3, recommended="s1"):
    scenarios_ = []
    for k in range(n):
        base = 1000.0 * (k + 1)
        quantiles = [base - 2000 + 200 * i for i in range(21)]
        scenarios_.append({"name": f"s{k}", "rank": n - k, "expected_gross_margin": base + 50,
                           "margin_quantiles": quantiles})
    return {"scenarios": scenarios_, "recommended": recommended, "paths": 2000}


def test_the_chart_has_title_desc_one_box_per_scenario_and_marks_the_recommended():
    svg = margin_distribution_chart(comparison(), chart_id="m")
    assert '<title id="m-title">Gross margin per scenario</title>' in svg
    desc = re.search(r'<desc id="m-desc">([^<]+)</desc>', svg).group(1)
    assert "Recommended: s1" in desc and "s0: expected 1,050, median 1,000, 80% range -600 to 2,600" in desc
    assert svg.count('class="scenario-box"') == 3 and svg.count('<g class="scenario') == 3
    assert svg.count('class="scenario recommended"') == 1 and "rank 2 · recommended ★" in svg
    assert 'fill="url(#m-hatch)"' in svg  # the recommended box differs by texture, not only colour
    assert 'stroke-dasharray="4 3"' in svg  # break-even: the axis spans losses and profits


def test_the_chart_escapes_names_and_copes_with_no_scenarios():
    data = comparison(2, recommended="<b>&")
    data["scenarios"][0]["name"] = "<b>&"
    svg = margin_distribution_chart(data)
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    assert "No scenarios compared yet." in margin_distribution_chart({"scenarios": []})


def test_money_ticks_cover_negative_and_positive_ranges():
    assert money_ticks(-600, 2600) == [-1000, 0, 1000, 2000, 3000]
    ticks = money_ticks(123_456, 654_321)
    assert ticks[0] <= 123_456 and ticks[-1] >= 654_321 and len(ticks) <= 8


def test_the_saved_comparison_draws(waiting, planner):
    saved = scenarios.compare(waiting.pk, [{"name": "a"}, {"name": "b", "safety_stock_pct": 0.3}], paths=PATHS)
    svg = margin_distribution_chart(comparison_dict(saved))
    assert svg.count('class="scenario-box"') == 2 and "300 simulated seasons" in svg
