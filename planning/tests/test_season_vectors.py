"""SPEC §4 vectors through the in-season engine, on small hand-made seasons (no model fit: the
category has no history, so a re-forecast learns the level with the default weekly noise)."""
import math
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from planning.models import (
    Allocation,
    Category,
    Forecast,
    Replenishment,
    Run,
    Season,
    Store,
    StoreAllocation,
    VarianceCheck,
)
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import upload_week

START = date(2025, 3, 1)


def hand_made_season(weekly, *, initial, holdback, strategy="weekly", checkpoint=None):
    """One store (S001), a 12-week plan of ``weekly`` units and an accepted order."""
    category = Category.objects.create(id="vector_cat", name="Vector category")
    store = Store.objects.create(store_id="S001", name="One", store_size_sqft=8000, location_tier="A",
                                 fashion_tier="PREMIUM", store_format="MALL", region="WEST", median_income=90000,
                                 avg_weekly_sales_12mo=100)
    params = {"forecast_horizon_weeks": 12, "season_start_date": START.isoformat(),
              "season_end_date": (START + timedelta(days=83)).isoformat(), "replenishment_strategy": strategy,
              "dc_holdback_percentage": 0.45, "markdown_checkpoint_week": checkpoint,
              "markdown_threshold": 0.6 if checkpoint else None}
    season = Season.objects.create(category=category, parameters=params, phase="in_season")
    run = Run.objects.create(id=season.pk, season=season, kind="pre_season", status="completed", step="done")
    Season.objects.filter(pk=season.pk).update(current_run=run)
    season.refresh_from_db()
    rows = [{"week": n, "week_start": (START + timedelta(weeks=n - 1)).isoformat(), "units": float(u)}
            for n, u in enumerate(weekly, start=1)]
    forecast = Forecast.objects.create(season=season, run=run, category=category, season_start_date=START,
                                       horizon_weeks=12, weekly=rows, total_units=float(sum(weekly)), method="ensemble")
    mfg = initial + holdback
    allocation = Allocation.objects.create(
        season=season, forecast=forecast, status="accepted", demand_units=round(sum(weekly)), safety_stock_pct=0.2,
        manufacturing_qty=mfg, holdback_pct=0.45, initial_qty=initial, holdback_qty=holdback, dc_available=holdback,
        cluster_totals=[])
    StoreAllocation.objects.create(allocation=allocation, store=store, factor=1.0, planned_units=round(sum(weekly)),
                                   initial_qty=initial, holdback_qty=holdback)
    return season


def test_replenishment_vector_105_planned_58_shipped(db):
    """105 planned, 58 shipped, week 2 of 12, on hand 2 -> 47/10 = 4.7 - 2 = 2.7 -> ship 3."""
    season = hand_made_season([28] * 12, initial=58, holdback=47)
    week1 = upload_week(season, 1, {"S001": 28})
    assert week1["replenishment"]["shipped_total"] == 0  # 47/11 - 30 on hand: nothing needed yet
    week2 = upload_week(season, 2, {"S001": 28})  # on hand 58 - 56 = 2
    shipment = Replenishment.objects.get(season=season, week=2)
    assert (shipment.need_units, shipment.quantity, shipment.partial) == (3, 3, False)
    assert week2["replenishment"]["dc_remaining"] == 44
    assert Allocation.objects.get(season=season).dc_available == 44


def test_variance_vector_3200_vs_2550_reforecasts(db):
    season = hand_made_season([2550] + [2550] * 11, initial=20000, holdback=10000)
    result = upload_week(season, 1, {"S001": 3200})
    assert result["variance_pct"] == pytest.approx(0.2549, abs=1e-4) and result["band"] == "red"
    assert result["threshold_exceeded"] and not result["emergency"]
    reforecast = result["reforecast"]
    # No history to refit on or to learn the noise from, no plan interval: the level is learnt
    # with the default weekly noise, so one week 25% over moves the rest of the season part of
    # the way (not ignored, not rewritten), and its band reaches the run-rate.
    assert reforecast["refit_error"] and reforecast["refit_method"] is None
    run_rate = 3200 / 2550 * 2550
    assert 2550 + 0.1 * (run_rate - 2550) < reforecast["updated_remaining"][0] < run_rate
    assert reforecast["updated_remaining_lower"] < 11 * 2550 and reforecast["updated_remaining_upper"] > 11 * run_rate
    assert reforecast["level_lower"] < reforecast["level"] < reforecast["level_upper"]
    v2 = Forecast.objects.get(season=season, version=2)
    assert v2.method == "bayesian_level" and v2.weekly_units()[0] == 3200
    assert v2.weekly[1]["lower"] < v2.weekly[1]["units"] < v2.weekly[1]["upper"]
    # The same week again is a lasting rise, not an odd week: the level moves most of the way.
    week2 = upload_week(season, 2, {"S001": 3200})["rest_of_season"]
    assert week2["expected"] / 10 > reforecast["updated_remaining"][0]


def test_exactly_the_threshold_does_not_trigger(db):
    season = hand_made_season([1000] * 12, initial=8000, holdback=6400)
    result = upload_week(season, 1, {"S001": 1200})
    assert result["variance_pct"] == pytest.approx(0.20) and not result["threshold_exceeded"] and result["band"] == "amber"
    assert result["reforecast"] is None
    assert VarianceCheck.objects.get(season=season, week=1).action_taken == "none"


@pytest.mark.parametrize(("initial", "on_hand"), [(1400, 0), (3480, 2_080)])
def test_emergency_shortage_counts_dc_and_store_stock(db, initial, on_hand):
    """Selling 40% above a 1,000-a-week plan: the units still needed (the re-forecast season less
    the 1,400 sold) are set against the DC's 4,320 and what the store still holds, as in the SPEC
    vectors (needed 6,800: shortage 2,480 with no store stock, 400 with 2,080 on hand)."""
    season = hand_made_season([1000] * 12, initial=initial, holdback=4320)
    result = upload_week(season, 1, {"S001": 1400})
    alert = result["emergency_order"]
    assert result["emergency"] and result["overstock_review"] is None
    needed = math.ceil(result["reforecast"]["updated_total"] - 1400)
    assert 11 * 1000 < needed < 11 * 1400  # one week up moves the season part of the way
    assert (alert["needed"], alert["dc_available"], alert["store_on_hand"]) == (needed, 4_320, on_hand)
    assert alert["shortage"] == needed - 4_320 - on_hand == result["shortage_units"]
    assert VarianceCheck.objects.get(season=season, week=1).stock_alert == "emergency_order"


def test_selling_far_below_plan_is_an_overstock_review_not_an_order(db):
    """50% below plan: the season holds 4,320 at the DC + 7,500 in the store against what the
    re-forecast still needs, so the surplus is at risk; no shortage, no emergency order. A fall is
    followed from its first week (being 2x too high costs more than being too low)."""
    season = hand_made_season([1000] * 12, initial=8000, holdback=4320)
    result = upload_week(season, 1, {"S001": 500})
    assert not result["emergency"] and result["emergency_order"] is None and result["shortage_units"] is None
    review = result["overstock_review"]
    needed = math.ceil(result["reforecast"]["updated_total"] - 500)
    assert 11 * 500 <= needed < 11 * 1000 * 0.75
    at_risk = 11_820 - needed
    assert (review["needed"], review["stock_held"], review["at_risk"], review["shortage"]) == (needed, 11_820, at_risk, 0)
    check = VarianceCheck.objects.get(season=season, week=1)
    assert (check.stock_alert, check.units_at_risk, check.emergency) == ("overstock_review", at_risk, False)
    messages = list(season.events.filter(type="agent_progress").values_list("payload__message", flat=True))
    assert not any("Emergency" in m for m in messages)
    assert any(m.startswith("Over-stock review after week 1: selling 50% below plan") for m in messages)
    assert f"{at_risk:,} units at risk" in season.events.get(payload__alert__alert="overstock_review").payload["message"]


def test_markdown_vector_through_the_engine(db):
    """Sell-through 0.55 at the checkpoint, target 0.60, elasticity 2.0 -> 10% off."""
    season = hand_made_season([550] * 12, initial=6000, holdback=4000, checkpoint=1)  # mfg 10,000
    result = upload_week(season, 1, {"S001": 5500})
    assert result["markdown"]["recommended_markdown_pct"] == pytest.approx(0.10)
    assert result["markdown"]["expected_lift"] == pytest.approx(0.15)
    assert result["pending_approval"] == "approve_markdown"


def test_plan_season_command(seeded, planner, fit_memo):
    out = StringIO()
    call_command("plan_season", "12-week season starting March 1st 2025, weekly replenishment, 45% holdback, "
                 "markdown at week 6", category="womens_dresses", auto_approve=True, reference_date="2025-01-15",
                 user=planner.username, stdout=out)
    text = out.getvalue()
    assert "completed" in text and "Order (accepted)" in text and "Forecast:" in text
    assert "fashion_forward" in text and "Markdown checkpoint after week 6" in text
    season = Season.objects.get()
    assert season.status == "completed" and season.owner == planner
    out = StringIO()
    call_command("plan_season", "12 weeks from March 1", category="womens_dresses", reference_date="2025-01-15",
                 json=True, stdout=out)
    import json

    body = json.loads(out.getvalue())
    assert body["status"] == "awaiting_approval" and body["timing"]["to_approval_seconds"] > 0


def test_plan_season_command_errors(seeded):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown category"):
        call_command("plan_season", "12 weeks from March 1", category="nope", reference_date="2025-01-15")
    with pytest.raises(CommandError, match="forecast_horizon_weeks"):
        call_command("plan_season", "A 100-week season", category="womens_dresses", reference_date="2025-01-15")
