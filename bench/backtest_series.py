"""Forecast accuracy against the best simple anchors (SPEC §12) over many weekly series: real
(bundled public data), peer, synthetic and generated with known truth; 3 origins each, 12
weeks ahead. Prints the markdown table and a summary; exits 1 when a target is missed.

    .venv/bin/python bench/backtest_series.py [--kinds real peer ...] [--out table.md] [--csv scores.csv]
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parent.parent
PEER_DATA = REPO.parent / "shared" / "peer-data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="*", choices=["real", "peer", "synthetic", "generated"])
    parser.add_argument("--out", type=Path, help="also write the table and summary here")
    parser.add_argument("--csv", type=Path, help="also write every score as CSV here")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from mlpipeline.forecasting import preload_models
    from mlpipeline.series_backtest import (
        format_series_table, format_summary, run_series_backtest, target_failures,
    )
    from mlpipeline.series_catalog import catalog

    preload_models()
    started = time.perf_counter()
    table = run_series_backtest(catalog(PEER_DATA, tuple(args.kinds or ())))
    text = format_series_table(table) + "\n\n" + format_summary(table)
    failures = target_failures(table)
    text += "\n\n" + ("\n".join(f"TARGET MISSED: {f}" for f in failures) or "Targets met.")
    text += f"\n\n({len(table)} series in {time.perf_counter() - started:.0f} s)"
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
