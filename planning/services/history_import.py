"""Import of historical sales (``date, category, store_id, quantity_sold[, revenue]``): checked
in full, then written in one transaction; rows already stored for a (store, category, date) are
replaced (SPEC §5). The same transaction keeps the sales rollups (history_rollups: the day
totals of the (category, date) pairs the file touched, and each touched category's store years);
the touched categories' rows are locked first, so two imports of one category run one after the
other (on PostgreSQL; SQLite has one writer anyway)."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import F

from mlpipeline.data import category_slug
from planning.errors import Invalid
from planning.models import Category, DataUpload, HistoricalSale, Store
from planning.services import data_quality, history_rollups
from planning.services.csv_files import (
    RowErrors,
    check_columns,
    check_units,
    csv_chunks,
    day_number,
    distinct_values,
    iso_day,
    opened_csv,
    read_header,
    record_upload,
    report_missing,
    whole_number,
)

HISTORY_COLUMNS = ("date", "category", "store_id", "quantity_sold")


# --- Historical sales ------------------------------------------------------------------------


class _CategoryNames:
    """Category ids for the names in a file: an existing category with the same slug or the
    same name (any case), otherwise a new category whose id is the slug of the name."""

    def __init__(self):
        existing = list(Category.objects.values_list("id", "name"))
        self._ids = {category_id for category_id, _ in existing}
        self._by_name = {name.casefold(): category_id for category_id, name in existing}
        self.ids: list[str] = []  # code -> category id
        self.new: dict[str, str] = {}  # id -> name, for categories the import creates
        self._codes: dict[str, int] = {}

    def code(self, name):
        slug = category_slug(name)
        if (not slug or len(slug) > Category._meta.get_field("id").max_length
                or len(name) > Category._meta.get_field("name").max_length):
            return None
        category_id = slug if slug in self._ids else self._by_name.get(name.casefold())
        if category_id is None:
            category_id = slug
            self.new.setdefault(slug, name)
        if category_id not in self._codes:
            self._codes[category_id] = len(self.ids)
            self.ids.append(category_id)
        return self._codes[category_id]


def import_historical_sales(source, *, filename="", user=None) -> dict:
    """Validate and import a historical sales CSV (``date, category, store_id, quantity_sold
    [, revenue]``). Rows for a (store, category, date) already stored replace it. Creates
    categories named in the file, bumps ``data_version`` of every category it touched and records
    a DataUpload. Returns the report (rows, categories, date range, stores, data quality)."""
    started = time.perf_counter()
    sales = _validated_sales(source)
    quality = data_quality.upload_quality(
        category_ids=sales["category_ids"],
        category=sales["category"],
        store=sales["store"],
        day=sales["day"],
        units=sales["units"],
    )
    with transaction.atomic():
        Category.objects.bulk_create(
            [Category(id=cid, name=name) for cid, name in sales["new_categories"].items()],
            ignore_conflicts=True,  # another upload may have created it meanwhile
        )
        touched = sales["category_ids"]
        list(Category.objects.select_for_update().filter(id__in=touched).order_by("id").values_list("id"))
        stored_days = history_rollups.stored_days(touched)
        before = HistoricalSale.objects.count()
        _write_sales(sales, stored_days)
        added = HistoricalSale.objects.count() - before
        Category.objects.filter(id__in=touched).update(data_version=F("data_version") + 1)
        stored = {
            cid: (name, version)
            for cid, name, version in Category.objects.filter(id__in=touched).values_list(
                "id", "name", "data_version"
            )
        }
        rows = int(sales["units"].size)
        rows_by_category = np.bincount(sales["category"], minlength=len(touched))
        report = {
            "kind": DataUpload.Kind.HISTORICAL_SALES.value,
            "filename": filename,
            "rows_imported": rows,
            "rows_added": added,
            "rows_replaced": rows - added,
            "categories_detected": [
                {
                    "category_id": cid,
                    "category_name": stored[cid][0],
                    "row_count": int(rows_by_category[code]),
                    "created": cid in sales["new_categories"],
                    "data_version": stored[cid][1],
                }
                for code, cid in enumerate(touched)
            ],
            "date_range": {
                "start": iso_day(sales["day"].min()),
                "end": iso_day(sales["day"].max()),
            },
            "stores": int(np.unique(sales["store"]).size),
            "data_quality": quality,
        }
        report["upload_id"] = record_upload(
            DataUpload.Kind.HISTORICAL_SALES, filename, rows, report, user
        )
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


def _validated_sales(source) -> dict:
    """Read and check every row; returns compact arrays (store and category codes, day ordinals,
    units, revenue) or raises Invalid listing the problems."""
    store_ids = sorted(Store.objects.values_list("store_id", flat=True))
    store_codes = {store_id: code for code, store_id in enumerate(store_ids)}
    categories = _CategoryNames()
    errors = RowErrors()
    parts = []
    with opened_csv(source) as handle:
        header = read_header(handle)
        check_columns(header, HISTORY_COLUMNS, ("revenue",))
        columns = (*HISTORY_COLUMNS, "revenue")
        for frame, rows in csv_chunks(handle, header, columns):
            parts.append(_validated_chunk(frame, rows, errors, store_codes, categories))
    if not parts or sum(part["rows"].size for part in parts) == 0:
        raise Invalid("The file has a header but no data rows.")
    sales = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    _check_duplicate_days(sales, errors, len(categories.ids))
    errors.raise_if_any()
    sales["store_ids"] = np.array(store_ids, dtype=object)
    sales["category_ids"] = categories.ids
    sales["new_categories"] = dict(categories.new)
    return sales


def _validated_chunk(frame, rows, errors, store_codes, categories) -> dict:
    store, store_missing, store_unknown = distinct_values(
        frame["store_id"], store_codes.get, -1, np.int32
    )
    category, cat_missing, cat_invalid = distinct_values(frame["category"], categories.code, -1, np.int32)
    day, day_missing, day_invalid = distinct_values(frame["date"], day_number, 0, np.int32)
    units, units_missing, units_invalid = distinct_values(
        frame["quantity_sold"], whole_number, 0, np.int64
    )
    for column, missing, expected in (
        ("date", day_missing, "a date YYYY-MM-DD"),
        ("category", cat_missing, "a category name"),
        ("store_id", store_missing, "a store id"),
        ("quantity_sold", units_missing, "a whole number >= 0"),
    ):
        report_missing(errors, missing, rows, frame[column], column, expected)
    errors.add_masked(day_invalid, rows, frame["date"], "date", "a date YYYY-MM-DD",
                      "{got} is not a valid date in the form YYYY-MM-DD.")
    errors.add_masked(cat_invalid, rows, frame["category"], "category",
                      "a name with letters or digits, at most 120 characters",
                      "Category {got} is not a usable name.")
    errors.add_masked(store_unknown, rows, frame["store_id"], "store_id", "a known store id",
                      "Unknown store {got}: import the store attributes first.")
    errors.add_masked(units_invalid, rows, frame["quantity_sold"], "quantity_sold",
                      "a whole number >= 0", "Quantity {got} is not a whole number.")
    units_usable = ~(units_missing | units_invalid)
    check_units(errors, rows, frame["quantity_sold"], units, units_usable, "quantity_sold")

    if "revenue" in frame:
        revenue = _revenue(frame["revenue"], rows, errors)
    else:
        revenue = np.full(len(frame), np.nan)
    valid_key = ~(store_missing | store_unknown | cat_missing | cat_invalid | day_missing
                  | day_invalid)
    return {
        "rows": rows,
        "store": store,
        "category": category,
        "day": day,
        "units": units,
        "revenue": revenue,
        "key_valid": valid_key,
    }


def _revenue(raw: pd.Series, rows, errors):
    """Optional revenue: a finite number >= 0, or empty (stored as null)."""
    revenue = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, copy=True)
    empty = (raw == "").to_numpy(copy=True)
    suspect = np.isnan(revenue) & ~empty
    if suspect.any():
        empty[suspect] = (raw[suspect].str.strip() == "").to_numpy()
        suspect &= ~empty
    bad = suspect | np.isinf(revenue) | (revenue < 0)
    errors.add_masked(bad, rows, raw, "revenue", "a number >= 0 or empty",
                      "Revenue {got} is not a number >= 0.")
    revenue[empty | bad] = np.nan
    return revenue


def _check_duplicate_days(sales, errors, n_categories):
    """Two rows for the same (store, category, date) in one file: the second and later ones are
    errors naming the first."""
    usable = sales.pop("key_valid")
    if not usable.any():
        return
    day = sales["day"].astype(np.int64)
    span = int(day[usable].max() - day[usable].min()) + 1
    key = (sales["store"].astype(np.int64) * max(n_categories, 1) + sales["category"]) * span + (
        day - day[usable].min()
    )
    key = np.where(usable, key, -1 - np.arange(key.size))  # unusable rows never collide
    keys = pd.Series(key)
    duplicate = keys.duplicated(keep="first").to_numpy()
    if not duplicate.any():
        return
    first_row = pd.Series(sales["rows"][~duplicate], index=key[~duplicate])
    firsts = first_row.loc[key[duplicate]].to_numpy()
    errors.add(
        sales["rows"][duplicate].tolist(),
        "store_id, category, date",
        "one row per store, category and date",
        [f"same as row {first}" for first in firsts],
        "Duplicate row: {got}.",
    )


def _write_sales(sales, before):
    """Upsert through a staging table: one INSERT .. SELECT .. ON CONFLICT DO UPDATE statement is
    several times faster on SQLite than a row-by-row upsert, and it is the same SQL on PostgreSQL
    (where COPY fills the staging table, since one INSERT per row costs a round trip).
    Rows go in (category, date, store) order, so both indexes of the table grow at a few points
    instead of at random. Then the rollups of what was written (history_rollups), ``before``
    being the touched categories' stored days before the write."""
    meta = HistoricalSale._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    store, category, day, units, revenue = (
        quote(meta.get_field(name).column)
        for name in ("store", "category", "date", "units", "revenue")
    )
    columns = f"{store}, {category}, {day}, {units}, {revenue}"
    staging = quote("planning_sales_staging")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ({store} text, {category} text, {day} date, "
            f"{units} integer, {revenue} double precision)"
        )
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
                for row in _sale_rows(sales):
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {staging} ({columns}) VALUES (%s, %s, %s, %s, %s)", _sale_rows(sales)
            )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} WHERE true "
            f"ON CONFLICT ({store}, {category}, {day}) DO UPDATE SET "
            f"{units} = excluded.{units}, {revenue} = excluded.{revenue}"
        )
        cursor.execute(f"DROP TABLE {staging}")
        history_rollups.refresh_after_import(cursor, sales, before)


def _sale_rows(sales, batch=100_000):
    order = np.lexsort((sales["store"], sales["day"], sales["category"]))
    days, day_index = np.unique(sales["day"], return_inverse=True)
    day_text = np.array([iso_day(d) for d in days], dtype=object)
    category_ids = np.array(sales["category_ids"], dtype=object)
    for start in range(0, order.size, batch):
        part = order[start : start + batch]
        revenue = sales["revenue"][part].astype(object)
        revenue[np.isnan(sales["revenue"][part])] = None
        yield from zip(
            sales["store_ids"][sales["store"][part]].tolist(),
            category_ids[sales["category"][part]].tolist(),
            day_text[day_index[part]].tolist(),
            sales["units"][part].tolist(),
            revenue.tolist(),
        )


