"""Plain loader of historical sales CSVs for backtests and benchmarks.

The web upload has its own validating importer (row-level errors, store checks); this one only
needs to be fast and to accept the files we are given as they are.
"""
import pandas as pd

from .data import DAILY_COLUMNS, category_slug

REQUIRED_COLUMNS = ("date", "category", "store_id", "quantity_sold")
_DTYPES = {"category": "str", "store_id": "str", "quantity_sold": "int64", "revenue": "float64"}


def read_sales_csv(path_or_file) -> pd.DataFrame:
    """Read ``date, category, store_id, quantity_sold[, revenue]`` (any order, extra columns
    ignored, UTF-8 BOM tolerated) into a daily sales frame (see ``mlpipeline.data``).

    ``category`` becomes the slug ("Women's Dresses" -> "womens_dresses"); the name as written
    is kept in ``category_name`` so reports can show it.
    """
    frame = pd.read_csv(
        path_or_file,
        usecols=lambda column: column in _DTYPES or column == "date",
        dtype=_DTYPES,
        encoding="utf-8-sig",
        engine="c",
    )
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"sales CSV is missing columns: {', '.join(missing)}")
    if (frame["quantity_sold"] < 0).any():
        raise ValueError("sales CSV has negative quantity_sold")
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    if "revenue" not in frame.columns:
        frame["revenue"] = float("nan")
    frame["category_name"] = frame["category"]
    slugs = {name: category_slug(name) for name in frame["category"].unique()}
    frame["category"] = frame["category"].map(slugs)
    return frame[DAILY_COLUMNS + ["category_name"]]
