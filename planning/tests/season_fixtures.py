"""Fixtures of the season engine tests: inline jobs, a fit memo, seeded demo history, a planned
season. Import with ``from planning.tests.season_fixtures import *`` (pytest picks them up)."""
from datetime import date, timedelta
from functools import lru_cache

import pandas as pd
import pytest

SEASON_START = date(2025, 3, 1)
CATEGORY = "womens_dresses"
PARAMS = {
    "forecast_horizon_weeks": 12,
    "season_start_date": SEASON_START.isoformat(),
    "replenishment_strategy": "weekly",
    "dc_holdback_percentage": 0.45,
    "markdown_checkpoint_week": 6,
    "markdown_threshold": 0.60,
}

_FIT_MEMO = {}


@pytest.fixture
def inline_jobs(monkeypatch):
    """planning.jobs.submit runs the job here and now (deterministic tests)."""
    from planning import jobs

    calls = []

    def submit(task, *args):
        calls.append((task.name, args))
        return task(*args)

    monkeypatch.setattr(jobs, "submit", submit)
    return calls


@pytest.fixture
def fit_memo(monkeypatch):
    """Fits are remembered across tests of the session (same seeded data -> same cache key), so
    each distinct fit runs once per test run; the DB cache still sees every get/set."""
    from planning.services import forecasting

    real_get, real_set = forecasting.DbFitCache.get, forecasting.DbFitCache.set

    def get(self, key):
        found = real_get(self, key)
        if found is None and key in _FIT_MEMO:
            real_set(self, key, _FIT_MEMO[key])  # as if this test had fitted it
        return found

    def set_(self, key, value):
        _FIT_MEMO[key] = value
        real_set(self, key, value)

    monkeypatch.setattr(forecasting.DbFitCache, "get", get)
    monkeypatch.setattr(forecasting.DbFitCache, "set", set_)
    return _FIT_MEMO


def _store_frame():
    from mlpipeline.data import STORE_COLUMNS
    from planning.models import Store

    rows = [{"store_id": s.store_id, "store_name": s.name, "store_size_sqft": s.store_size_sqft,
             "location_tier": s.location_tier, "fashion_tier": s.fashion_tier, "store_format": s.store_format,
             "region": s.region, "median_income": s.median_income, "avg_weekly_sales_12mo": s.avg_weekly_sales_12mo}
            for s in Store.objects.order_by("store_id")]
    return pd.DataFrame(rows)[STORE_COLUMNS]


@lru_cache(maxsize=4)
def _weekly_store_history(store_key, category):
    """Synthetic daily history of the stores summed to weeks aligned to SEASON_START (one row per
    store and week, dated at the week start): the same weekly series as the daily file, 7x fewer rows."""
    from mlpipeline import synthetic

    stores = pd.DataFrame(list(store_key[1]), columns=list(store_key[0]))
    daily = synthetic.generate_daily_sales(stores, categories=[category])
    offset = (daily["date"] - pd.Timestamp(SEASON_START)).dt.days // 7
    daily = daily.assign(week_start=pd.Timestamp(SEASON_START) + pd.to_timedelta(offset * 7, unit="D"))
    return daily.groupby(["store_id", "week_start"], as_index=False)["quantity_sold"].sum()


def seed_history(category=CATEGORY, weeks=None):
    """Weekly history rows for ``category`` from the synthetic generator (bumps data_version)."""
    from planning.models import Category, HistoricalSale

    frame = _store_frame()
    key = (tuple(frame.columns), tuple(map(tuple, frame.itertuples(index=False))))
    weekly = _weekly_store_history(key, category)
    if weeks is not None:
        last = weekly["week_start"].max()
        weekly = weekly[weekly["week_start"] > last - pd.Timedelta(weeks=weeks)]
    cat, _ = Category.objects.get_or_create(pk=category, defaults={"name": category.replace("_", " ").title()})
    HistoricalSale.objects.filter(category=cat).delete()
    HistoricalSale.objects.bulk_create(
        [HistoricalSale(store_id=s, category=cat, date=d.date(), units=int(u))
         for s, d, u in zip(weekly["store_id"], weekly["week_start"], weekly["quantity_sold"])],
        batch_size=2000)
    Category.objects.filter(pk=category).update(data_version=cat.data_version + 1)
    return cat


@pytest.fixture
def seeded(demo_stores):
    """50 demo stores in 3 clusters and about three years of weekly Women's Dresses history."""
    return seed_history()


@lru_cache(maxsize=8)
def _season_truth(store_key, scenario, start):
    from mlpipeline import synthetic

    stores = pd.DataFrame(list(store_key[1]), columns=list(store_key[0]))
    truth = synthetic.generate_future_season(stores, CATEGORY, start, 12, scenario)
    week = (truth.daily["date"] - pd.Timestamp(start)).dt.days // 7 + 1
    return truth.daily.assign(week=week).groupby(["week", "store_id"])["quantity_sold"].sum()


def week_units(week, scenario="normal", start=SEASON_START):
    """{store_id: units} of a synthetic season week (the held-out truth of the generator)."""
    frame = _store_frame()
    key = (tuple(frame.columns), tuple(map(tuple, frame.itertuples(index=False))))
    return {store: int(units) for store, units in _season_truth(key, scenario, start).loc[week].items()}


def start_season(user, params=None, category=CATEGORY):
    from planning.services import season_start

    return season_start.start_forecast(category, {**PARAMS, **(params or {})}, user=user)


def accept_order(workflow, user, safety_stock_pct=None):
    from planning.services import approvals

    return approvals.approve_manufacturing(workflow.pk, "accept", safety_stock_pct, user=user)


def priced(category_id, price=40.0):
    """Give the category's history a revenue of ``price`` a unit (its seasons' default unit price)."""
    from django.db.models import F

    from planning.models import HistoricalSale

    HistoricalSale.objects.filter(category_id=category_id).update(revenue=F("units") * price)


@pytest.fixture
def at_order(seeded, planner, inline_jobs, fit_memo):
    """A season waiting for the manufacturing approval, its history priced at 40 a unit."""
    priced(seeded.pk)
    season = start_season(planner)
    season.refresh_from_db()
    assert season.pending_approval == "approve_manufacturing_order", season.pending_approval
    return season


@pytest.fixture
def planned_season(seeded, planner, inline_jobs, fit_memo):
    """A season whose manufacturing order is accepted (phase in_season)."""
    workflow = start_season(planner)
    accept_order(workflow, planner)
    workflow.refresh_from_db()
    assert workflow.status == "completed", workflow.current_run.error
    return workflow


def bare_season(owner=None, **run_fields):
    """A season and its pre-season run written directly (no job runs), e.g. for recovery tests."""
    from planning.models import Run, Season
    from planning.services import season_start

    season = Season.objects.create(category_id=CATEGORY, parameters=season_start.season_parameters(PARAMS),
                                   owner=owner)
    run = Run.objects.create(id=season.pk, season=season, kind="pre_season", owner=owner,
                             **{"step": "demand", **run_fields})
    Season.objects.filter(pk=season.pk).update(current_run=run)
    season.refresh_from_db()
    return season


def upload_week(season, week, units, **kwargs):
    """Upload a week's actuals, process the week here and now (not as a job) and return the week's
    result."""
    from planning.services.actuals import record_week_actuals
    from planning.services.weeks import week_result

    run = record_week_actuals(season, week, units, background=False, **kwargs)
    run.refresh_from_db()
    assert run.status in ("completed", "awaiting_approval"), run.error
    return week_result(season, week)


def event_types(workflow):
    return list(workflow.events.order_by("seq").values_list("type", flat=True))


def week_start(week, start=SEASON_START):
    return start + timedelta(weeks=week - 1)
