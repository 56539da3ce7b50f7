"""The weekly series the forecast is judged on (SPEC §12 "against the best simple anchors").

Four kinds, none of them special-cased by the forecast:

- **real**: public data shipped inside installed packages (nothing is downloaded): weekly
  atmospheric CO2 at Mauna Loa (statsmodels; strongly seasonal with a large mean, std/mean under
  0.01 over a few years), and weekly share volumes made from daily stock data (Microsoft,
  pmdarima; Google, matplotlib): noisy, shifting, weakly seasonal. Each is cut at several
  dates, so every case is a different stretch of history.
- **peer**: the three categories of ../shared/peer-data (another team's generator).
- **synthetic**: the three categories of this project's seeded generator.
- **generated**: seeded series with known truth: a level shift, a trend change, promotion
  spikes, intermittent weeks, a near-flat level and a large-mean seasonal series.

Generated and synthetic series carry ``expected``: the noise-free expected units of each week
(random events such as promotions at their average effect, since their timing cannot be known
ahead). Scored as a forecast it shows the noise floor: how low the WAPE ratio can go at all.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .weekly import weekly_series

CASE_WEEKS = 261 + 44  # five years of history at the earliest evaluation origin, plus windows
PEER_SEASON_START = date(2025, 2, 17)
PEER_HISTORY = "historical_sales_2022_2024.csv"
GENERATED_START = date(2021, 1, 4)
GENERATED_WEEKS = 168
YEAR_WEEKS = 365.25 / 7
CO2_ENDS = ("1970-12-31", "1980-12-31", "1990-12-31", "2001-12-31")
MSFT_ENDS = ("1996-12-31", "2006-12-31", "2017-12-31")


@dataclass
class EvaluationSeries:
    name: str
    kind: str  # real, peer, synthetic, generated
    history: pd.Series  # weekly units on a regular 7-day index
    expected: pd.Series | None = None  # known-truth expected units per week (same index)


def catalog(peer_data: Path | None = None, kinds: tuple[str, ...] | None = None) -> list[EvaluationSeries]:
    """Every evaluation series available here (peer ones only when ``peer_data`` exists)."""
    loaders = {
        "real": real_series,
        "peer": lambda: peer_series(peer_data) if peer_data and Path(peer_data).exists() else [],
        "synthetic": synthetic_series,
        "generated": generated_series,
    }
    return [s for kind, load in loaders.items() if not kinds or kind in kinds for s in load()]


# --- real -----------------------------------------------------------------------------------


def real_series() -> list[EvaluationSeries]:
    return [*_co2_cases(), *_msft_cases(), *_goog_cases()]


def _co2_cases() -> Iterator[EvaluationSeries]:
    """Mauna Loa CO2 (ppm), weekly; the 59 missing weeks are interpolated."""
    import statsmodels.api as sm

    co2 = sm.datasets.co2.load_pandas().data["co2"].interpolate(limit_direction="both")
    co2.index = pd.DatetimeIndex(co2.index)
    for end in CO2_ENDS:
        yield EvaluationSeries(f"co2_{end[:4]}", "real", _cut(co2, end))


def _msft_cases() -> Iterator[EvaluationSeries]:
    """Microsoft daily share volume (pmdarima's bundled copy) summed into Monday weeks."""
    from pmdarima.datasets import load_msft

    daily = load_msft()
    volume = pd.Series(daily["Volume"].to_numpy(float), index=pd.to_datetime(daily["Date"]))
    weekly = weekly_series(volume, _monday_after(volume.index[0]))
    for end in MSFT_ENDS:
        yield EvaluationSeries(f"msft_volume_{end[:4]}", "real", _cut(weekly, end))


def _goog_cases() -> Iterator[EvaluationSeries]:
    """Google daily share volume 2004-2008 (matplotlib's sample data) in Monday weeks."""
    from matplotlib import cbook

    with cbook.get_sample_data("goog.npz") as data:
        prices = data["price_data"]
    volume = pd.Series(prices["volume"].astype(float), index=pd.DatetimeIndex(prices["date"]))
    yield EvaluationSeries("goog_volume_2008", "real", weekly_series(volume, _monday_after(volume.index[0])))


def _cut(series: pd.Series, end: str) -> pd.Series:
    kept = series[series.index <= pd.Timestamp(end)]
    return kept.iloc[-CASE_WEEKS:].astype(float)


def _monday_after(day: pd.Timestamp) -> date:
    return (day + pd.Timedelta(days=(7 - day.weekday()) % 7)).date()


# --- peer and synthetic -----------------------------------------------------------------------


def peer_series(folder: Path) -> list[EvaluationSeries]:
    from .sales_io import read_sales_csv

    daily = read_sales_csv(Path(folder) / PEER_HISTORY)
    return [
        EvaluationSeries(f"peer_{category}", "peer",
                         weekly_series(daily[daily["category"] == category], PEER_SEASON_START))
        for category in sorted(daily["category"].unique())
    ]


def synthetic_series(seed: int = 42) -> list[EvaluationSeries]:
    from .synthetic import expected_daily_units, generate_daily_sales, generate_stores

    stores = generate_stores(seed=seed)
    daily = generate_daily_sales(stores, seed=seed)
    anchor = (daily["date"].max() + timedelta(days=1)).date()
    cases = []
    for category in sorted(daily["category"].unique()):
        history = weekly_series(daily[daily["category"] == category], anchor)
        expected = weekly_series(expected_daily_units(category, stores, seed=seed), anchor)
        cases.append(EvaluationSeries(f"synthetic_{category}", "synthetic", history,
                                      expected.reindex(history.index).astype(float)))
    return cases


# --- generated with known truth ---------------------------------------------------------------


def generated_series(seed: int = 2024) -> list[EvaluationSeries]:
    """Three and a quarter years of weeks each; the truth is written in the code."""
    rng = np.random.default_rng(seed)
    t = np.arange(GENERATED_WEEKS)
    angle = 2 * np.pi * t / YEAR_WEEKS
    season = np.exp(0.35 * np.sin(angle) + 0.15 * np.cos(2 * angle))

    def noisy(expected, cv=0.05):
        return np.maximum(expected * (1 + cv * rng.standard_normal(GENERATED_WEEKS)), 0)

    spike_rate, spike_size = 0.05, 2.5

    level_shift = 1000 * season * np.where(t >= 110, 1.4, 1.0)
    slope = np.where(t < 100, 0.10 * t / YEAR_WEEKS, 0.10 * 100 / YEAR_WEEKS - 0.10 * (t - 100) / YEAR_WEEKS)
    trend_change = 1000 * season * np.exp(slope)
    spikes = 1000 * season * np.where(rng.random(GENERATED_WEEKS) < spike_rate, spike_size, 1.0)
    intermittent = rng.poisson(1.5 * season)
    near_flat = 500 * (1 + 0.004 * rng.standard_normal(GENERATED_WEEKS))
    large_mean_truth = 50_000 * (1 + 0.008 * np.sin(angle))
    large_mean = large_mean_truth * (1 + 0.001 * rng.standard_normal(GENERATED_WEEKS))
    cases = {  # name -> (observed, expected)
        "level_shift_+40%": (noisy(level_shift), level_shift),
        "trend_change_+10%_to_-10%": (noisy(trend_change), trend_change),
        "promo_spikes_x2.5": (noisy(spikes), 1000 * season * (1 + spike_rate * (spike_size - 1))),
        "intermittent_1.5_a_week": (intermittent.astype(float), 1.5 * season),
        "near_flat_level": (near_flat, np.full(GENERATED_WEEKS, 500.0)),
        "large_mean_seasonal": (large_mean, large_mean_truth),
    }
    index = pd.date_range(GENERATED_START, periods=GENERATED_WEEKS, freq="7D")
    return [
        EvaluationSeries(f"gen_{name}", "generated", pd.Series(np.round(values, 2), index=index),
                         pd.Series(truth, index=index))
        for name, (values, truth) in cases.items()
    ]
