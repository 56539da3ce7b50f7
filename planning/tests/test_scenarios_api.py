"""Scenario comparison (SPEC §13): POST /api/scenarios/compare at the manufacturing and at the
markdown approval, the saved comparison and the season's list, the errors, and the roles."""
import uuid

import pytest

from mlpipeline.allocation import split_by_shares
from mlpipeline.simulator import Scenario, compare_rest_of_season
from planning.models import HistoricalSale, ScenarioComparison, Season
from planning.selectors import scenarios as scenario_reads
from planning.services import scenarios
from planning.services.allocation import original_forecast
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)
from planning.tests.season_fixtures import accept_order, priced, start_season, upload_week
from planning.tests.test_exports import assert_twins

pytestmark = pytest.mark.django_db

SPEC_FIELDS = ("name", "manufacturing_qty", "expected_units_sold", "expected_sell_through",
               "stockout_probability", "expected_lost_sales", "expected_leftover_units", "expected_markdown_cost",
               "expected_revenue", "expected_gross_margin", "gross_margin_p10", "gross_margin_p90")
BUYS = [{"name": "lean", "safety_stock_pct": 0.10}, {"name": "proposed"},
        {"name": "deep", "safety_stock_pct": 0.30}, {"name": "double", "manufacturing_qty": None}]
PATHS = 400


def scaled_week(season, week, factor):
    """Units per store: the original plan's week x factor, split by the stores' plans."""
    total = round(original_forecast(season).weekly_units()[week - 1] * factor)
    shares = {s.store_id: s.planned_units for s in season.allocation.stores.order_by("store_id")}
    return split_by_shares(total, shares)


@pytest.fixture
def at_markdown(seeded, planner, inline_jobs, fit_memo):
    """A season paused for the markdown approval after week 3 (sales at half the plan)."""
    season = start_season(planner, {"markdown_checkpoint_week": 3})
    accept_order(season, planner)
    season.refresh_from_db()
    priced(season.category_id)
    for week in (1, 2, 3):
        upload_week(season, week, scaled_week(season, week, 0.5))
    season.refresh_from_db()
    assert season.pending_approval == Season.PendingApproval.MARKDOWN
    return season


def post(api, season, scenario_list, **body):
    return api.post("/api/scenarios/compare", json={"workflow_id": str(season.pk), "scenarios": scenario_list,
                                                    "paths": PATHS, **body})


def buys(season):
    double = 2 * int(season.allocation.forecast.total_units)
    return [b if b["name"] != "double" else {**b, "manufacturing_qty": double} for b in BUYS]


def test_the_manufacturing_comparison_varies_the_buy(at_order, planner, planner_api, viewer_api):
    response = post(planner_api, at_order, buys(at_order), seed=7)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["paths"], body["seed"], body["week"]) == ("manufacturing", PATHS, 7, 0)
    assert body["workflow_id"] == str(at_order.pk) and body["forecast_version"] == 1
    results = body["scenarios"]
    assert [r["name"] for r in results] == ["lean", "proposed", "deep", "double"]
    for result in results:
        assert set(SPEC_FIELDS) <= result.keys()
        assert len(result["margin_quantiles"]) == 21 and sum(result["margin_histogram"]) == PATHS
    assert len(body["margin_bin_edges"]) == len(results[0]["margin_histogram"]) + 1
    allocation = at_order.allocation
    assert results[1]["manufacturing_qty"] == allocation.manufacturing_qty  # no buy given: the proposed one
    assert results[1]["settings"]["safety_stock_pct"] == allocation.safety_stock_pct
    assert results[3]["settings"]["safety_stock_pct"] is None
    by_qty = sorted(results, key=lambda r: r["manufacturing_qty"])
    assert [r["name"] for r in by_qty] == ["lean", "proposed", "deep", "double"]
    leftovers = [r["expected_leftover_units"] for r in by_qty]
    assert leftovers == sorted(leftovers) and leftovers[0] < leftovers[-1]  # a bigger buy, never less left over
    lost = [r["expected_lost_sales"] for r in by_qty]
    assert lost == sorted(lost, reverse=True)
    best = max(results, key=lambda r: r["expected_gross_margin"])
    assert body["recommended"] == best["name"] and best["rank"] == 1
    assert sorted(r["rank"] for r in results) == [1, 2, 3, 4]
    assert body["economics"]["unit_price"] == pytest.approx(40.0)
    # Saved: the GET and the season's list read the same numbers; viewers read.
    saved = viewer_api.get(f"/api/scenarios/{body['comparison_id']}").json()
    assert saved == body
    row = ScenarioComparison.objects.get(pk=body["comparison_id"])
    assert row.created_by == planner and row.scenarios[0] == {"name": "lean", "safety_stock_pct": 0.1}
    # Same seed, same numbers; another seed, other numbers.
    again = post(planner_api, at_order, buys(at_order), seed=7).json()
    assert again["scenarios"] == results and again["comparison_id"] != body["comparison_id"]
    other = post(planner_api, at_order, buys(at_order), seed=8).json()
    assert other["scenarios"][1]["expected_gross_margin"] != results[1]["expected_gross_margin"]
    listed = viewer_api.get(f"/api/workflows/{at_order.pk}/scenarios").json()
    assert listed["count"] == 3
    assert [c["comparison_id"] for c in listed["items"]] == [other["comparison_id"], again["comparison_id"],
                                                             body["comparison_id"]]


def test_the_plan_settings_default_to_the_seasons_and_can_vary(at_order, planner_api):
    body = post(planner_api, at_order, [
        {"name": "season"},
        {"name": "no replenishment", "replenishment_strategy": "none", "dc_holdback_percentage": 0.0},
        {"name": "no markdown", "markdown_checkpoint_week": None},
        {"name": "fixed 20%", "markdown_pct": 0.2, "markdown_threshold": 0.9, "markdown_checkpoint_week": 4},
    ]).json()
    season, bare, plain, fixed = (r["settings"] for r in body["scenarios"])
    params = at_order.parameters
    assert (season["dc_holdback_percentage"], season["replenishment_strategy"]) == (
        params["dc_holdback_percentage"], params["replenishment_strategy"])
    assert season["markdown_checkpoint_week"] == params["markdown_checkpoint_week"] and season["markdown_pct"] is None
    assert (bare["replenishment_strategy"], bare["dc_holdback_percentage"]) == ("none", 0.0)
    assert plain["markdown_checkpoint_week"] is None
    assert body["scenarios"][2]["expected_markdown_cost"] == 0 and body["scenarios"][2]["markdown_probability"] == 0
    assert (fixed["markdown_checkpoint_week"], fixed["markdown_pct"], fixed["markdown_threshold"]) == (4, 0.2, 0.9)
    assert body["scenarios"][3]["expected_markdown_pct"] == pytest.approx(0.2 * body["scenarios"][3][
        "markdown_probability"], abs=1e-3)


def _field(response):
    assert response.status_code == 422, response.content
    body = response.json()
    return body["errors"][0]["field"]


def test_bad_values_are_422_naming_the_field(at_order, planner_api):
    total = at_order.allocation.demand_units  # the whole-unit demand the 0.5x..2x range is of
    one = [{"name": "a"}]
    assert _field(post(planner_api, at_order, one, paths=99)) == "paths"
    assert _field(post(planner_api, at_order, one, paths=20_001)) == "paths"
    assert _field(post(planner_api, at_order, one, paths="2000")) == "paths"
    assert _field(post(planner_api, at_order, one, paths=2000.0)) == "paths"
    assert _field(post(planner_api, at_order, one, seed=-1)) == "seed"
    assert _field(post(planner_api, at_order, [{"name": f"s{i}"} for i in range(9)])) == "scenarios"
    assert _field(post(planner_api, at_order, [])) == "scenarios"
    assert _field(post(planner_api, at_order, [{"name": "a"}, {"name": "a"}])) == "scenarios.1.name"
    assert _field(post(planner_api, at_order, [{"safety_stock_pct": 0.2}])) == "scenarios.0.name"
    assert _field(post(planner_api, at_order, [{"name": "a", "manufacturing_qty": int(total * 0.5) - 1}])) \
        == "scenarios.0.manufacturing_qty"
    assert _field(post(planner_api, at_order, [{"name": "a", "manufacturing_qty": int(total * 2) + 1}])) \
        == "scenarios.0.manufacturing_qty"
    assert _field(post(planner_api, at_order, [{"name": "a", "manufacturing_qty": 9000.5}])) \
        == "scenarios.0.manufacturing_qty"
    assert _field(post(planner_api, at_order, [{"name": "a", "safety_stock_pct": "0.2"}])) \
        == "scenarios.0.safety_stock_pct"
    assert _field(post(planner_api, at_order, [{"name": "a", "safety_stock_pct": True}])) \
        == "scenarios.0.safety_stock_pct"
    assert _field(post(planner_api, at_order, [{"name": "a", "safety_stock_pct": 0.35}])) \
        == "scenarios.0.safety_stock_pct"
    assert _field(post(planner_api, at_order, [{"name": "a", "safety_stock_pct": 0.2,
                                                "manufacturing_qty": int(total)}])) == "scenarios.0.manufacturing_qty"
    assert _field(post(planner_api, at_order, [{"name": "a", "markdown_pct": 0.5}])) == "scenarios.0.markdown_pct"
    assert _field(post(planner_api, at_order, [{"name": "a", "replenishment_strategy": "daily"}])) \
        == "scenarios.0.replenishment_strategy"
    assert _field(post(planner_api, at_order, [{"name": "a", "markdown_checkpoint_week": 13}])) \
        == "scenarios.0.markdown_checkpoint_week"  # past this 12-week season
    assert _field(post(planner_api, at_order, [{"name": "a", "elasticity": 2.0}])) == "scenarios.0.elasticity"
    assert _field(post(planner_api, at_order, one, extra=1)) == "extra"
    nan = planner_api.client.post(
        "/api/scenarios/compare", content_type="application/json", headers=planner_api.headers,
        data='{"workflow_id": "%s", "scenarios": [{"name": "a", "dc_holdback_percentage": NaN}]}' % at_order.pk)
    assert _field(nan) == "scenarios.0.dc_holdback_percentage"
    assert not ScenarioComparison.objects.exists()


def test_the_service_checks_what_the_schema_checks(at_order):
    with pytest.raises(scenarios.Invalid) as error:
        scenarios.compare(at_order.pk, [{"name": "a", "safety_stock_pct": "0.2"}], paths=PATHS)
    assert error.value.errors[0]["field"] == "scenarios.0.safety_stock_pct"
    with pytest.raises(scenarios.Invalid) as error:
        scenarios.compare(at_order.pk, [{"name": "a", "dc_holdback_percentage": float("nan")}], paths=PATHS)
    assert error.value.errors[0]["field"] == "scenarios.0.dc_holdback_percentage"
    with pytest.raises(scenarios.Invalid) as error:
        scenarios.compare(at_order.pk, [{"name": "a"}], paths=True)
    assert error.value.errors[0]["field"] == "paths"


def test_roles_state_and_unknown_ids(at_order, planned_season, planner_api, viewer_api, client):
    assert post(viewer_api, at_order, [{"name": "a"}]).status_code == 403
    assert client.post("/api/scenarios/compare", data={}, content_type="application/json").status_code == 401
    response = post(planner_api, planned_season, [{"name": "a"}])  # in season, no approval pending
    assert response.status_code == 409 and "manufacturing or the markdown approval" in response.json()["detail"]
    missing = planner_api.post("/api/scenarios/compare", json={"workflow_id": str(uuid.uuid4()),
                                                               "scenarios": [{"name": "a"}]})
    assert missing.status_code == 404
    assert viewer_api.get("/api/scenarios/999999").status_code == 404
    assert viewer_api.get(f"/api/workflows/{uuid.uuid4()}/scenarios").status_code == 404
    assert viewer_api.get(f"/api/workflows/{planned_season.pk}/scenarios").json() == {"count": 0, "items": []}


def test_no_price_is_422_naming_unit_price(at_order, planner_api):
    HistoricalSale.objects.filter(category_id=at_order.category_id).update(revenue=None)
    response = post(planner_api, at_order, [{"name": "a"}])
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "unit_price"
    assert response.json()["detail"].startswith("set unit_price")


def test_the_rate_limit_applies(at_order, planner_api, settings):
    settings.RATE_LIMIT_PER_MINUTE = 1
    assert post(planner_api, at_order, [{"name": "a"}], paths=100).status_code == 201
    limited = post(planner_api, at_order, [{"name": "a"}], paths=100)
    assert limited.status_code == 429 and "Retry-After" in limited


def test_the_markdown_comparison_varies_the_depth_for_the_rest_of_the_season(at_markdown, planner_api):
    decision = at_markdown.markdowns.get()
    inputs = scenario_reads.markdown_inputs(at_markdown)
    state, allocation = inputs.start, at_markdown.allocation
    # The state: every unit bought is in a store, at the DC or sold (no store ran out at half the plan).
    assert state.week == 3 and inputs.plan.horizon == 9
    assert state.on_hand.sum() + state.dc_available + state.sold_to_date == allocation.manufacturing_qty
    assert state.sold_to_date == decision.units_sold and state.revenue_to_date == pytest.approx(40.0 * state.sold_to_date)
    assert state.shipped.sum() == allocation.manufacturing_qty - state.dc_available
    response = post(planner_api, at_markdown, [{"name": "none", "markdown_pct": 0}, {"name": "recommended"},
                                               {"name": "deep", "markdown_pct": 0.4}], seed=3)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["week"]) == ("markdown", 3)
    none, recommended, deep = body["scenarios"]
    assert recommended["settings"]["markdown_pct"] == decision.markdown_pct
    assert {r["manufacturing_qty"] for r in body["scenarios"]} == {allocation.manufacturing_qty}
    assert none["expected_markdown_cost"] == 0 and deep["expected_markdown_cost"] > 0
    assert deep["expected_units_sold"] > none["expected_units_sold"]
    assert body["recommended"] == max(body["scenarios"], key=lambda r: r["expected_gross_margin"])["name"]
    # The 0% scenario is the simulator's no-markdown rest of the season.
    plain = compare_rest_of_season(inputs.plan, inputs.demand, inputs.money.economics, state,
                                   [Scenario("plain", allocation.manufacturing_qty,
                                             replenishment_strategy="weekly")], paths=PATHS, seed=3)
    assert none["expected_units_sold"] == round(plain.scenarios[0].expected_units_sold, 1)
    assert none["expected_gross_margin"] == round(plain.scenarios[0].expected_gross_margin, 2)
    refused = post(planner_api, at_markdown, [{"name": "a", "manufacturing_qty": 9000}])
    assert _field(refused) == "scenarios.0.manufacturing_qty"
    assert "markdown approval" in refused.json()["errors"][0]["message"]


def test_a_comparison_exports_as_csv_and_xlsx_with_the_same_cells(at_order, planner_api, viewer_api, client):
    body = post(planner_api, at_order, buys(at_order)[:3], seed=1).json()
    path = f"/api/exports/scenarios/{body['comparison_id']}"
    cells = assert_twins(viewer_api, path)
    header, rows = cells[0], cells[1:]
    assert header[:13] == ["name", "rank", *SPEC_FIELDS[1:]] and header[-1] == "recommended"
    assert [r[0] for r in rows] == ["lean", "proposed", "deep"]
    for row, result in zip(rows, body["scenarios"]):
        assert row[header.index("expected_gross_margin")] == result["expected_gross_margin"]
        assert row[header.index("safety_stock_pct")] == result["settings"]["safety_stock_pct"]
        assert row[-1] == ("yes" if result["name"] == body["recommended"] else "no")
    disposition = viewer_api.get(f"{path}.xlsx")["Content-Disposition"]
    assert disposition == f'attachment; filename="scenarios-womens_dresses-manufacturing-{body["comparison_id"]}.xlsx"'
    assert viewer_api.get("/api/exports/scenarios/999999.xlsx").status_code == 404
    assert client.get(f"{path}.csv").status_code == 401
