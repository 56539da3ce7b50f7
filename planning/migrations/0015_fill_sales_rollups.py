"""Fill the sales rollups (0014) from the stored history: each category's day totals, then each
store's units over the 364 days ending on the category's last day. The SQL is a frozen copy of
planning.sales_rollups (a migration must not change when that module does)."""
from datetime import date, timedelta

from django.db import migrations

YEAR_DAYS = 364


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM planning_storeyearsales")
        cursor.execute("DELETE FROM planning_categorydaysales")
        cursor.execute(
            "INSERT INTO planning_categorydaysales "
            "(category_id, date, units, store_rows, priced_units, revenue, priced_rows) "
            "SELECT category_id, date, SUM(units), COUNT(*), "
            "SUM(CASE WHEN revenue IS NULL THEN 0 ELSE units END), COALESCE(SUM(revenue), 0), COUNT(revenue) "
            "FROM planning_historicalsale GROUP BY category_id, date")
        cursor.execute("SELECT category_id, MAX(date) FROM planning_categorydaysales GROUP BY category_id")
        for category_id, last in cursor.fetchall():
            last = _as_date(last)
            cursor.execute(
                "INSERT INTO planning_storeyearsales (category_id, store_id, window_end, units) "
                "SELECT category_id, store_id, %s, SUM(units) FROM planning_historicalsale "
                "WHERE category_id = %s AND date >= %s AND date <= %s GROUP BY category_id, store_id",
                [last, category_id, last - timedelta(days=YEAR_DAYS - 1), last])


def empty(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM planning_storeyearsales")
        cursor.execute("DELETE FROM planning_categorydaysales")


class Migration(migrations.Migration):

    dependencies = [
        ("planning", "0014_sales_rollups"),
    ]

    operations = [migrations.RunPython(fill, empty)]
