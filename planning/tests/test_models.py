"""The database itself rejects bad rows (check and unique constraints), whatever code writes."""
from datetime import date

import pytest
from django.db import IntegrityError, transaction

from planning.models import (
    Allocation,
    Category,
    Forecast,
    HistoricalSale,
    Store,
    StoreCluster,
    Run,
    Season,
    SeasonEvent,
    WeeklyActual,
)

pytestmark = pytest.mark.django_db


def make_store(store_id="S900", **overrides):
    fields = dict(
        name="Test store",
        store_size_sqft=10000,
        location_tier="A",
        fashion_tier="PREMIUM",
        store_format="MALL",
        region="WEST",
        median_income=90000,
        avg_weekly_sales_12mo=500,
    )
    fields.update(overrides)
    return Store.objects.create(store_id=store_id, **fields)


def rejected(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


@pytest.mark.parametrize(
    "overrides",
    [
        {"store_size_sqft": 0},
        {"median_income": 0},
        {"avg_weekly_sales_12mo": -1},
        {"location_tier": "D"},
        {"fashion_tier": "LUXURY"},
        {"store_format": "KIOSK"},
        {"region": "NORTH"},
    ],
)
def test_store_constraints_reject_bad_attributes(overrides):
    rejected(lambda: make_store(**overrides))
    assert not Store.objects.exists()


def test_store_cluster_fashion_tier_range():
    rejected(lambda: StoreCluster.objects.create(id="mainstream", name="M", fashion_tier=4))


def test_sales_are_unique_per_store_category_day_and_non_negative():
    store = make_store()
    category = Category.objects.create(id="womens_dresses", name="Women's Dresses")
    HistoricalSale.objects.create(store=store, category=category, date=date(2024, 1, 1), units=5)
    rejected(
        lambda: HistoricalSale.objects.create(
            store=store, category=category, date=date(2024, 1, 1), units=7
        )
    )
    rejected(
        lambda: HistoricalSale.objects.create(
            store=store, category=category, date=date(2024, 1, 2), units=-1
        )
    )
    assert HistoricalSale.objects.count() == 1


@pytest.fixture
def season():
    category = Category.objects.create(id="womens_dresses", name="Women's Dresses")
    season = Season.objects.create(category=category, parameters={"forecast_horizon_weeks": 12})
    run = Run.objects.create(id=season.pk, season=season, kind=Run.Kind.PRE_SEASON, step="demand")
    Season.objects.filter(pk=season.pk).update(current_run=run)
    season.refresh_from_db()
    return season


def test_a_season_has_one_pre_season_run_and_week_runs_name_their_week(season):
    rejected(lambda: Run.objects.create(season=season, kind=Run.Kind.PRE_SEASON, step="demand"))
    rejected(lambda: Run.objects.create(season=season, kind=Run.Kind.WEEK, step="process_week"))
    Run.objects.create(season=season, kind=Run.Kind.WEEK, week=1, step="process_week")
    Run.objects.create(season=season, kind=Run.Kind.REFORECAST, step="reforecast")


def test_progress_is_a_percentage(season):
    run = season.current_run
    run.progress_pct = 101
    rejected(run.save)


def test_event_sequence_is_unique_per_season(season):
    SeasonEvent.objects.create(season=season, run=season.current_run, seq=1, type="agent_started")
    rejected(lambda: SeasonEvent.objects.create(season=season, seq=1, type="agent_started"))


def test_weekly_actuals_unique_per_week_and_store(season):
    store = make_store()
    WeeklyActual.objects.create(season=season, week=1, store=store, units=3)
    rejected(lambda: WeeklyActual.objects.create(season=season, week=1, store=store, units=4))
    rejected(lambda: WeeklyActual.objects.create(season=season, week=0, store=store, units=4))


def _forecast(season):
    return Forecast.objects.create(
        season=season,
        run=season.current_run,
        category=season.category,
        season_start_date=date(2025, 3, 1),
        horizon_weeks=12,
        weekly=[],
        total_units=8000,
        method="ensemble",
    )


def test_allocation_split_must_add_up(season):
    forecast = _forecast(season)
    base = dict(
        season=season,
        forecast=forecast,
        demand_units=8000,
        safety_stock_pct=0.2,
        manufacturing_qty=9600,
        holdback_pct=0.45,
    )
    rejected(
        lambda: Allocation.objects.create(
            **base, initial_qty=5280, holdback_qty=4000, dc_available=4000
        )
    )
    rejected(
        lambda: Allocation.objects.create(
            **{**base, "safety_stock_pct": 0.5}, initial_qty=5280, holdback_qty=4320, dc_available=4320
        )
    )
    rejected(
        lambda: Allocation.objects.create(
            **base, initial_qty=5280, holdback_qty=4320, dc_available=5000
        )
    )
    Allocation.objects.create(**base, initial_qty=5280, holdback_qty=4320, dc_available=4320)
