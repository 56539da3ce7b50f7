"""The in-season re-forecast backtest (issue #14): the product against the unchanged plan and the
ratio rule on the peer scenarios, synthetic known-truth scenarios and past seasons; the table and
the done-criteria. What it measures: mlpipeline.inseason_backtest. The same table:
``manage.py inseason_backtest``.

    .venv/bin/python bench/inseason.py [--sets peer,synthetic,rolling] [--detail]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PEER = REPO.parent / "shared" / "peer-data"

from mlpipeline import inseason_backtest  # noqa: E402
from mlpipeline.forecasting import quiet_fits  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="peer,synthetic,rolling")
    parser.add_argument("--detail", action="store_true", help="print every season, not per kind")
    args = parser.parse_args()
    started = time.perf_counter()
    if not PEER.is_dir():
        print(f"peer data not found at {PEER}: peer seasons skipped")
    with quiet_fits():
        rows = inseason_backtest.run(args.sets.split(","), PEER if PEER.is_dir() else None)
    if args.detail:
        for row in rows:
            row["kind"] = row["name"]
    print("\n".join(inseason_backtest.report(rows)))
    print(f"\n{len(rows)} seasons in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
