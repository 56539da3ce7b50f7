"""Persisting forecasts and allocation plans, and reading them back as plain dicts."""
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Max

from planning.models import Allocation, Forecast, StoreAllocation, StoreCluster


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def save_original_forecast(season, forecast, split):
    """Version 1 of the season's forecast (replaced if the demand step runs again)."""
    fields = dict(
        workflow=season,
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


def save_forecast_version(season, workflow, *, kind, from_week, weekly_units, reason, fit=None,
                          actual_weeks=0):
    """A new baseline for the season: weeks 1..actual_weeks are actuals, the rest re-estimated.

    Idempotent per producing workflow and from_week: running the same step again replaces the
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
    if fit:
        for row, model_row in zip(weekly[actual_weeks:], fit["weekly"]):
            row["lower"], row["upper"] = model_row.get("lower"), model_row.get("upper")
    fields = dict(
        category_id=season.category_id,
        kind=kind,
        season_start_date=start,
        horizon_weeks=horizon,
        weekly=weekly,
        total_units=round(sum(float(u) for u in weekly_units), 2),
        model_totals=(fit or {}).get("model_totals") or {},
        weights=(fit or {}).get("weights") or {},
        method=((fit or {}).get("method") or "run-rate blend")[:32],
        backtest_error=(fit or {}).get("backtest_error"),
        warnings=(fit or {}).get("warnings") or [],
        cluster_distribution=_scaled_clusters(previous, sum(float(u) for u in weekly_units)),
        reason=reason[:255],
    )
    with transaction.atomic():
        existing = Forecast.objects.filter(season=season, workflow=workflow, kind=kind, from_week=from_week).first()
        if existing:
            for name, value in fields.items():
                setattr(existing, name, value)
            existing.save()
            return existing
        version = (season.forecasts.aggregate(v=Max("version"))["v"] or 0) + 1
        return Forecast.objects.create(season=season, workflow=workflow, version=version, from_week=from_week,
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


def allocation_dict(allocation, *, with_stores=True):
    if allocation is None:
        return None
    body = {
        "status": allocation.status,
        "forecast_id": allocation.forecast_id,
        "demand_units": allocation.demand_units,
        "safety_stock_pct": allocation.safety_stock_pct,
        "manufacturing_qty": allocation.manufacturing_qty,
        "holdback_pct": allocation.holdback_pct,
        "initial_qty": allocation.initial_qty,
        "holdback_qty": allocation.holdback_qty,
        "dc_available": allocation.dc_available,
        "clusters": allocation.cluster_totals,
        "accepted_at": allocation.accepted_at,
        "accepted_by": allocation.accepted_by.get_username() if allocation.accepted_by_id else None,
    }
    if with_stores:
        body["stores"] = [
            {"store_id": s.store_id, "cluster_id": s.cluster_id, "factor": s.factor,
             "planned_units": s.planned_units, "initial_qty": s.initial_qty, "holdback_qty": s.holdback_qty}
            for s in allocation.stores.all()
        ]
    return body


def forecast_dict(forecast):
    if forecast is None:
        return None
    return {
        "id": forecast.pk,
        "version": forecast.version,
        "kind": forecast.kind,
        "from_week": forecast.from_week,
        "season_start_date": forecast.season_start_date,
        "horizon_weeks": forecast.horizon_weeks,
        "total_units": forecast.total_units,
        "weekly": forecast.weekly,
        "model_totals": forecast.model_totals,
        "weights": forecast.weights,
        "method": forecast.method,
        "backtest_error": forecast.backtest_error,
        "warnings": forecast.warnings,
        "cluster_distribution": forecast.cluster_distribution,
        "reason": forecast.reason,
        "created_at": forecast.created_at,
    }
