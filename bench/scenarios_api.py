"""Benchmark of POST /api/scenarios/compare end to end (SPEC §12: 4 scenarios x 2,000 simulated
seasons x 50 stores x 12 weeks in <= 1 s; the simulator alone: bench/simulator.py).

On a throwaway SQLite database (bench/pages.throwaway_django): the demo stores, clusters and
categories and the synthetic history (which carries revenue, so the price defaults from it), one
12-week Women's Dresses season run to the manufacturing approval. Then the planner's Django test
client posts the comparison --repeat times (after two warm-up posts): four buys (safety stock
10 / 20 / 30% and an explicit 2x buy without replenishment), each with the season's markdown
checkpoint, 2,000 paths, seed 0. Each answer is checked (201, 4 scenarios, the same numbers every
time). The time is the request's wall time: reading the plan and the demand's width from the
history, the simulation, saving the comparison, the JSON answer. Prints median, p95 and max; one
BLAS thread, as the other bench scripts.

    .venv/bin/python bench/scenarios_api.py [--repeat 30]
"""
import argparse
import os
import shutil
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ["RATE_LIMIT_PER_MINUTE"] = "1000000"  # time the comparison, not the rate limit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pages import season_at_the_order, throwaway_django  # noqa: E402  (the shared bench setup)

TARGET_S = 1.0
PATHS = 2_000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    folder = throwaway_django("bench-scenarios-")
    try:
        run(args.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(repeat):
    from django.test import Client

    planner, season = season_at_the_order()
    double = 2 * int(season.allocation.forecast.total_units)
    body = {"workflow_id": str(season.pk), "paths": PATHS, "seed": 0, "scenarios": [
        {"name": "lean 10%", "safety_stock_pct": 0.10}, {"name": "proposed 20%", "safety_stock_pct": 0.20},
        {"name": "deep 30%", "safety_stock_pct": 0.30},
        {"name": "2x, no replenishment", "manufacturing_qty": double, "replenishment_strategy": "none",
         "dc_holdback_percentage": 0.0}]}
    client = Client()
    client.force_login(planner)
    first = None
    times = []
    for attempt in range(repeat + 2):
        started = time.perf_counter()
        response = client.post("/api/scenarios/compare", data=body, content_type="application/json")
        elapsed = time.perf_counter() - started
        answer = response.json()
        if response.status_code != 201 or len(answer["scenarios"]) != 4:
            raise SystemExit(f"POST /api/scenarios/compare: {response.status_code} {answer}")
        if first is None:
            first = answer["scenarios"]
        elif answer["scenarios"] != first:
            raise SystemExit("the same seed gave other numbers")
        if attempt >= 2:
            times.append(elapsed)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"POST /api/scenarios/compare, 4 scenarios x {PATHS:,} paths x 50 stores x 12 weeks, "
          f"{len(times)} requests: median {statistics.median(times):.3f} s, p95 {p95:.3f} s, max {times[-1]:.3f} s "
          f"(target {TARGET_S:.0f} s) -> {'ok' if p95 <= TARGET_S else 'OVER'}")
    for result in first:
        print(f"  {result['name']:<22} buy {result['manufacturing_qty']:>7,}  margin {result['expected_gross_margin']:>13,.0f}"
              f"  (p10 {result['gross_margin_p10']:,.0f}, p90 {result['gross_margin_p90']:,.0f})"
              f"  leftover {result['expected_leftover_units']:>9,.0f}  rank {result['rank']}")
    print(f"  recommended: {answer['recommended']}")


if __name__ == "__main__":
    main()
