"""Benchmark of one category forecast (SPEC §12 budget: <= 1.5 s wall per category, imports
excluded): Women's Dresses weekly history from the peer data (156 weeks, 2022-2024), season
start 2025-02-17, 12 weeks.

One-off costs of a process are reported apart: ``preload_models()`` (Prophet and pmdarima
imports) and the first forecast (Stan model load, first statsmodels fit). Then ten forecasts in
a row with the default evidence combination (the target), and three with the Prophet + ARIMA
equal ensemble. Peak memory is ru_maxrss.

    .venv/bin/python bench/forecast.py [--runs 10]
"""
import argparse
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEER_HISTORY = REPO.parent / "shared" / "peer-data" / "historical_sales_2022_2024.csv"
SEASON_START = date(2025, 2, 17)
HORIZON = 12
CATEGORY = "womens_dresses"
BUDGET_S = 1.5


def timed(history, runs: int, weighting: str) -> tuple[list[float], object]:
    from mlpipeline.forecasting import forecast_demand

    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = forecast_demand(history, HORIZON, season_start=SEASON_START, weighting=weighting)
        seconds.append(time.perf_counter() - started)
    return seconds, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not PEER_HISTORY.exists():
        raise SystemExit(f"peer history not found at {PEER_HISTORY}")
    sys.path.insert(0, str(REPO))
    from mlpipeline.sales_io import read_sales_csv
    from mlpipeline.weekly import weekly_series

    daily = read_sales_csv(PEER_HISTORY)
    history = weekly_series(daily[daily["category"] == CATEGORY], SEASON_START)
    from mlpipeline.forecasting import preload_models

    started = time.perf_counter()
    preload_models()
    preload_s = time.perf_counter() - started
    cold, _ = timed(history, 1, "evidence")
    warm, result = timed(history, args.runs, "evidence")
    weighted, weighted_result = timed(history, 3, "equal")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"{CATEGORY}: {len(history)} weeks of history "
          f"({history.index[0].date()}..{history.index[-1].date()}), season {SEASON_START}, "
          f"{HORIZON} weeks\n")
    print("| case | runs | median s | min s | max s | target |")
    print("|---|---:|---:|---:|---:|---|")
    print(f"| preload_models() (imports) | 1 | {preload_s:.2f} | | | one-off per process |")
    print(f"| first forecast | 1 | {cold[0]:.2f} | | | one-off per process |")
    for name, seconds in ((f"evidence combination (default), {args.runs} in a row", warm),
                          ("Prophet + ARIMA equal ensemble", weighted)):
        target = f"<= {BUDGET_S:g} s" if seconds is warm else "-"
        print(f"| {name} | {len(seconds)} | {statistics.median(seconds):.2f} | "
              f"{min(seconds):.2f} | {max(seconds):.2f} | {target} |")
    print(f"| peak memory (ru_maxrss) | | {peak_mb:,.0f} MB | | | |")
    print("\nmodel seconds (last run): "
          + ", ".join(f"{name} {s:.2f}" for name, s in result.model_seconds.items()))
    print(f"forecast: {result.method}, total {result.total:,.0f} "
          + "(" + ", ".join(f"{name} {t:,.0f}" for name, t in result.model_totals.items()) + ")")
    print("weights: " + ", ".join(f"{name} {w:.2f}" for name, w in result.weights.items()))
    print(f"equal ensemble: total {weighted_result.total:,.0f}")


if __name__ == "__main__":
    main()
