"""The history import's part of the sales rollups (planning.sales_rollups), inside its transaction.

The file's rows are in memory as arrays, so the import knows every (category, day) it touched:

- a day the category had no rows for before this import holds only the file's rows now: its totals
  are summed from the arrays (np.bincount) and inserted, without reading the table back;
- a day that had rows (other stores, or rows this file replaced) is summed again from the stored
  rows, one range statement per run of such days (the category's stored days in order, split
  where a stored day the file did not touch lies between), so a re-import of a whole history is a
  few range scans of the (category, date) index, not one probe per row;
- then each touched category's store years (its last day may have moved).

Which days a category had is read before the upsert, under the import's lock on the touched
categories' rows (history_import), so no other import changes them meanwhile.
"""
from datetime import date

import numpy as np
from django.db import connection

from planning import sales_rollups
from planning.models import CategoryDaySales


def stored_days(category_ids) -> dict[str, np.ndarray]:
    """Each category's days with rows (day ordinals, ascending), from its day totals."""
    days: dict[str, list[int]] = {}
    for category_id, day in (CategoryDaySales.objects.filter(category_id__in=category_ids)
                             .order_by("category_id", "date").values_list("category_id", "date")):
        days.setdefault(category_id, []).append(day.toordinal())
    return {category_id: np.array(values, dtype=np.int64) for category_id, values in days.items()}


def refresh_after_import(cursor, sales, before: dict[str, np.ndarray]):
    """Bring both rollups up to date with the rows ``sales`` (the import's arrays) just wrote;
    ``before``: ``stored_days`` of the touched categories, read before the write."""
    day = sales["day"].astype(np.int64)
    first = int(day.min())
    span = int(day.max()) - first + 1
    pairs, inverse = np.unique(sales["category"].astype(np.int64) * span + (day - first), return_inverse=True)
    pair_category, pair_day = pairs // span, pairs % span + first
    priced = ~np.isnan(sales["revenue"])
    totals = (
        np.bincount(inverse, weights=sales["units"]),
        np.bincount(inverse),
        np.bincount(inverse, weights=np.where(priced, sales["units"], 0)),
        np.bincount(inverse, weights=np.where(priced, sales["revenue"], 0.0)),
        np.bincount(inverse, weights=priced),
    )
    new_rows, ranges = [], []
    for code, category_id in enumerate(sales["category_ids"]):
        mine = np.flatnonzero(pair_category == code)
        had = before.get(category_id, np.empty(0, dtype=np.int64))
        existed = np.isin(pair_day[mine], had)
        for i in mine[~existed].tolist():
            new_rows.append((category_id, date.fromordinal(int(pair_day[i])), int(totals[0][i]), int(totals[1][i]),
                             int(totals[2][i]), float(totals[3][i]), int(totals[4][i])))
        ranges += [(category_id, start, end) for start, end in _runs(had, np.isin(had, pair_day[mine[existed]]))]
    _insert_days(cursor, new_rows)
    for category_id, start, end in ranges:
        sales_rollups.refresh_day_range(cursor, category_id, start, end)
    sales_rollups.refresh_store_years(cursor, sales["category_ids"])


def _runs(days, touched):
    """(first, last) dates of each run of consecutive True in ``touched`` over the sorted ``days``."""
    if not touched.any():
        return []
    edges = np.diff(np.concatenate(([0], touched.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(date.fromordinal(int(days[s])), date.fromordinal(int(days[e]))) for s, e in zip(starts, ends)]


def _insert_days(cursor, rows):
    if not rows:
        return
    columns = sales_rollups.DAY_COLUMNS
    if connection.vendor == "postgresql":
        with cursor.copy(f"COPY {sales_rollups.DAYS} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(f"INSERT INTO {sales_rollups.DAYS} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
