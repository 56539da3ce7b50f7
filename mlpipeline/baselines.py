"""Cheap forecasting members beside Prophet and ARIMA (SPEC §4 Forecast, §12 anchors).

Each returns ``(mean, lower, upper)`` arrays for the ``steps`` weeks after the history;
``forecasting`` wraps them as members of the combination.

- **snaive_growth**: the same week a year earlier times the year-on-year growth of the last
  GROWTH_WEEKS weeks (sum of those weeks / sum of the same weeks a year before). On retail
  history that is close to "last year x growth" it is the anchor to beat.
- **ets**: Holt-Winters exponential smoothing on ``log1p(units)``: damped additive trend and an
  additive 52-week season from two years of history; below that a damped trend only.
- **ses**: simple exponential smoothing on ``log1p(units)`` (no trend, no season): the recent
  level, for noisy or weakly seasonal series where last year's weeks mislead.
"""
from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

SEASONAL_LAG = 52
GROWTH_WEEKS = 26
MIN_GROWTH_WEEKS = 4
GROWTH_LIMITS = (0.2, 5.0)  # a ratio outside this is a broken year, not growth
ETS_SEASONAL_WEEKS = 104  # Holt-Winters' heuristic start needs two full cycles
INTERVAL_WIDTH = 0.8


def yoy_growth(values: np.ndarray) -> float:
    """Sum of the last GROWTH_WEEKS weeks over the same weeks a year earlier (1 when there is
    too little overlap or nothing sold a year earlier)."""
    weeks = min(GROWTH_WEEKS, len(values) - SEASONAL_LAG)
    if weeks < MIN_GROWTH_WEEKS:
        return 1.0
    recent = values[-weeks:].sum()
    before = values[-weeks - SEASONAL_LAG:-SEASONAL_LAG].sum()
    if before <= 0:
        return 1.0
    return float(np.clip(recent / before, *GROWTH_LIMITS))


def seasonal_naive_growth(series: pd.Series, steps: int) -> tuple[np.ndarray, ...]:
    """Last year's same week x year-on-year growth; bounds from the rule's in-sample relative
    errors (later week / (growth x week a year before) - 1). Needs a year of history."""
    values = series.to_numpy(dtype=float)
    n = len(values)
    if n < SEASONAL_LAG:
        raise ValueError("seasonal naive x growth needs a year of history")
    growth = yoy_growth(values)
    ahead = np.arange(1, steps + 1)
    point = growth * values[n - 1 + ahead - SEASONAL_LAG * np.ceil(ahead / SEASONAL_LAG).astype(int)]
    past, later = values[:-SEASONAL_LAG], values[SEASONAL_LAG:]
    sold = past > 0
    errors = later[sold] / (past[sold] * growth) - 1
    return _empirical_bounds(point, errors)


def fit_ets(series: pd.Series, steps: int) -> tuple[np.ndarray, ...]:
    """Damped-trend Holt-Winters on log1p(units), seasonal from two years of history."""
    seasonal = len(series) >= ETS_SEASONAL_WEEKS
    return _smoothing(series, steps, trend="add", damped_trend=True,
                      seasonal="add" if seasonal else None,
                      seasonal_periods=SEASONAL_LAG if seasonal else None,
                      initialization_method="heuristic" if seasonal else "estimated")


def fit_ses(series: pd.Series, steps: int) -> tuple[np.ndarray, ...]:
    """Simple exponential smoothing on log1p(units): a flat forecast at the smoothed level."""
    return _smoothing(series, steps, trend=None, seasonal=None, initialization_method="estimated")


def _smoothing(series: pd.Series, steps: int, **options) -> tuple[np.ndarray, ...]:
    """Exponential smoothing on log1p(units). Bounds: normal on the log scale with the
    in-sample one-step spread growing like a random walk scaled by the level smoothing
    (sqrt(1 + alpha^2 (h - 1)))."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = np.log1p(series.to_numpy(dtype=float))
    model = ExponentialSmoothing(y, **options).fit(use_brute=False)
    mean = np.asarray(model.forecast(steps), dtype=float)
    sigma = float(np.std(model.resid))
    alpha = float(model.params.get("smoothing_level") or 0.0)
    spread = sigma * np.sqrt(1 + alpha**2 * np.arange(steps))
    half = NormalDist().inv_cdf(0.5 + INTERVAL_WIDTH / 2) * spread
    return np.expm1(mean), np.expm1(mean - half), np.expm1(mean + half)


def _empirical_bounds(point: np.ndarray, errors: np.ndarray) -> tuple[np.ndarray, ...]:
    tail = (1 - INTERVAL_WIDTH) / 2
    low, high = np.quantile(errors, [tail, 1 - tail]) if len(errors) else (0.0, 0.0)
    return point, point * (1 + min(low, 0.0)), point * (1 + max(high, 0.0))
