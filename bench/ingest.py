"""Benchmark of the historical sales import (SPEC §12): >= 100,000 rows/s end to end on SQLite,
1,000,000 rows in <= 20 s with peak memory <= 1 GB, the peer history (164,400 rows) in < 3 s.

Each case runs in its own process against a fresh throwaway SQLite database (migrated, stores
imported), so the reported peak memory (ru_maxrss) is that of a process doing one import, Django
and pandas included. The second import of the same file measures the replace path.

    .venv/bin/python bench/ingest.py [--rows 1000000]
"""
import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEER_DATA = REPO.parent / "shared" / "peer-data"
CATEGORIES = ["Women's Dresses", "Men's Shirts", "Accessories"]
N_STORES = 50


def write_history(path: Path, rows: int) -> int:
    """Daily rows for 50 stores x 3 categories from 2000-01-01, enough days for ``rows``."""
    import numpy as np

    rng = np.random.default_rng(7)
    days = -(-rows // (N_STORES * len(CATEGORIES)))
    dates = np.datetime_as_string(np.datetime64("2000-01-01") + np.arange(days))
    pairs = [(f"S{s:03d}", c) for s in range(1, N_STORES + 1) for c in CATEGORIES]
    with open(path, "w") as out:
        out.write("date,category,store_id,quantity_sold,revenue\n")
        for day in dates:
            units = rng.integers(0, 80, len(pairs))
            revenue = units * rng.uniform(20, 60, len(pairs))
            out.write("".join(f"{day},{c},{s},{u},{r:.2f}\n"
                              for (s, c), u, r in zip(pairs, units, revenue)))
    return days * len(pairs)


def write_stores(path: Path):
    from mlpipeline.synthetic import generate_stores, write_stores_csv

    write_stores_csv(path, generate_stores(N_STORES))


def run_case(folder: Path, name: str, stores_csv: Path, history_csv: Path) -> dict:
    """Import in a child process (fresh database, own memory accounting); returns its timings."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / (name + '.sqlite3')}",
           "VAR_DIR": str(folder), "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(32)}
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(stores_csv), str(history_csv)],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"{name} failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def child(stores_csv: str, history_csv: str):
    import resource
    import time

    import django

    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forecast_site.settings")
    django.setup()
    from django.core.management import call_command

    from planning.services import history_import, store_import

    call_command("migrate", verbosity=0, skip_checks=True)
    store_import.import_stores(stores_csv)
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        report = history_import.import_historical_sales(history_csv)
        timings.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": report["rows_imported"], "first": timings[0], "again": timings[1],
                      "replaced": report["rows_replaced"], "peak_mb": peak_mb}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("STORES", "HISTORY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        stores_csv, history_csv = folder / "stores.csv", folder / "history.csv"
        write_stores(stores_csv)
        rows = write_history(history_csv, args.rows)
        size_mb = history_csv.stat().st_size / 1e6
        print(f"Generated {rows:,} rows ({size_mb:.1f} MB) for {N_STORES} stores x "
              f"{len(CATEGORIES)} categories.\n")
        cases = [(f"generated {rows:,} rows", run_case(folder, "generated", stores_csv,
                                                        history_csv), 20.0)]
        if PEER_DATA.is_dir():
            peer = run_case(folder, "peer", PEER_DATA / "store_attributes.csv",
                            PEER_DATA / "historical_sales_2022_2024.csv")
            cases.append(("peer history", peer, 3.0))

    print("| import | rows | first import s | rows/s | re-import (replace) s | rows/s | "
          "peak RSS MB | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, result, limit in cases:
        n = result["rows"]
        print(f"| {name} | {n:,} | {result['first']:.2f} | {n / result['first']:,.0f} | "
              f"{result['again']:.2f} | {n / result['again']:,.0f} | {result['peak_mb']:,.0f} | "
              f"<= {limit:g} s, >= 100,000 rows/s, <= 1,024 MB |")


if __name__ == "__main__":
    main()
