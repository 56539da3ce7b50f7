"""Read endpoints: categories, stores, clusters, forecasts, allocations, markdowns, variance."""
from datetime import date

import pytest

from planning.models import (
    Allocation,
    Forecast,
    HistoricalSale,
    MarkdownDecision,
    Replenishment,
    Store,
    StoreAllocation,
    Run,
    Season,
    VarianceCheck,
)

START = date(2025, 3, 1)


def make_season(owner=None, category="womens_dresses"):
    """A season with a 2-week forecast, an accepted allocation over three stores, a variance
    check for week 1 and one shipment, written directly (no workflow run)."""
    season = Season.objects.create(
        category_id=category, owner=owner, parameters={"season_start_date": START.isoformat(), "forecast_horizon_weeks": 2})
    run = Run.objects.create(id=season.pk, season=season, kind="pre_season", status="completed", step="done")
    Season.objects.filter(pk=season.pk).update(current_run=run)
    forecast = Forecast.objects.create(
        season=season, run=run, category_id=category, season_start_date=START,
        horizon_weeks=2, total_units=1000.0, method="ensemble",
        weekly=[{"week": 1, "week_start": "2025-03-01", "units": 480.0, "lower": 400.0,
                 "upper": 560.0},
                {"week": 2, "week_start": "2025-03-08", "units": 520.0, "lower": 430.0,
                 "upper": 610.0}],
        model_totals={"prophet": 1025.0, "arima": 975.0}, weights={"prophet": 0.5, "arima": 0.5},
        warnings=["short history"],
        cluster_distribution=[{"cluster_id": "fashion_forward", "share": 0.4, "units": 400},
                              {"cluster_id": "mainstream", "share": 0.6, "units": 600}])
    allocation = Allocation.objects.create(
        season=season, forecast=forecast, status="accepted", demand_units=1000,
        safety_stock_pct=0.2, manufacturing_qty=1200, holdback_pct=0.45, initial_qty=660,
        holdback_qty=540, dc_available=500,
        cluster_totals=[{"cluster_id": "fashion_forward", "share": 0.4, "store_count": 1}])
    for store_id, planned in (("S001", 400), ("S002", 350), ("S003", 250)):
        StoreAllocation.objects.create(
            allocation=allocation, store_id=store_id, factor=planned / 1000,
            planned_units=planned, initial_qty=round(planned * 0.66),
            holdback_qty=planned - round(planned * 0.66))
    VarianceCheck.objects.create(
        season=season, week=1, forecast=forecast, forecast_cum=480.0, actual_cum=420,
        variance=0.125, signed_variance=-0.125, band="amber", threshold=0.2, exceeded=False,
        action_taken="none")
    Replenishment.objects.create(season=season, week=1, store_id="S001", need_units=50,
                                 quantity=40, partial=True)
    return season, forecast


@pytest.fixture
def season(demo_stores, planner):
    return make_season(planner)


def test_categories_with_row_counts_and_dates(viewer_api, demo_stores,
                                              django_assert_max_num_queries):
    HistoricalSale.objects.bulk_create([
        HistoricalSale(store_id="S001", category_id="accessories", date=date(2024, 1, d), units=1)
        for d in (3, 1, 9)])
    with django_assert_max_num_queries(4):  # token, role, data versions, the categories
        response = viewer_api.get("/api/categories")
    assert response.status_code == 200
    by_id = {c["category_id"]: c for c in response.json()}
    assert by_id["accessories"] == {"category_id": "accessories", "category_name": "Accessories", "data_version": 0,
                                    "row_count": 3, "first_date": "2024-01-01", "last_date": "2024-01-09"}
    assert by_id["mens_shirts"]["row_count"] == 0 and by_id["mens_shirts"]["first_date"] is None


def test_stores_list_filter_and_pages(viewer_api, demo_stores):
    body = viewer_api.get("/api/stores").json()
    assert body["count"] == 50 and len(body["items"]) == 50
    assert body["items"][0]["store_id"] == "S001"
    assert set(body["items"][0]) >= {"store_name", "cluster_id", "store_size_sqft", "fashion_tier", "median_income"}
    cluster = Store.objects.get(pk="S001").cluster_id
    filtered = viewer_api.get(f"/api/stores?cluster={cluster}").json()
    assert filtered["count"] == Store.objects.filter(cluster_id=cluster).count()
    assert {s["cluster_id"] for s in filtered["items"]} == {cluster}
    page = viewer_api.get("/api/stores?limit=10&offset=45").json()
    assert page["count"] == 50 and [s["store_id"] for s in page["items"]] == [
        f"S{i:03d}" for i in range(46, 51)]


def test_clusters_with_their_stores(viewer_api, demo_stores):
    clusters = viewer_api.get("/api/stores/clusters").json()
    assert [c["cluster_id"] for c in clusters] == ["fashion_forward", "mainstream", "value_conscious"]
    assert clusters[0]["cluster_name"] == "Fashion forward"
    assert sum(len(c["stores"]) for c in clusters) == 50
    for cluster in clusters:
        assert cluster["store_count"] == len(cluster["stores"])
        assert {s["cluster_id"] for s in cluster["stores"]} == {cluster["cluster_id"]}


def test_forecasts_paginated_and_filtered(viewer_api, season, planner):
    other_season, other = make_season(planner, category="accessories")
    body = viewer_api.get("/api/forecasts").json()
    assert body["count"] == 2 and body["items"][0]["forecast_id"] == other.id  # newest first
    first = body["items"][1]
    assert (first["category_name"], first["season"], first["total_season_demand"]) == (
        "Women's Dresses", "Spring/Summer 2025", 1000.0)
    by_category = viewer_api.get("/api/forecasts?category=womens_dresses").json()
    assert [f["forecast_id"] for f in by_category["items"]] == [season[1].id]
    by_season = viewer_api.get(f"/api/forecasts?season={other_season.pk}").json()
    assert [f["forecast_id"] for f in by_season["items"]] == [other.id]
    assert viewer_api.get("/api/forecasts?limit=1").json()["items"][0]["forecast_id"] == other.id
    assert viewer_api.get("/api/forecasts?season=nope").status_code == 422


def test_forecast_detail(viewer_api, season):
    workflow, forecast = season
    body = viewer_api.get(f"/api/forecasts/{forecast.id}").json()
    assert body["season_id"] == str(workflow.pk) and body["total_season_demand"] == 1000.0
    assert body["weekly_demand_curve"][0] == {"week": 1, "week_start": "2025-03-01", "units": 480.0,
                                 "lower": 400.0, "upper": 560.0, "actual": False}
    assert body["model_totals"] == {"prophet": 1025.0, "arima": 975.0}
    assert (body["prophet_forecast"], body["arima_forecast"]) == (1025.0, 975.0)
    assert body["cluster_distribution"][1] == {"cluster_id": "mainstream", "share": 0.6,
                                               "units": 600.0}
    assert body["forecasting_method"] == "ensemble" and body["warnings"] == ["short history"]


@pytest.mark.parametrize("path", ["/api/forecasts/{}", "/api/allocations/{}", "/api/markdowns/{}",
                                  "/api/variance/{}/week/1"])
def test_unknown_forecast_is_404_json(viewer_api, db, path):
    response = viewer_api.get(path.format(987654))
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown forecast 987654."}


def test_allocation_of_the_forecasts_season(viewer_api, season):
    workflow, forecast = season
    body = viewer_api.get(f"/api/allocations/{forecast.id}").json()
    assert (body["manufacturing_qty"], body["initial_allocation_total"], body["holdback_total"]) == (1200, 660, 540)
    assert body["safety_stock_percentage"] == 0.2
    assert body["status"] == "accepted" and body["category_id"] == "womens_dresses"
    assert body["season_id"] == str(workflow.pk) and body["forecast_id"] == forecast.id
    rows = body["store_allocations"]
    assert [s["store_id"] for s in rows] == ["S001", "S002", "S003"]
    assert rows[0]["store_name"] == Store.objects.get(pk="S001").name
    assert sum(s["planned_units"] for s in rows) == 1000
    assert sum(s["initial_allocation"] for s in rows) == 660 and "holdback_allocation" in rows[0]

    reforecast = Forecast.objects.create(
        season=workflow, run_id=workflow.pk, category_id="womens_dresses", version=2,
        kind="reforecast", from_week=2, season_start_date=START, horizon_weeks=2,
        total_units=900.0, method="run-rate blend", weekly=[])
    assert viewer_api.get(f"/api/allocations/{reforecast.id}").json()["forecast_id"] == forecast.id


def test_allocation_404_before_one_exists(viewer_api, season):
    workflow, forecast = season
    Allocation.objects.filter(season=workflow).delete()
    response = viewer_api.get(f"/api/allocations/{forecast.id}")
    assert response.status_code == 404 and "no allocation yet" in response.json()["detail"]


def test_markdown_404_until_checkpoint(viewer_api, season):
    workflow, forecast = season
    response = viewer_api.get(f"/api/markdowns/{forecast.id}")
    assert response.status_code == 404 and "checkpoint" in response.json()["detail"]
    MarkdownDecision.objects.create(
        season=workflow, forecast=forecast, week=1, units_sold=550, manufacturing_qty=1000,
        sell_through=0.55, target=0.6, gap=0.05, elasticity=2.0, markdown_pct=0.1,
        expected_lift=0.15)
    body = viewer_api.get(f"/api/markdowns/{forecast.id}").json()
    assert (body["recommended_markdown_pct"], body["status"], body["week_number"]) == (0.1, "recommended", 1)
    assert (body["sell_through_pct"], body["elasticity_coefficient"]) == (0.55, 2.0)
    assert body["reasoning"].startswith("sell-through 55.0% vs target 60%: gap 5.0% x elasticity 2.0")


def test_variance_of_a_week(viewer_api, season):
    workflow, forecast = season
    body = viewer_api.get(f"/api/variance/{forecast.id}/week/1").json()
    assert body["week_number"] == 1 and body["stock_alert"] is None
    assert body["forecasted_cumulative"] == 480.0 and body["actual_cumulative"] == 420
    assert body["variance_pct"] == 0.125 and body["signed_variance"] == -0.125
    assert body["direction"] == "under" and body["band"] == "amber"
    assert body["band_label"] == "Elevated" and body["threshold_exceeded"] is False
    assert body["action_taken"] == "none" and body["forecast_id"] == forecast.id
    missing = viewer_api.get(f"/api/variance/{forecast.id}/week/2")
    assert missing.status_code == 404 and "Week 2 has no variance check" in missing.json()["detail"]


def test_reads_need_a_token(client, season):
    workflow, forecast = season
    for path in ("/api/categories", "/api/stores", "/api/stores/clusters", "/api/forecasts",
                 f"/api/forecasts/{forecast.id}", f"/api/allocations/{forecast.id}"):
        response = client.get(path)
        assert response.status_code == 401 and "detail" in response.json()


def test_openapi_documents_the_data_endpoints(viewer_api, db):
    schema = viewer_api.get("/api/openapi.json").json()
    for path in ("/api/data/upload-historical-sales", "/api/data/upload-stores",
                 "/api/data/upload-weekly-sales", "/api/categories", "/api/stores",
                 "/api/stores/clusters", "/api/forecasts", "/api/forecasts/{forecast_id}",
                 "/api/allocations/{forecast_id}", "/api/markdowns/{forecast_id}",
                 "/api/variance/{forecast_id}/week/{week_number}",
                 "/api/exports/allocations/{forecast_id}.csv"):
        assert path in schema["paths"], path
    assert schema["components"]["schemas"]["HistoryUploadOut"]["properties"]["rows_imported"]["examples"] == [
        164400]

