"""A 500-store chain through the API, as a new user would try it: its weekly demand is several
times the demo's, so the demand guardrail must be relative to the category's own history
(SPEC §8: above 10x the history's largest week), never an absolute unit count."""
import io
from datetime import date

import pandas as pd
import pytest

from mlpipeline import synthetic
from planning.models import Allocation, Forecast
from planning.tests.season_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

SEASON = date(2025, 3, 1)


def _csv(frame):
    handle = io.BytesIO(frame.to_csv(index=False, date_format="%Y-%m-%d").encode())
    handle.name = "upload.csv"
    return handle


def chain_files(n_stores):
    """Stores CSV and weekly history CSV (one row per store and week) of a seeded chain."""
    stores = synthetic.generate_stores(n_stores)
    daily = synthetic.generate_daily_sales(stores, categories=["womens_dresses"])
    offset = (daily["date"] - pd.Timestamp(SEASON)).dt.days // 7
    weekly = (daily.assign(date=pd.Timestamp(SEASON) + pd.to_timedelta(offset * 7, unit="D"))
              .groupby(["date", "store_id"], as_index=False)["quantity_sold"].sum())
    start = weekly["date"].min()
    weekly = weekly[weekly["date"] > start].assign(category="Women's Dresses")  # the first week is partial
    return _csv(stores), _csv(weekly[["date", "category", "store_id", "quantity_sold"]])


def test_a_500_store_chain_plans_to_the_approval(planner_api, inline_jobs, fit_memo):
    stores_csv, history_csv = chain_files(500)
    assert planner_api.post("/api/data/upload-stores", data={"file": stores_csv}).status_code == 200
    imported = planner_api.post("/api/data/upload-historical-sales", data={"file": history_csv})
    assert imported.status_code == 200, imported.content[:500]

    created = planner_api.post("/api/workflows/forecast", json={"category_id": "womens_dresses", "parameters": {
        "forecast_horizon_weeks": 12, "season_start_date": SEASON.isoformat(), "replenishment_strategy": "weekly",
        "dc_holdback_percentage": 0.45}})
    assert created.status_code == 201, created.json()
    status = planner_api.get(f"/api/workflows/{created.json()['workflow_id']}").json()
    assert status["status"] == "awaiting_approval", status

    forecast = Forecast.objects.get(season_id=created.json()["workflow_id"], kind="original")
    assert max(week["units"] for week in forecast.weekly) > 100_000  # the old absolute bound
    allocation = Allocation.objects.get(season_id=created.json()["workflow_id"])
    assert allocation.stores.count() == 500
    assert sum(allocation.stores.values_list("initial_qty", flat=True)) == allocation.initial_qty
