"""Benchmark of the scenario comparison (SPEC §12: 4 scenarios x 2,000 simulated seasons x 50
stores x 12 weeks in <= 1 s), and the same at 2,000 stores.

The plan is ``allocation.allocate`` on a seeded chain (3 clusters, 8,000 units per 50 stores);
the four scenarios are the buys of a manufacturing approval (safety stock 10 / 20 / 30% with a
45% DC holdback and weekly replenishment, 25% pushed to stores without replenishment), each with
the markdown checkpoint at week 6 below 60% sell-through. Season demand is log-normal
(sigma 0.15) with 10% weekly-shape, store-split and store-week noise. Each case runs
``compare_scenarios`` end to end (draws included) --runs times; the table gives the median and
the fastest. BLAS / OpenMP threads are limited to one, as in the other bench scripts.

    .venv/bin/python bench/simulator.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mlpipeline.allocation import allocate  # noqa: E402
from mlpipeline.economics import LogNormalDemand, default_economics  # noqa: E402
from mlpipeline.simulator import Noise, Scenario, SeasonPlan, compare_scenarios  # noqa: E402

HORIZON = 12
PATHS = 2_000
TARGET_S = 1.0
UNITS_PER_STORE = 160  # 8,000 units per 50 stores
NOISE = Noise(weekly=0.10, store=0.10, cell=0.10)


def season_plan(stores: int, seed: int = 5) -> SeasonPlan:
    rng = np.random.default_rng(seed)
    chain = pd.DataFrame({
        "store_id": [f"S{i:04d}" for i in range(stores)],
        "cluster": np.array(["fashion_forward", "mainstream", "value_conscious"])[np.arange(stores) % 3],
        "historical_units": rng.uniform(200, 2_000, stores).round(),
        "store_size_sqft": rng.uniform(6_000, 15_000, stores).round(),
        "median_income": rng.uniform(35_000, 140_000, stores).round(),
    })
    total = UNITS_PER_STORE * stores
    curve = 1 + 0.4 * np.sin(np.arange(HORIZON) / 2)
    weekly = (total * curve / curve.sum()).tolist()
    return SeasonPlan.from_allocation(allocate(total, weekly, chain, safety_stock_pct=0.20, holdback_pct=0.45))


def scenarios(total: float) -> list[Scenario]:
    markdown = {"markdown_checkpoint_week": 6, "markdown_threshold": 0.60}
    return [
        Scenario("ss10", round(total * 1.10), 0.45, "weekly", **markdown),
        Scenario("ss20", round(total * 1.20), 0.45, "weekly", **markdown),
        Scenario("ss30", round(total * 1.30), 0.45, "weekly", **markdown),
        Scenario("push25", round(total * 1.25), 0.0, "none", **markdown),
    ]


def measure(stores: int, paths: int, runs: int) -> dict:
    plan = season_plan(stores)
    demand = LogNormalDemand(plan.forecast_total, 0.15)
    economics = default_economics(49.0)
    cases = scenarios(plan.forecast_total)
    seconds, comparison = [], None
    for _ in range(runs):
        started = time.perf_counter()
        comparison = compare_scenarios(plan, demand, economics, cases, paths=paths, seed=42, noise=NOISE)
        seconds.append(time.perf_counter() - started)
    return {"stores": stores, "paths": paths, "scenarios": len(cases), "seconds": seconds, "comparison": comparison}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = [measure(50, PATHS, args.runs), measure(2_000, PATHS, max(1, args.runs // 2)),
            measure(2_000, 500, args.runs)]
    print("| stores | weeks | paths | scenarios | median s | fastest s | target |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        median, best = statistics.median(row["seconds"]), min(row["seconds"])
        target = (f"<= {TARGET_S:.0f} s: {'met' if median <= TARGET_S else 'MISSED'}"
                  if row["stores"] == 50 and row["paths"] == PATHS else "-")
        print(f"| {row['stores']:,} | {HORIZON} | {row['paths']:,} | {row['scenarios']} | {median:.3f} | {best:.3f} "
              f"| {target} |")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    comparison = rows[0]["comparison"]
    print(f"\n50 stores, {PATHS:,} paths, seed 42 (recommended: {comparison.recommended}):\n")
    print("| scenario | buy | sold | sell-through | store-week stock-outs | lost | leftover | markdown cost "
          "| margin | p10 | p90 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in comparison.scenarios:
        print(f"| {r.name} | {r.manufacturing_qty:,} | {r.expected_units_sold:,.0f} | {r.expected_sell_through:.1%} "
              f"| {r.stockout_probability:.1%} | {r.expected_lost_sales:,.0f} | {r.expected_leftover_units:,.0f} "
              f"| {r.expected_markdown_cost:,.0f} | {r.expected_gross_margin:,.0f} | {r.gross_margin_p10:,.0f} "
              f"| {r.gross_margin_p90:,.0f} |")
    missed = statistics.median(rows[0]["seconds"]) > TARGET_S
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
