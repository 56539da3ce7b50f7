"""Daily sales -> the category's weekly series the forecast is fitted on.

Weeks are aligned to the season start weekday (a season may start on any weekday, SPEC §2), so
that the history weeks and the season weeks are the same kind of 7-day bucket.
"""
from datetime import date, timedelta

import numpy as np
import pandas as pd


def weekly_series(daily: pd.DataFrame | pd.Series, season_start: date) -> pd.Series:
    """Weekly category units: the sum over stores, bucketed into 7-day weeks starting on
    ``season_start - 7k``.

    ``daily`` is a daily sales frame of one category (``date``, ``quantity_sold``) or a Series of
    units indexed by date; several rows per date (one per store) are summed. Days missing inside
    the data's date range count as 0 (no sales recorded). Only full weeks are kept: a week at
    either end that is not wholly inside the date range would look like a demand drop.
    The index (``week_start``) is regular with 7-day spacing.
    """
    units = _daily_units(daily)
    if units.empty:
        return _empty_weekly()
    first_day, last_day = units.index[0], units.index[-1]
    first_week = first_day + pd.Timedelta(days=(pd.Timestamp(season_start) - first_day).days % 7)
    n_weeks = ((last_day - first_week).days + 1) // 7
    if n_weeks <= 0:
        return _empty_weekly()
    days = pd.date_range(first_week, periods=7 * n_weeks, freq="D")
    totals = units.reindex(days, fill_value=0).to_numpy().reshape(n_weeks, 7).sum(axis=1)
    index = pd.date_range(first_week, periods=n_weeks, freq="7D", name="week_start")
    return pd.Series(totals, index=index, name="units")


def season_week_starts(season_start: date, horizon_weeks: int) -> list[date]:
    """Start dates of season weeks 1..horizon (week N starts at ``start + 7*(N-1)``)."""
    start = pd.Timestamp(season_start).date()
    return [start + timedelta(weeks=k) for k in range(horizon_weeks)]


def _daily_units(daily: pd.DataFrame | pd.Series) -> pd.Series:
    """Total units per calendar day, sorted by date."""
    if isinstance(daily, pd.DataFrame):
        if "category" in daily.columns and daily["category"].nunique() > 1:
            raise ValueError("weekly_series needs one category; filter the frame first")
        daily = pd.Series(daily["quantity_sold"].to_numpy(), index=daily["date"])
    dates = pd.DatetimeIndex(daily.index).normalize()
    return daily.groupby(dates).sum().sort_index()


def _empty_weekly() -> pd.Series:
    index = pd.DatetimeIndex([], name="week_start")
    return pd.Series(np.array([], dtype="int64"), index=index, name="units")
