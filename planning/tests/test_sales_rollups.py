"""The sales rollups (issue #17): CategoryDaySales and StoreYearSales equal a GROUP BY of the
HistoricalSale rows after an import, a re-import that replaces rows, a gzip import, ORM writes and
the data migration; the forecast and allocation inputs read them and never HistoricalSale."""
import gzip
import importlib
import io
from datetime import date, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Case, Count, IntegerField, Max, Sum, When
from django.test.utils import CaptureQueriesContext

from mlpipeline.weekly import weekly_series
from planning.errors import Invalid
from planning.models import CategoryDaySales, HistoricalSale, StoreYearSales
from planning.sales_rollups import YEAR_DAYS
from planning.selectors import economics
from planning.services import forecasting, history_import
from planning.tests.season_fixtures import *  # noqa: F401,F403  (seeded, inline_jobs, fit_memo)
from planning.tests.season_fixtures import start_season

pytestmark = pytest.mark.django_db
HEADER = "date,category,store_id,quantity_sold,revenue\n"
START = date(2023, 1, 2)


def history_text(days=400, stores=12, shift=0, first=START):
    """Two categories, one with revenue on some rows only, one without revenue."""
    lines = [HEADER]
    for d in range(days):
        day = (first + timedelta(days=d)).isoformat()
        for s in range(1, stores + 1):
            revenue = "" if (d + s) % 3 == 0 else f"{(d + s + shift) % 40 * 2.5}"
            lines.append(f"{day},Women's Dresses,S{s:03d},{(d * 7 + s + shift) % 23},{revenue}\n")
            lines.append(f"{day},Men's Shirts,S{s:03d},{(d + 3 * s + shift) % 11},\n")
    return "".join(lines)


def base_days():
    """Day totals summed from the base rows, as the rollup should hold them."""
    rows = (HistoricalSale.objects.order_by().values("category_id", "date")
            .annotate(u=Sum("units"), n=Count("id"), priced_n=Count("revenue"),
                      priced_u=Sum(Case(When(revenue__isnull=False, then="units"), default=0,
                                        output_field=IntegerField())),
                      r=Sum("revenue")))
    return {(r["category_id"], r["date"]): (r["u"], r["n"], r["priced_u"], round(r["r"] or 0.0, 6), r["priced_n"])
            for r in rows}


def rollup_days():
    return {(r.category_id, r.date): (r.units, r.store_rows, r.priced_units, round(r.revenue, 6), r.priced_rows)
            for r in CategoryDaySales.objects.all()}


def base_store_years():
    years = {}
    for category_id, last in HistoricalSale.objects.order_by().values_list("category_id").annotate(Max("date")):
        rows = (HistoricalSale.objects.filter(category_id=category_id, date__gt=last - timedelta(days=YEAR_DAYS),
                                              date__lte=last)
                .order_by().values_list("store_id").annotate(Sum("units")))
        years.update({(category_id, store_id): (last, units) for store_id, units in rows})
    return years


def rollup_store_years():
    return {(r.category_id, r.store_id): (r.window_end, r.units) for r in StoreYearSales.objects.all()}


def assert_rollups_match():
    days = base_days()
    assert days, "no history"
    assert rollup_days() == days
    assert rollup_store_years() == base_store_years()


@pytest.fixture
def stores(db):
    call_command("loaddata", "clusters", "stores", verbosity=0)


def test_import_fills_the_rollups(stores):
    history_import.import_historical_sales(io.BytesIO(history_text().encode()), filename="h.csv")
    assert_rollups_match()
    assert CategoryDaySales.objects.count() == 2 * 400
    assert StoreYearSales.objects.count() == 2 * 12


def test_reimport_that_replaces_rows_and_extends_the_history(stores):
    history_import.import_historical_sales(io.BytesIO(history_text().encode()))
    # Other units for the same keys, 30 days more, and 3 more stores on the overlapping days.
    report = history_import.import_historical_sales(
        io.BytesIO(history_text(days=430, stores=15, shift=5, first=START + timedelta(days=200)).encode()))
    assert report["rows_replaced"] > 0 and report["rows_added"] > 0
    assert_rollups_match()
    last = CategoryDaySales.objects.aggregate(Max("date"))["date__max"]
    assert last == START + timedelta(days=629)
    assert set(StoreYearSales.objects.values_list("window_end", flat=True)) == {last}


def test_reimport_of_scattered_days_between_stored_days(stores):
    history_import.import_historical_sales(io.BytesIO(history_text(days=100).encode()))
    lines = [HEADER]
    for offset, units in ((10, 1), (11, 2), (50, 3), (99, 4), (150, 5), (30, 6)):
        day = (START + timedelta(days=offset)).isoformat()
        lines += [f"{day},Women's Dresses,S002,{units},1.5\n", f"{day},Accessories,S003,{units},\n"]
    history_import.import_historical_sales(io.BytesIO("".join(lines).encode()))
    assert_rollups_match()
    assert StoreYearSales.objects.filter(category_id="womens_dresses").values_list("window_end", flat=True)[0] == (
        START + timedelta(days=150))


def test_gzip_import(stores):
    history_import.import_historical_sales(io.BytesIO(gzip.compress(history_text(days=60).encode())),
                                           filename="h.csv.gz")
    assert_rollups_match()


def test_a_failed_import_leaves_the_rollups(stores):
    history_import.import_historical_sales(io.BytesIO(history_text(days=30).encode()))
    before = rollup_days(), rollup_store_years()
    with pytest.raises(Invalid):
        history_import.import_historical_sales(io.BytesIO((history_text(days=31) + "2024-01-01,X,S999,1,\n").encode()))
    assert (rollup_days(), rollup_store_years()) == before


def test_orm_writes_keep_the_rollups(stores):
    history_import.import_historical_sales(io.BytesIO(history_text(days=40).encode()))
    HistoricalSale.objects.filter(category_id="womens_dresses", store_id="S001").update(units=99, revenue=5.0)
    assert_rollups_match()
    HistoricalSale.objects.filter(category_id="mens_shirts", date__gte=START + timedelta(days=30)).delete()
    assert_rollups_match()
    HistoricalSale.objects.bulk_create([HistoricalSale(store_id="S020", category_id="mens_shirts",
                                                       date=START + timedelta(days=45), units=4)])
    assert_rollups_match()
    sale = HistoricalSale.objects.get(store_id="S020", category_id="mens_shirts")
    sale.units = 6
    sale.save()
    assert_rollups_match()
    sale.delete()
    assert_rollups_match()
    HistoricalSale.objects.filter(category_id="mens_shirts").delete()
    assert not CategoryDaySales.objects.filter(category_id="mens_shirts").exists()
    assert not StoreYearSales.objects.filter(category_id="mens_shirts").exists()


def test_data_migration_fills_the_rollups(stores):
    history_import.import_historical_sales(io.BytesIO(history_text(days=50).encode()))
    expected = rollup_days(), rollup_store_years()
    migration = importlib.import_module("planning.migrations.0014_sales_rollups")
    schema_editor = SimpleNamespace(connection=connection)
    migration.empty(None, schema_editor)
    assert not CategoryDaySales.objects.exists() and not StoreYearSales.objects.exists()
    migration.fill(None, schema_editor)
    assert (rollup_days(), rollup_store_years()) == expected


# --- The readers give the numbers the base rows gave ------------------------------------------------


def base_daily(category_id, before):
    rows = (HistoricalSale.objects.filter(category_id=category_id, date__lt=before).values("date")
            .annotate(units=Sum("units")).order_by("date").values_list("date", "units"))
    dates, units = zip(*rows)
    return weekly_series(pd.Series(units, index=pd.DatetimeIndex(dates), dtype="float64"), before).astype("float64")


@pytest.mark.parametrize("start", [date(2024, 2, 3), date(2024, 2, 5), date(2024, 2, 8)])  # Sat, Mon, Thu
def test_weekly_history_equals_the_base_rows_for_every_start_weekday(stores, start):
    history_import.import_historical_sales(io.BytesIO(history_text().encode()))
    assert forecasting.history_weekly("womens_dresses", start).equals(base_daily("womens_dresses", start))


def test_store_units_after_and_inside_the_history(stores):
    history_import.import_historical_sales(io.BytesIO(history_text().encode()))
    for start in (date(2025, 3, 1), START + timedelta(days=390), START + timedelta(days=200)):
        last = start - timedelta(days=1) if start <= START + timedelta(days=399) else START + timedelta(days=399)
        expected = dict(HistoricalSale.objects.filter(category_id="womens_dresses", date__lte=last,
                                                      date__gt=last - timedelta(days=YEAR_DAYS))
                        .order_by().values_list("store_id").annotate(Sum("units")))
        assert forecasting.store_history_units("womens_dresses", start) == {k: float(v) for k, v in expected.items()}


def test_history_price_from_the_day_totals(stores):
    history_import.import_historical_sales(io.BytesIO(history_text().encode()))
    start = date(2025, 3, 1)
    rows = HistoricalSale.objects.filter(category_id="womens_dresses", revenue__isnull=False,
                                         date__gt=START + timedelta(days=399 - 364))
    totals = rows.aggregate(units=Sum("units"), revenue=Sum("revenue"))
    assert economics.history_unit_price("womens_dresses", start) == pytest.approx(
        totals["revenue"] / totals["units"], rel=1e-12)
    assert economics.history_unit_price("mens_shirts", start) is None


def sales_queries(captured):
    return [q["sql"] for q in captured.captured_queries if HistoricalSale._meta.db_table in q["sql"]]


def test_the_pre_season_run_never_reads_historical_sales(seeded, planner, inline_jobs, fit_memo):
    with CaptureQueriesContext(connection) as captured:
        season = start_season(planner)
    season.refresh_from_db()
    assert season.pending_approval == "approve_manufacturing_order", season.current_run.error
    assert sales_queries(captured) == []
    with CaptureQueriesContext(connection) as captured:
        forecasting.store_rows("womens_dresses", "2025-03-01")
        forecasting.history_weekly("womens_dresses", "2025-03-01")
        economics.history_unit_price("womens_dresses", "2025-03-01")
    assert sales_queries(captured) == []
