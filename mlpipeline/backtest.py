"""Rolling-origin backtest of the forecast (SPEC §12 Forecast accuracy).

For each category, the production forecast (``forecast_demand``) is run from several origins
spread over the last two years of history, ``horizon`` weeks ahead each time, and every model it
reports is scored against what then sold. Errors are pooled over all origin windows. Rows: each
member, the Prophet + ARIMA equal ensemble (rebuilt from its two members), and the combination
(the forecast itself under ``weighting="evidence"``, the default).

The table over many weekly series (real, peer, synthetic, generated) is ``series_backtest``.

    python -m mlpipeline.backtest --peer ../shared/peer-data --season-start 2025-02-17
    python -m mlpipeline.backtest --csv sales.csv --horizon 12 --origins 8
    python -m mlpipeline.backtest --synthetic --seed 42
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .forecasting import forecast_demand, rolling_origins
from .metrics import bias, mape, wape
from .sales_io import read_sales_csv
from .weekly import weekly_series

DEFAULT_ORIGINS = 8
SPAN_WEEKS = 104  # the last two seasons of history
REPORTED_MODELS = (
    "prophet", "arima", "ensemble", "ets", "ses", "snaive_growth", "seasonal_naive", "combination",
)
MAX_LOSS_TO_BASELINE = 0.10  # ensemble WAPE may exceed seasonal naive's by at most 10% relative
PEER_HISTORY = "historical_sales_2022_2024.csv"
COLUMNS = [
    "category", "model", "wape", "mape", "bias", "coverage", "total_error", "fit_seconds",
    "origins", "failures",
]


def run_backtest(
    daily_frame: pd.DataFrame,
    categories: list[str] | None = None,
    horizon: int = 12,
    origins: int = DEFAULT_ORIGINS,
    *,
    season_start: date | None = None,
    weighting: str = "evidence",
) -> pd.DataFrame:
    """One row per (category, model) with WAPE, MAPE, bias (pooled over the origin windows),
    80%-interval coverage (share of weeks inside the bounds), total_error (mean absolute error
    of the window totals, the number a planner buys on), mean fit seconds per origin, and how
    many origins the model failed or was not run at.

    Weeks are aligned to ``season_start``'s weekday (default: the day after the last sale, so
    the last week of history is full).
    """
    anchor = season_start or (daily_frame["date"].max() + timedelta(days=1)).date()
    rows = []
    for category in categories or sorted(daily_frame["category"].unique()):
        weekly = weekly_series(daily_frame[daily_frame["category"] == category], anchor)
        points = rolling_origins(len(weekly), horizon, origins, SPAN_WEEKS)
        if not points:
            raise ValueError(
                f"{category}: {len(weekly)} weeks of history is too short for a "
                f"{horizon}-week backtest"
            )
        scored = {name: _Scores() for name in REPORTED_MODELS}
        for origin in points:
            result = forecast_demand(weekly.iloc[:origin], horizon, weighting=weighting)
            actual = weekly.iloc[origin:origin + horizon].to_numpy(dtype=float)
            for name in REPORTED_MODELS:
                scored[name].add(actual, result, name)
        rows += [scored[name].row(category, name) for name in REPORTED_MODELS]
    return pd.DataFrame(rows, columns=COLUMNS)


def target_failures(table: pd.DataFrame) -> list[str]:
    """SPEC §12 accuracy targets that a backtest table misses (empty list: all met)."""
    failures = []
    for category, rows in table.groupby("category", sort=False):
        error = rows.set_index("model")["wape"]
        limit = error["seasonal_naive"] * (1 + MAX_LOSS_TO_BASELINE)
        if not error["ensemble"] <= limit:
            failures.append(
                f"{category}: ensemble WAPE {error['ensemble']:.2%} is worse than seasonal naive "
                f"{error['seasonal_naive']:.2%} by more than {MAX_LOSS_TO_BASELINE:.0%}"
            )
        if "combination" in error and not pd.isna(error["combination"]):
            if not error["combination"] <= limit:
                failures.append(
                    f"{category}: combination WAPE {error['combination']:.2%} is worse than "
                    f"seasonal naive {error['seasonal_naive']:.2%} by more than "
                    f"{MAX_LOSS_TO_BASELINE:.0%}"
                )
        models_mean = (error["prophet"] + error["arima"]) / 2
        if not error["ensemble"] < models_mean:
            failures.append(
                f"{category}: ensemble WAPE {error['ensemble']:.2%} does not beat the mean of "
                f"prophet and arima {models_mean:.2%}"
            )
    return failures


def format_table(table: pd.DataFrame) -> str:
    """Markdown table, ratios as percentages."""
    header = (
        "| category | model | WAPE | MAPE | bias | 80% coverage | total error | fit s | origins "
        "| failures |"
    )
    lines = [header, "|" + "---|" * 10]
    for row in table.itertuples(index=False):
        lines.append(
            f"| {row.category} | {row.model} | {_pct(row.wape)} | {_pct(row.mape)} "
            f"| {_pct(row.bias, signed=True)} | {_pct(row.coverage, 0)} | {_pct(row.total_error)} "
            f"| {row.fit_seconds:.2f} | {row.origins} | {row.failures} |"
        )
    return "\n".join(lines)


class _Scores:
    """Accumulates one model's forecasts and actuals over the origin windows."""

    def __init__(self):
        self.actual: list[np.ndarray] = []
        self.forecast: list[np.ndarray] = []
        self.inside = 0
        self.seconds: list[float] = []
        self.runs = 0

    def add(self, actual: np.ndarray, result, name: str) -> None:
        self.runs += 1
        if name == "combination" and result.method == "combination" or (
            name == "ensemble" and result.method == "ensemble"
        ):
            weekly, lower, upper = result.weekly, result.lower, result.upper
            seconds = result.fit_seconds
        elif name == "ensemble" and {"prophet", "arima"} <= set(result.components):
            members = ("prophet", "arima")
            weekly = np.mean([result.components[m] for m in members], axis=0)
            lower = np.mean([result.component_bounds[m]["lower"] for m in members], axis=0)
            upper = np.mean([result.component_bounds[m]["upper"] for m in members], axis=0)
            seconds = sum(result.model_seconds[m] for m in members)
        elif name in result.components:
            weekly = result.components[name]
            lower = result.component_bounds[name]["lower"]
            upper = result.component_bounds[name]["upper"]
            seconds = result.model_seconds[name]
        else:  # the model failed or was not run (level forecast, equal weighting)
            return
        self.actual.append(actual)
        self.forecast.append(np.asarray(weekly))
        self.inside += int(((np.asarray(lower) <= actual) & (actual <= np.asarray(upper))).sum())
        self.seconds.append(seconds)

    def row(self, category: str, name: str) -> list:
        if not self.actual:
            return [category, name, *[float("nan")] * 6, 0, self.runs]
        actual, forecast = np.concatenate(self.actual), np.concatenate(self.forecast)
        totals = [
            abs(f.sum() - a.sum()) / a.sum()
            for a, f in zip(self.actual, self.forecast)
            if a.sum() > 0
        ]
        return [
            category,
            name,
            _none_to_nan(wape(actual, forecast)),
            _none_to_nan(mape(actual, forecast)),
            _none_to_nan(bias(actual, forecast)),
            self.inside / len(actual),
            float(np.mean(totals)) if totals else float("nan"),
            float(np.mean(self.seconds)),
            len(self.actual),
            self.runs - len(self.actual),
        ]


def _none_to_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _pct(value: float, digits: int = 2, signed: bool = False) -> str:
    if pd.isna(value):
        return "-"
    return f"{value:+.{digits}%}" if signed else f"{value:.{digits}%}"


def _load(args: argparse.Namespace) -> pd.DataFrame:
    if args.synthetic:
        from .synthetic import generate_daily_sales

        return generate_daily_sales(seed=args.seed)
    path = Path(args.peer or args.csv)
    return read_sales_csv(path / PEER_HISTORY if path.is_dir() else path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlpipeline.backtest", description=__doc__.split("\n\n")[0]
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--peer", metavar="PATH", help=f"peer-data folder (reads {PEER_HISTORY}) or file"
    )
    source.add_argument("--csv", metavar="PATH", help="historical sales CSV")
    source.add_argument("--synthetic", action="store_true", help="seeded synthetic history")
    parser.add_argument("--seed", type=int, default=42, help="synthetic data seed (default 42)")
    parser.add_argument(
        "--season-start", type=date.fromisoformat, metavar="YYYY-MM-DD",
        help="align weeks to this date's weekday (default: the day after the last sale)",
    )
    parser.add_argument("--horizon", type=int, default=12)
    parser.add_argument("--origins", type=int, default=DEFAULT_ORIGINS)
    parser.add_argument("--categories", nargs="*", help="category slugs (default: all)")
    parser.add_argument("--weighting", choices=["evidence", "equal", "backtest"], default="evidence")
    args = parser.parse_args(argv)
    table = run_backtest(
        _load(args), args.categories, args.horizon, args.origins,
        season_start=args.season_start, weighting=args.weighting,
    )
    print(format_table(table))
    failures = target_failures(table)
    print()
    print("\n".join(f"TARGET MISSED: {failure}" for failure in failures) or "Targets met.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
