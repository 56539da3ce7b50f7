"""Persisting forecasts and allocation plans, and reading them back as plain dicts."""
from datetime import date, timedelta

from django.db import transaction
from django.db.models import F, Max

from planning.models import Allocation, Forecast, StoreAllocation, StoreCluster


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def save_original_forecast(season, run, forecast, split):
    """Version 1 of the season's forecast (replaced if the demand step runs again)."""
    fields = dict(
        run=run,
        category_id=season.category_id,
        kind=Forecast.Kind.ORIGINAL,
        from_week=1,
        season_start_date=_as_date(forecast["season_start"]),
        horizon_weeks=forecast["horizon_weeks"],
        weekly=forecast["weekly"],
        total_units=forecast["total"],
        model_totals=forecast.get("model_totals") or {},
        weights=forecast.get("weights") or {},
        method=forecast["method"][:32],
        backtest_error=forecast.get("backtest_error"),
        warnings=forecast.get("warnings") or [],
        cluster_distribution=[
            {"cluster_id": c["cluster_id"], "share": c["share"], "units": c["units"]} for c in split["clusters"]
        ],
        reason="Pre-season forecast",
    )
    saved, _ = Forecast.objects.update_or_create(season=season, version=1, defaults=fields)
    return saved


def save_forecast_version(season, run, *, kind, from_week, weekly_units, reason, method, fit=None,
                          bounds=None, actual_weeks=0):
    """A new baseline for the season: weeks 1..actual_weeks are actuals, the rest re-estimated by
    ``method``; ``bounds`` (lower, upper) are the re-estimated weeks' 80% bounds, ``fit`` a model
    refit whose metadata (model totals, weights, warnings) the version records.

    Idempotent per producing run and from_week: running the same step again replaces the
    version it made instead of adding another.
    """
    start = season.forecasts.order_by("version").values_list("season_start_date", flat=True).first()
    horizon = len(weekly_units)
    previous = current_forecast(season)
    weekly = [
        {"week": n, "week_start": (start + timedelta(weeks=n - 1)).isoformat(), "units": round(float(u), 2),
         "actual": n <= actual_weeks}
        for n, u in enumerate(weekly_units, start=1)
    ]
    if bounds:
        for row, low, high in zip(weekly[actual_weeks:], *bounds):
            row["lower"], row["upper"] = round(float(low), 2), round(float(high), 2)
    fields = dict(
        category_id=season.category_id,
        kind=kind,
        season_start_date=start,
        horizon_weeks=horizon,
        weekly=weekly,
        total_units=round(sum(float(u) for u in weekly_units), 2),
        model_totals=(fit or {}).get("model_totals") or {},
        weights=(fit or {}).get("weights") or {},
        method=method[:32],
        backtest_error=(fit or {}).get("backtest_error"),
        warnings=(fit or {}).get("warnings") or [],
        cluster_distribution=_scaled_clusters(previous, sum(float(u) for u in weekly_units)),
        reason=reason[:255],
    )
    with transaction.atomic():
        existing = Forecast.objects.filter(season=season, run=run, kind=kind, from_week=from_week).first()
        if existing:
            for name, value in fields.items():
                setattr(existing, name, value)
            existing.save()
            return existing
        version = (season.forecasts.aggregate(v=Max("version"))["v"] or 0) + 1
        return Forecast.objects.create(season=season, run=run, version=version, from_week=from_week,
                                       **fields)


def _scaled_clusters(previous, total):
    if previous is None or not previous.cluster_distribution:
        return []
    return [{**c, "units": round(total * float(c["share"]))} for c in previous.cluster_distribution]


def original_forecast(season):
    return season.forecasts.filter(version=1).first()


def current_forecast(season):
    """The baseline in force: the latest forecast version of the season."""
    return season.forecasts.order_by("-version").first()


def save_proposed_allocation(season, forecast, order, plan):
    """The proposed (not yet accepted) allocation of the season, store rows included."""
    with transaction.atomic():
        allocation, _ = Allocation.objects.update_or_create(
            season=season,
            defaults=_allocation_fields(forecast, order, plan, status=Allocation.Status.PROPOSED),
        )
        _replace_store_rows(allocation, plan)
    return allocation


def commit_allocation(allocation, order, plan, user, now):
    """Accept the plan: store rows as in ``plan``, DC stock = the holdback (call inside a transaction)."""
    for name, value in _allocation_fields(allocation.forecast, order, plan, status=Allocation.Status.ACCEPTED).items():
        setattr(allocation, name, value)
    allocation.accepted_at = now
    allocation.accepted_by = user
    allocation.save()
    _replace_store_rows(allocation, plan)
    return allocation


def _allocation_fields(forecast, order, plan, *, status):
    return dict(
        forecast=forecast,
        status=status,
        demand_units=plan["demand_units"],
        buy_basis=_basis_of(order),
        safety_stock_pct=order["safety_stock_pct"],
        manufacturing_qty=plan["manufacturing_qty"],
        holdback_pct=plan["holdback_pct"],
        initial_qty=plan["initial_qty"],
        holdback_qty=plan["holdback_qty"],
        dc_available=plan["holdback_qty"],
        cluster_totals=plan["clusters"],
    )


def _replace_store_rows(allocation, plan):
    known = set(StoreCluster.objects.values_list("pk", flat=True))
    allocation.stores.all().delete()
    StoreAllocation.objects.bulk_create([
        StoreAllocation(
            allocation=allocation,
            store_id=row["store_id"],
            cluster_id=row["cluster_id"] if row["cluster_id"] in known else None,
            factor=min(1.0, max(0.0, row["factor"])),
            planned_units=row["planned_units"],
            initial_qty=row["initial_qty"],
            holdback_qty=row["holdback_qty"],
        )
        for row in plan["stores"]
    ])


# --- reading back, in the API's field names (docs/api.md) -----------------------------------------


def order_view(order):
    """A manufacturing order (size_manufacturing_order's output or a committed allocation's
    numbers) as the approval endpoints and the WebSocket show it."""
    return {"demand": order["demand"], "demand_units": order["demand_units"],
            "safety_stock_pct": order["safety_stock_pct"], "manufacturing_qty": order["manufacturing_qty"],
            "buy_basis": order.get("buy_basis") or _basis_of(order),
            "holdback_pct": order["holdback_pct"], "initial_allocation": order["initial_qty"],
            "holdback": order["holdback_qty"]}


def _basis_of(order):
    """size_manufacturing_order's source of the buy, as an Allocation.Basis."""
    quantity = order.get("safety_stock_source") == "quantity"
    return Allocation.Basis.QUANTITY.value if quantity else Allocation.Basis.SAFETY_STOCK.value


def cluster_allocations(clusters):
    """Cluster rows of an allocation plan (allocate_to_stores' shape, or as stored)."""
    return [{"cluster_id": c["cluster_id"], "share": c.get("share"), "store_count": c.get("store_count"),
             "units": c.get("units"), "initial_allocation": c.get("initial_qty"),
             "holdback_allocation": c.get("holdback_qty")} for c in clusters]


def store_allocation_rows(allocation_id):
    """Every store row of an allocation, read as dicts (thousands of stores: no model instances)."""
    return list(StoreAllocation.objects.filter(allocation=allocation_id).order_by("store_id").values(
        "store_id", "cluster_id", "factor", "planned_units", store_name=F("store__name"),
        initial_allocation=F("initial_qty"), holdback_allocation=F("holdback_qty")))


def allocation_dict(allocation, *, with_stores=True):
    """GET /api/allocations/{forecast_id}: totals, cluster and store rows."""
    if allocation is None:
        return None
    body = {
        "season_id": allocation.season_id,
        "forecast_id": allocation.forecast_id,
        "category_id": allocation.season.category_id,
        "status": allocation.status,
        "demand_units": allocation.demand_units,
        "safety_stock_percentage": allocation.safety_stock_pct,
        "buy_basis": allocation.buy_basis,
        "manufacturing_qty": allocation.manufacturing_qty,
        "holdback_pct": allocation.holdback_pct,
        "initial_allocation_total": allocation.initial_qty,
        "holdback_total": allocation.holdback_qty,
        "dc_available": allocation.dc_available,
        "cluster_allocations": cluster_allocations(allocation.cluster_totals),
        "created_at": allocation.created_at,
        "accepted_at": allocation.accepted_at,
        "accepted_by": allocation.accepted_by.get_username() if allocation.accepted_by_id else None,
    }
    if with_stores:
        body["store_allocations"] = store_allocation_rows(allocation.pk)
    return body


def fashion_season(start):
    """The fashion season a start date falls in: Spring/Summer (Feb-Jul) or Fall/Winter (Aug-Jan,
    January counting with the year before)."""
    start = _as_date(start)
    if 2 <= start.month <= 7:
        return f"Spring/Summer {start.year}"
    return f"Fall/Winter {start.year if start.month >= 8 else start.year - 1}"


# GET /api/forecasts rows, read as dicts in the API's names.
FORECAST_SUMMARY_FIELDS = dict(
    forecast_id=F("id"), category_name=F("category__name"), total_season_demand=F("total_units"),
    forecasting_method=F("method"), workflow_id=F("run_id"))
FORECAST_SUMMARY_COLUMNS = ("season_id", "category_id", "version", "kind", "from_week",
                            "season_start_date", "horizon_weeks", "created_at")


def forecast_summaries(queryset):
    """Forecast rows (a values() queryset) for the list endpoint; ``season`` is added per row."""
    return queryset.values(*FORECAST_SUMMARY_COLUMNS, **FORECAST_SUMMARY_FIELDS)


def forecast_dict(forecast):
    """GET /api/forecasts/{forecast_id}: the curve with bounds, clusters, every model's total."""
    if forecast is None:
        return None
    totals = forecast.model_totals or {}
    return {
        "forecast_id": forecast.pk,
        "season_id": forecast.season_id,
        "workflow_id": forecast.run_id,
        "category_id": forecast.category_id,
        "category_name": forecast.category.name,
        "season": fashion_season(forecast.season_start_date),
        "version": forecast.version,
        "kind": forecast.kind,
        "from_week": forecast.from_week,
        "season_start_date": forecast.season_start_date,
        "horizon_weeks": forecast.horizon_weeks,
        "total_season_demand": forecast.total_units,
        "forecasting_method": forecast.method,
        "weekly_demand_curve": forecast.weekly,
        "prophet_forecast": totals.get("prophet"),
        "arima_forecast": totals.get("arima"),
        "model_totals": totals,
        "weights": forecast.weights,
        "backtest_error": forecast.backtest_error,
        "warnings": forecast.warnings,
        "cluster_distribution": forecast.cluster_distribution,
        "reason": forecast.reason,
        "created_at": forecast.created_at,
    }
