"""From stored sales history to the inputs of the forecast tool, and the DB-backed fit cache.

The category's daily units are read from its day totals (``CategoryDaySales``, one row per day,
kept by the history import), bucketed into 7-day weeks aligned to the season start weekday by
``mlpipeline.weekly.weekly_series`` and cut at the season start, so the models never see the
season they forecast. The stores' 52-week units come from ``StoreYearSales``; only a season that
starts inside the history (its 52 weeks end before the history does) sums HistoricalSale rows. Fits are cached in ``FitCache`` keyed by
(category, Category.data_version, season start, horizon, weighting[, actuals]): a page view, a
modify-approval or a re-run of a step never refits, and an import (which bumps data_version)
always does.
"""
from datetime import date, timedelta

import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Sum

from agents.season_tools import cache_key
from mlpipeline.weekly import weekly_series
from planning.models import CategoryDaySales, FitCache, HistoricalSale, Store, StoreYearSales

MIN_HISTORY_WEEKS = 8  # below this the forecast is refused (SPEC §4)
CLUSTER_SHARE_DAYS = 364  # cluster shares and store factors use the last 52 weeks of history


class DbFitCache:
    """The FitCache protocol of agents.orchestration on the FitCache table."""

    def __init__(self, category_id):
        self.category_id = category_id

    def get(self, key):
        return FitCache.objects.filter(key=key).values_list("result", flat=True).first()

    def set(self, key, value):
        try:
            with transaction.atomic():
                FitCache.objects.update_or_create(
                    key=key, defaults={"category_id": self.category_id, "result": value})
        except IntegrityError:  # another run cached the same fit first; either copy is right
            pass


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def daily_units(category_id, *, before=None):
    """Units per calendar day of a category (summed over stores), oldest first."""
    qs = CategoryDaySales.objects.filter(category_id=category_id)
    if before is not None:
        qs = qs.filter(date__lt=before)
    rows = list(qs.order_by("date").values_list("date", "units"))
    if not rows:
        return pd.Series(dtype="float64")
    dates, units = zip(*rows)
    return pd.Series(units, index=pd.DatetimeIndex(dates), dtype="float64")


def history_weekly(category_id, season_start):
    """The category's weekly history before the season: weeks aligned to the season start weekday,
    full weeks only, ending on or before the day before the season starts."""
    start = _as_date(season_start)
    daily = daily_units(category_id, before=start)
    if daily.empty:
        return pd.Series(dtype="float64")
    return weekly_series(daily, start).astype("float64")


def series_rows(series):
    """A weekly Series as the tool's [{"week_start", "units"}] rows."""
    return [{"week_start": ts.date().isoformat(), "units": float(units)} for ts, units in series.items()]


def forecast_cache_key(category, season_start, horizon_weeks, weighting="equal", actuals=None):
    """The FitCache key of a fit; ``actuals`` (weekly units of the season so far) for refits."""
    return cache_key("forecast", category.pk, category.data_version, _as_date(season_start).isoformat(),
                     int(horizon_weeks), weighting, [round(float(a), 3) for a in actuals or []])


def refit_history(history, season_start, actual_weekly):
    """``history`` (``history_weekly`` of the season) plus the season's actual weeks as one
    regular weekly series (for re-forecasts).

    When the history stops before the season starts, the missing weeks in between carry the
    units of the same weeks one year earlier (a seasonal-naive fill), so the series stays
    regular without inventing a drop; if a year earlier is missing too, the last known week.
    """
    start = _as_date(season_start)
    weeks = [pd.Timestamp(start + timedelta(weeks=k)) for k in range(len(actual_weekly))]
    actual = pd.Series([float(a) for a in actual_weekly], index=pd.DatetimeIndex(weeks), dtype="float64")
    if history.empty:
        return series_rows(actual)
    filled = history.copy()
    cursor = filled.index[-1] + pd.Timedelta(days=7)
    while cursor < pd.Timestamp(start):
        year_ago = cursor - pd.Timedelta(weeks=52)
        filled.loc[cursor] = float(filled.get(year_ago, filled.iloc[-1]))
        cursor += pd.Timedelta(days=7)
    return series_rows(pd.concat([filled.sort_index(), actual]))


def store_history_units(category_id, season_start):
    """Each store's units of the category in the last 52 weeks of history before the season: the
    stored store years when they end on the season's last day of history (a season after the
    history), else summed from the base rows (a season that starts inside the history)."""
    start = _as_date(season_start)
    last = (CategoryDaySales.objects.filter(category_id=category_id, date__lt=start)
            .order_by("-date").values_list("date", flat=True).first())
    if last is None:
        return {}
    stored = StoreYearSales.objects.filter(category_id=category_id, window_end=last).values_list("store_id", "units")
    units = {store_id: float(units) for store_id, units in stored}
    if units:
        return units
    since = last - timedelta(days=CLUSTER_SHARE_DAYS - 1)
    rows = (HistoricalSale.objects.filter(category_id=category_id, date__gte=since, date__lte=last)
            .values("store_id").annotate(units=Sum("units")).values_list("store_id", "units"))
    return {store_id: float(units) for store_id, units in rows}


def store_rows(category_id, season_start):
    """The stores as the tools' rows: attributes, cluster (or None) and 52-week category units."""
    units = store_history_units(category_id, season_start)
    return [
        {
            "store_id": s.store_id,
            "cluster": s.cluster_id,
            "historical_units": units.get(s.store_id, 0.0),
            "store_size_sqft": s.store_size_sqft,
            "median_income": s.median_income,
            "avg_weekly_sales_12mo": s.avg_weekly_sales_12mo,
            "location_tier": s.location_tier,
            "fashion_tier": s.fashion_tier,
            "store_format": s.store_format,
            "region": s.region,
        }
        for s in Store.objects.order_by("store_id")
    ]


def warm_up():
    """Import the forecasting stack once (Prophet alone takes ~0.7 s), e.g. in a job thread
    before the first fit; later imports are free."""
    import mlpipeline.forecasting  # noqa: F401
