"""A season of many stores written straight to the database (bulk_create, no model fit, no job),
for the store tables' tests and bench/scale_pages.py: demo-like stores in the three clusters, an
accepted allocation, some weeks of actuals with their variance checks, and the DC's shipments.
Needs the clusters and categories loaded (``loaddata clusters categories``)."""
import random
from datetime import date, timedelta

from planning.models import (
    Allocation,
    Forecast,
    Replenishment,
    Run,
    Season,
    Store,
    StoreAllocation,
    VarianceCheck,
    WeeklyActual,
)
from planning.services import season_start

CATEGORY = "womens_dresses"
CLUSTERS = (("fashion_forward", "PREMIUM", 0.40), ("mainstream", "MAINSTREAM", 0.35), ("value_conscious", "VALUE", 0.25))
HORIZON = 12
WEEKLY_UNITS_PER_STORE = 12.0


def stores(count, prefix="T"):
    """``count`` stores (ids T0001...), a third of them in each cluster; returns their ids."""
    rng = random.Random(count)
    rows = []
    for i in range(1, count + 1):
        cluster, tier, _ = CLUSTERS[i % 3]
        rows.append(Store(
            store_id=f"{prefix}{i:04d}", name=f"Store {prefix}{i:04d} {rng.choice(['Mall', 'Plaza', 'Main St'])}",
            cluster_id=cluster, store_size_sqft=rng.randint(4000, 20000), location_tier=rng.choice("ABC"),
            fashion_tier=tier, store_format=rng.choice(["MALL", "STANDALONE", "SHOPPING_CENTER", "OUTLET"]),
            region=rng.choice(["NORTHEAST", "SOUTHEAST", "MIDWEST", "WEST"]),
            median_income=rng.randint(40000, 120000), avg_weekly_sales_12mo=rng.uniform(5, 40)))
    Store.objects.bulk_create(rows, batch_size=1000)
    return [row.store_id for row in rows]


def season(store_count, *, weeks_of_actuals=4, owner=None, prefix="T"):
    """A season of ``store_count`` new stores, its order accepted and ``weeks_of_actuals`` weeks in
    (actuals, a variance check and the DC's shipments each week)."""
    rng = random.Random(store_count * 7 + weeks_of_actuals)
    ids = stores(store_count, prefix)
    params = season_start.season_parameters({
        "forecast_horizon_weeks": HORIZON, "season_start_date": "2025-03-01", "replenishment_strategy": "weekly",
        "dc_holdback_percentage": 0.45, "markdown_checkpoint_week": None})
    start = date.fromisoformat(params["season_start_date"])
    made = Season.objects.create(category_id=CATEGORY, parameters=params, owner=owner, phase="in_season",
                                 current_week=weeks_of_actuals)
    run = Run.objects.create(id=made.pk, season=made, kind="pre_season", owner=owner, step="done",
                             status="completed", progress_pct=100)
    Season.objects.filter(pk=made.pk).update(current_run=run)
    weekly_total = WEEKLY_UNITS_PER_STORE * store_count
    weekly = [{"week": w, "week_start": (start + timedelta(weeks=w - 1)).isoformat(), "units": weekly_total,
               "lower": weekly_total * 0.8, "upper": weekly_total * 1.2} for w in range(1, HORIZON + 1)]
    demand = round(weekly_total * HORIZON)
    forecast = Forecast.objects.create(
        season=made, run=run, category_id=CATEGORY, season_start_date=start, horizon_weeks=HORIZON, weekly=weekly,
        total_units=demand, method="ensemble",
        cluster_distribution=[{"cluster_id": c, "share": s, "units": round(demand * s)} for c, _, s in CLUSTERS])
    rows = _store_rows(ids, demand, rng)
    mfg = round(demand * 1.2)
    holdback = round(mfg * 0.45)
    shipped = weeks_of_actuals * store_count  # at most one unit a store a week (below)
    allocation = Allocation.objects.create(
        season=made, forecast=forecast, status="accepted", demand_units=demand, safety_stock_pct=0.2,
        manufacturing_qty=mfg, holdback_pct=0.45, initial_qty=mfg - holdback, holdback_qty=holdback,
        dc_available=max(0, holdback - shipped), cluster_totals=_cluster_totals(rows, demand))
    StoreAllocation.objects.bulk_create([StoreAllocation(allocation=allocation, **row) for row in rows],
                                        batch_size=1000)
    actuals, shipments = [], []
    sold_cum = 0
    for week in range(1, weeks_of_actuals + 1):
        for row in rows:
            units = max(0, round(row["planned_units"] / HORIZON * rng.uniform(0.6, 1.4)))
            sold_cum += units
            actuals.append(WeeklyActual(season=made, week=week, store_id=row["store_id"], units=units))
            need = rng.randint(0, 6)
            shipments.append(Replenishment(season=made, week=week, store_id=row["store_id"], need_units=need,
                                           quantity=min(need, 1), partial=need > 1))
        forecast_cum = weekly_total * week
        signed = (sold_cum - forecast_cum) / forecast_cum
        VarianceCheck.objects.create(
            season=made, week=week, forecast=forecast, forecast_cum=forecast_cum, actual_cum=sold_cum,
            variance=abs(signed), signed_variance=signed, band="green" if abs(signed) < 0.1 else "amber",
            threshold=0.2, exceeded=False, action_taken="none")
    WeeklyActual.objects.bulk_create(actuals, batch_size=2000)
    Replenishment.objects.bulk_create(shipments, batch_size=2000)
    made.refresh_from_db()
    return made


def _store_rows(ids, demand, rng):
    weights = [rng.uniform(0.5, 1.5) for _ in ids]
    total = sum(weights)
    rows = []
    for store_id, weight, i in zip(ids, weights, range(1, len(ids) + 1)):
        planned = round(demand * weight / total)
        initial = round(planned * 1.2 * 0.55)
        rows.append({"store_id": store_id, "cluster_id": CLUSTERS[i % 3][0], "factor": min(1.0, weight / total * 3),
                     "planned_units": planned, "initial_qty": initial, "holdback_qty": round(planned * 1.2) - initial})
    return rows


def _cluster_totals(rows, demand):
    totals = []
    for cluster, _, share in CLUSTERS:
        members = [r for r in rows if r["cluster_id"] == cluster]
        totals.append({"cluster_id": cluster, "share": share, "units": sum(r["planned_units"] for r in members),
                       "initial_qty": sum(r["initial_qty"] for r in members),
                       "holdback_qty": sum(r["holdback_qty"] for r in members), "store_count": len(members)})
    return totals
