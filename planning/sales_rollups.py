"""Set-based SQL that keeps the sales rollups (``CategoryDaySales``, ``StoreYearSales``) equal to
the HistoricalSale rows they sum, on SQLite and PostgreSQL alike (plain INSERT .. SELECT .. GROUP BY
and ON CONFLICT; dates computed here, not in SQL).

Three entry points, each run inside the caller's transaction:

- ``refresh_day_range(cursor, category_id, first, last)``: the day totals of one category's days
  from ``first`` to ``last``, summed again from the base rows (the history import, for days that
  had rows before it: planning.services.history_rollups). An import only adds or replaces rows, so
  every such day has rows afterwards and an upsert is enough.
- ``refresh_store_years(cursor, category_ids)``: each store's units of the 52 weeks (364 days)
  that end on the category's last day of history, from the base rows of that window.
- ``refresh_categories(category_ids)``: whole categories (ORM writes to HistoricalSale, tests,
  the admin): day totals deleted and summed again, then the store years.

No Django model is imported here (``planning.models`` calls this module); the table names are the
models' ``db_table``s.
"""
from datetime import date, timedelta

from django.db import connection

SALES = "planning_historicalsale"
DAYS = "planning_categorydaysales"
YEARS = "planning_storeyearsales"
YEAR_DAYS = 364  # forecasting.CLUSTER_SHARE_DAYS: cluster shares and store factors use 52 weeks

DAY_COLUMNS = "category_id, date, units, store_rows, priced_units, revenue, priced_rows"
_DAY_TOTALS = ("h.category_id, h.date, SUM(h.units), COUNT(*), "
               "SUM(CASE WHEN h.revenue IS NULL THEN 0 ELSE h.units END), COALESCE(SUM(h.revenue), 0), "
               "COUNT(h.revenue)")
_DAY_UPDATE = ", ".join(f"{c} = excluded.{c}" for c in ("units", "store_rows", "priced_units", "revenue",
                                                         "priced_rows"))


def _placeholders(values):
    return ", ".join(["%s"] * len(values))


def refresh_day_range(cursor, category_id, first, last):
    """Sum the day totals of ``category_id`` from ``first`` to ``last`` (dates) again."""
    cursor.execute(
        f"INSERT INTO {DAYS} ({DAY_COLUMNS}) SELECT {_DAY_TOTALS} FROM {SALES} h "
        f"WHERE h.category_id = %s AND h.date >= %s AND h.date <= %s "
        f"GROUP BY h.category_id, h.date ON CONFLICT (category_id, date) DO UPDATE SET {_DAY_UPDATE}",
        [category_id, first, last],
    )


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def refresh_store_years(cursor, category_ids):
    """Each store's units over the 364 days ending on its category's last day of history."""
    category_ids = sorted(set(category_ids))
    if not category_ids:
        return
    marks = _placeholders(category_ids)
    cursor.execute(f"DELETE FROM {YEARS} WHERE category_id IN ({marks})", category_ids)
    cursor.execute(f"SELECT category_id, MAX(date) FROM {DAYS} WHERE category_id IN ({marks}) "
                   f"GROUP BY category_id", category_ids)
    for category_id, last in cursor.fetchall():
        last = _as_date(last)
        cursor.execute(
            f"INSERT INTO {YEARS} (category_id, store_id, window_end, units) "
            f"SELECT category_id, store_id, %s, SUM(units) FROM {SALES} "
            f"WHERE category_id = %s AND date >= %s AND date <= %s GROUP BY category_id, store_id",
            [last, category_id, last - timedelta(days=YEAR_DAYS - 1), last],
        )


def refresh_categories(category_ids):
    """Both rollups of whole categories, summed again from their base rows."""
    category_ids = sorted(set(category_ids))
    if not category_ids:
        return
    marks = _placeholders(category_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DAYS} WHERE category_id IN ({marks})", category_ids)
        cursor.execute(
            f"INSERT INTO {DAYS} ({DAY_COLUMNS}) SELECT {_DAY_TOTALS} FROM {SALES} h "
            f"WHERE h.category_id IN ({marks}) GROUP BY h.category_id, h.date", category_ids)
        refresh_store_years(cursor, category_ids)


def all_categories():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM planning_category")
        return [row[0] for row in cursor.fetchall()]
