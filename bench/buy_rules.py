"""Backtest of the buy rules (issue #15): the newsvendor buy against the flat safety-stock rule on
seasons whose store-week demand is known.

For each season the plan is the pre-season forecast the season API makes (``forecast_demand``,
``weighting="equal"``) from the weeks before its start, split over stores by their last 52 weeks
of sales. Two buys are replayed through the engine's stock flows (``simulator.replay_season``:
initial allocation, DC holdback, replenishment, lost sales when a store is empty, salvage):

- flat: forecast x 1.20 with weekly replenishment and a 45% holdback, x 1.25 pushed to the stores
  without replenishment (SPEC §4);
- newsvendor: the critical-ratio quantile of the log-normal season demand of
  ``economics.season_demand_distribution``, its width from ``season_total_errors`` of the history
  before the season (seasonal naive x growth windows, pooled with the prior and floored).

No markdown is replayed: its demand lift is a model assumption, not in the sales. Realised
margin = sales x price + salvage x leftover - cost x buy. Sets:

- peer scenarios: the five seasons of /work/shared/peer-data (Women's Dresses; underperform is
  Accessories, as the peer README says), planned on the 2022-2024 history;
- synthetic held out: ``synthetic.generate_future_season`` (normal, high x1.3, low x0.8) for the
  3 categories, planned on the generator's history;
- past seasons: 12-week windows inside the peer and synthetic histories (6 starts 2023-03..2024-06
  per category), planned on the weeks before each.

Economics: the defaults (cost 0.45, salvage 0.20 of the category's price: CR 0.69) and a thin
margin (cost 0.70, salvage 0.10: CR 0.33), where the newsvendor buys below the forecast.

    .venv/bin/python bench/buy_rules.py
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mlpipeline import synthetic  # noqa: E402
from mlpipeline.allocation import manufacturing_quantity  # noqa: E402
from mlpipeline.economics import Economics, newsvendor_buy, season_demand_distribution, season_total_errors  # noqa: E402
from mlpipeline.forecasting import forecast_demand  # noqa: E402
from mlpipeline.sales_io import read_sales_csv  # noqa: E402
from mlpipeline.simulator import Scenario, SeasonPlan, replay_season  # noqa: E402
from mlpipeline.weekly import weekly_series  # noqa: E402

PEER = REPO.parent / "shared" / "peer-data"
HORIZON = 12
PEER_SCENARIOS = {
    "normal_season": ("womens_dresses", date(2025, 2, 17)),
    "high_demand": ("womens_dresses", date(2025, 3, 1)),
    "low_demand": ("womens_dresses", date(2025, 2, 17)),
    "underperform": ("accessories", date(2025, 2, 17)),
    "severe_underperform": ("womens_dresses", date(2025, 2, 17)),
}
SYNTHETIC_START = date(2025, 2, 17)
SYNTHETIC_SCENARIOS = ("normal", "high", "low")
PAST_STARTS = tuple(date(2023, 3, 6) + timedelta(weeks=13 * k) for k in range(6))
ECONOMICS = {"default (CR 0.69)": (0.45, 0.20), "thin margin (CR 0.33)": (0.70, 0.10)}
FLOWS = {"weekly, 45% holdback": ("weekly", 0.45, 0.20), "none, all to stores": ("none", 0.0, 0.25)}


def store_weeks(daily: pd.DataFrame, start: date, stores: list[str], weeks: int = HORIZON) -> np.ndarray:
    """(weeks, stores) units sold in the ``weeks`` 7-day weeks from ``start``."""
    days = (pd.to_datetime(daily["date"]) - pd.Timestamp(start)).dt.days.to_numpy()
    inside = (days >= 0) & (days < 7 * weeks)
    table = pd.crosstab(days[inside] // 7, daily["store_id"].to_numpy()[inside],
                        values=daily["quantity_sold"].to_numpy()[inside], aggfunc="sum")
    table = table.reindex(index=range(weeks), columns=stores).fillna(0.0)
    return table.to_numpy(dtype=float)


def season_plan(daily: pd.DataFrame, start: date) -> tuple[SeasonPlan, pd.Series, float]:
    """Forecast, store shares (last 52 weeks) and unit price from the sales before ``start``."""
    before = daily[pd.to_datetime(daily["date"]) < pd.Timestamp(start)]
    weekly = weekly_series(before, start)
    forecast = forecast_demand(weekly, HORIZON, season_start=start, weighting="equal")
    recent = before[pd.to_datetime(before["date"]) >= pd.Timestamp(start - timedelta(weeks=52))]
    by_store = recent.groupby("store_id")["quantity_sold"].sum().sort_index()
    shares = np.maximum(by_store.to_numpy(dtype=float), 1e-9)
    price = float(recent["revenue"].sum() / recent["quantity_sold"].sum())
    plan = SeasonPlan(np.asarray(forecast.weekly), shares, store_ids=tuple(by_store.index))
    return plan, weekly, price


def evaluate(name: str, group: str, plan: SeasonPlan, weekly: pd.Series, price: float,
             actual: np.ndarray) -> list[dict]:
    errors = season_total_errors(weekly, HORIZON)
    demand = season_demand_distribution(plan.forecast_total, errors)
    rows = []
    for econ_name, (cost_share, salvage_share) in ECONOMICS.items():
        econ = Economics(price, cost_share * price, salvage_share * price)
        newsvendor = newsvendor_buy(demand, econ)
        for flow_name, (strategy, holdback, safety) in FLOWS.items():
            flat = manufacturing_quantity(plan.forecast_total, safety)
            flat_result, nv_result = replay_season(plan, actual, econ, [
                Scenario("flat", flat, holdback, strategy), Scenario("newsvendor", newsvendor, holdback, strategy)])
            rows.append({"season": name, "group": group, "economics": econ_name, "flows": flow_name,
                         "forecast": plan.forecast_total, "actual": float(actual.sum()), "sigma": demand.sigma,
                         "flat": flat_result, "newsvendor": nv_result})
    return rows


def peer_rows() -> list[dict]:
    daily = read_sales_csv(PEER / "historical_sales_2022_2024.csv")
    rows = []
    for name, (category, start) in PEER_SCENARIOS.items():
        own = daily[daily["category"] == category]
        plan, weekly, price = season_plan(own, start)
        season = pd.concat([pd.read_csv(PEER / "scenarios" / name / f"actuals_week_{n:02d}.csv")
                            for n in range(1, HORIZON + 1)])
        rows += evaluate(name, "peer scenarios", plan, weekly, price, store_weeks(season, start, list(plan.store_ids)))
    return rows + past_rows(daily, "past seasons (peer)")


def synthetic_rows() -> list[dict]:
    stores = synthetic.generate_stores()
    daily = synthetic.generate_daily_sales(stores)
    rows = []
    for category, _ in synthetic.CATEGORIES:
        own = daily[daily["category"] == category]
        plan, weekly, price = season_plan(own, SYNTHETIC_START)
        for scenario in SYNTHETIC_SCENARIOS:
            truth = synthetic.generate_future_season(stores, category, SYNTHETIC_START, HORIZON, scenario)
            actual = store_weeks(truth.daily, SYNTHETIC_START, list(plan.store_ids))
            rows += evaluate(f"{category} {scenario}", "synthetic held out", plan, weekly, price, actual)
    return rows + past_rows(daily, "past seasons (synthetic)")


def past_rows(daily: pd.DataFrame, group: str) -> list[dict]:
    rows = []
    for category in sorted(daily["category"].unique()):
        own = daily[daily["category"] == category]
        for start in PAST_STARTS:
            plan, weekly, price = season_plan(own, start)
            actual = store_weeks(own, start, list(plan.store_ids))
            rows += evaluate(f"{category} {start}", group, plan, weekly, price, actual)
    return rows


def summary_table(rows: list[dict]) -> str:
    lines = ["| set | economics | flows | seasons | rule | mean buy / forecast | realised margin (sum) "
             "| store-week stock-outs | lost sales / demand | leftover / buy | newsvendor better |",
             "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    frame = pd.DataFrame(rows)
    for (group, econ, flows), part in frame.groupby(["group", "economics", "flows"], sort=False):
        wins = sum(r["newsvendor"].expected_gross_margin > r["flat"].expected_gross_margin + 1e-6
                   for r in part.to_dict("records"))
        for rule in ("flat", "newsvendor"):
            results = part[rule].tolist()
            demand = sum(r.expected_demand for r in results)
            buy = sum(r.manufacturing_qty for r in results)
            lines.append(
                f"| {group} | {econ} | {flows} | {len(part)} | {rule} "
                f"| {np.mean([r.manufacturing_qty / f for r, f in zip(results, part['forecast'])]):.3f} "
                f"| {sum(r.expected_gross_margin for r in results):,.0f} "
                f"| {np.mean([r.stockout_probability for r in results]):.1%} "
                f"| {sum(r.expected_lost_sales for r in results) / demand:.1%} "
                f"| {sum(r.expected_leftover_units for r in results) / buy:.1%} "
                f"| {f'{wins} of {len(part)}' if rule == 'newsvendor' else ''} |")
    return "\n".join(lines)


def season_table(rows: list[dict]) -> str:
    lines = ["| season | forecast | actual | sigma | flat buy | flat margin | newsvendor buy | newsvendor margin |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['season']} | {r['forecast']:,.0f} | {r['actual']:,.0f} | {r['sigma']:.3f} "
                     f"| {r['flat'].manufacturing_qty:,} | {r['flat'].expected_gross_margin:,.0f} "
                     f"| {r['newsvendor'].manufacturing_qty:,} | {r['newsvendor'].expected_gross_margin:,.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=["peer", "synthetic"], choices=["peer", "synthetic"])
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    if "peer" in args.sets:
        rows += peer_rows()
    if "synthetic" in args.sets:
        rows += synthetic_rows()
    print(summary_table(rows))
    print("\nPer season (default economics, weekly replenishment with a 45% holdback):\n")
    print(season_table([r for r in rows if r["economics"].startswith("default") and r["flows"].startswith("weekly")
                        and not r["group"].startswith("past")]))
    print(f"\n{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
