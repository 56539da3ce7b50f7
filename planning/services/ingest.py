"""CSV imports of SPEC §5: historical sales, store attributes and a season week's actuals.

Every importer validates the whole file before it writes anything. A problem is reported as
``{"row", "column", "expected", "got", "message"}``, where the header is row 1 and the first data
row is row 2; at most MAX_REPORTED_ERRORS are listed (the first by row) and ``detail`` gives the
total. Column names match case-insensitively after trimming, in any order; columns we do not use
are ignored, a UTF-8 byte-order mark is tolerated, and rows that are empty in every column we read
(blank lines) are skipped.

``source`` is a path or a binary file object (a Django upload); it is read in chunks, so a large
history never sits in memory as text more than one chunk at a time.
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import re
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import F

from mlpipeline.data import (
    FASHION_TIERS,
    LOCATION_TIERS,
    REGIONS,
    STORE_FORMATS,
    category_slug,
    normalise_enum,
)
from planning.errors import Invalid, UnsupportedMediaType
from planning.models import (
    Allocation,
    Category,
    DataUpload,
    HistoricalSale,
    Store,
    StoreAllocation,
    Workflow,
)
from planning.services import clusters, data_quality

MAX_REPORTED_ERRORS = 100
CHUNK_ROWS = 200_000
MAX_UNITS = 2_147_483_647  # the largest value an integer column holds on every database
_SNIFF_BYTES = 64 * 1024
_FIRST_DATA_ROW = 2
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STORE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_STORE_NAME_LENGTH = Store._meta.get_field("name").max_length

HISTORY_COLUMNS = ("date", "category", "store_id", "quantity_sold")
STORE_NUMBER_COLUMNS = ("store_size_sqft", "median_income", "avg_weekly_sales_12mo")
STORE_ENUM_COLUMNS = {
    "location_tier": LOCATION_TIERS,
    "fashion_tier": FASHION_TIERS,
    "store_format": STORE_FORMATS,
    "region": REGIONS,
}
STORE_COLUMNS = ("store_id", *STORE_NUMBER_COLUMNS, *STORE_ENUM_COLUMNS)
WEEKLY_TOTAL_COLUMNS = ("store_id", "units_sold")
WEEKLY_DAILY_COLUMNS = ("date", "store_id", "quantity_sold")


class RowErrors:
    """Row-level problems of one file: counts them all, keeps the first MAX_REPORTED_ERRORS."""

    def __init__(self):
        self.count = 0
        self._kept = []

    def add(self, rows, column, expected, got, message):
        """Record one problem for each of ``rows`` (``got`` holds the values found, aligned with
        ``rows``); ``message`` may use ``{got}``."""
        rows = list(rows)
        if not rows:
            return
        self.count += len(rows)
        for row, value in zip(rows[:MAX_REPORTED_ERRORS], list(got)[:MAX_REPORTED_ERRORS]):
            shown = _shown(value)
            self._kept.append(
                {
                    "row": row,
                    "column": column,
                    "expected": expected,
                    "got": shown,
                    "message": message.format(got=shown),
                }
            )

    def add_masked(self, mask, rows, values, column, expected, message):
        """``add`` for the rows of a chunk where ``mask`` is true."""
        if mask.any():
            self.add(rows[mask].tolist(), column, expected, np.asarray(values)[mask], message)

    def raise_if_any(self):
        if not self.count:
            return
        shown = sorted(self._kept, key=lambda e: (e["row"] is None, e["row"] or 0))
        shown = shown[:MAX_REPORTED_ERRORS]
        more = f"; the first {len(shown)} are listed" if self.count > len(shown) else ""
        noun = "problem" if self.count == 1 else "problems"
        raise Invalid(f"{self.count:,} {noun} found{more}. Nothing was imported.", shown)


def _shown(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- Reading ---------------------------------------------------------------------------------


@contextmanager
def _opened(source):
    """A binary file object at its start, for a path or an already open file (a Django upload)."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            yield handle
    else:
        source.seek(0)
        yield source


def _header(handle) -> list[str]:
    """The header's column names, trimmed and lower-cased. Refuses binary data (415), other
    encodings and empty files (422) from the first bytes, before pandas sees the file."""
    head = handle.read(_SNIFF_BYTES)
    handle.seek(0)
    if not head.strip():
        raise Invalid("The file is empty: expected a header row and at least one data row.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Invalid("The file is UTF-16 text; save it as UTF-8 CSV ('CSV UTF-8' in Excel).")
    if b"\x00" in head:
        raise UnsupportedMediaType(
            "This is not a CSV file (it contains binary data, e.g. an Excel workbook). "
            "Upload comma-separated UTF-8 text."
        )
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(head, final=len(head) < _SNIFF_BYTES)
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc) from None
    names = next(csv.reader(io.StringIO(text)), [])
    return [name.strip().lower() for name in names]


def _not_utf8(exc):
    return Invalid(
        f"The file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}). "
        "Save it as UTF-8 CSV ('CSV UTF-8' in Excel)."
    )


def _check_columns(header, required, optional=()):
    """Raise 422 (row 1 errors) unless every required column is present exactly once."""
    errors = RowErrors()
    wanted = (*required, *optional)
    for name in wanted:
        if header.count(name) > 1:
            errors.add([1], name, "the column once", [f"{header.count(name)} times"],
                       f"Column '{name}' appears more than once.")
    missing = [name for name in required if name not in header]
    for name in missing:
        hint = " The file seems to use ';' between values; use commas." if any(
            ";" in column for column in header) else ""
        errors.add([1], name, "a column named " + name, [", ".join(header)],
                   f"Missing column '{name}'.{hint}")
    errors.raise_if_any()


def _chunks(handle, header, columns) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Yield (frame of ``columns`` as text, row numbers) per CHUNK_ROWS rows; blank rows are
    dropped. Every column is read, so that a row with more values than the header is an error
    instead of silently shifting or dropping values."""
    names = [name if name in columns else f"_ignored_{i}" for i, name in enumerate(header)]
    present = [name for name in columns if name in header]
    try:
        with warnings.catch_warnings():
            # pandas only warns when the first data row is longer than the header.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            reader = pd.read_csv(
                handle,
                header=0,
                names=names,
                index_col=False,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                encoding="utf-8-sig",
                chunksize=CHUNK_ROWS,
                engine="c",
            )
            for frame in reader:
                frame = frame[present]
                blank = np.ones(len(frame), dtype=bool)
                for name in present:
                    blank &= (frame[name] == "").to_numpy()
                rows = frame.index.to_numpy() + _FIRST_DATA_ROW
                if blank.any():
                    frame, rows = frame[~blank], rows[~blank]
                yield frame, rows
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc) from None
    except pd.errors.ParserWarning:
        raise _too_many_values(_FIRST_DATA_ROW, len(header), None) from None
    except ValueError as exc:  # pandas' ParserError and its header checks
        raise _unreadable(exc) from None


def _unreadable(exc):
    text = re.sub(r"^Error tokenizing data\. C error: ", "", str(exc).strip())
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found is None:
        return Invalid(f"The file could not be read as CSV: {text}")
    expected, line, saw = map(int, found.groups())
    return _too_many_values(line, expected, saw)


def _too_many_values(row, expected, saw):
    got = f"{saw} values" if saw else f"more than {expected} values"
    return Invalid(
        f"Row {row} has {got} but the header has {expected} columns. Nothing was imported.",
        [
            {
                "row": row,
                "column": "",
                "expected": f"{expected} values",
                "got": got,
                "message": "Too many values in this row (a comma inside an unquoted value?).",
            }
        ],
    )


def _read_all(source, columns, *, required) -> tuple[pd.DataFrame, np.ndarray]:
    """A small file (stores, weekly actuals) as one frame of text plus its row numbers."""
    with _opened(source) as handle:
        header = _header(handle)
        _check_columns(header, required, [c for c in columns if c not in required])
        parts = list(_chunks(handle, header, columns))
    frame = pd.concat([frame for frame, _ in parts]) if parts else pd.DataFrame()
    rows = np.concatenate([rows for _, rows in parts]) if parts else np.array([], dtype=int)
    if rows.size == 0:
        raise Invalid("The file has a header but no data rows.")
    return frame, rows


# --- Values ----------------------------------------------------------------------------------


def _distinct(values: pd.Series, convert: Callable[[str], object], fill, dtype):
    """Convert each distinct value once (a history has few distinct dates, stores and
    quantities). Returns (converted, missing, invalid) arrays aligned with ``values``;
    ``convert`` gets the trimmed text and returns None when it is invalid."""
    codes, uniques = pd.factorize(values)
    size = len(uniques) + 1  # the extra last slot serves code -1 (a missing field)
    converted = np.full(size, fill, dtype=dtype)
    missing = np.ones(size, dtype=bool)
    invalid = np.zeros(size, dtype=bool)
    for i, raw in enumerate(uniques):
        text = raw.strip()
        if not text:
            continue
        missing[i] = False
        value = convert(text)
        if value is None:
            invalid[i] = True
        else:
            converted[i] = value
    return converted[codes], missing[codes], invalid[codes]


def _day_number(text):
    """Proleptic ordinal of a YYYY-MM-DD date, or None."""
    if not _DATE_PATTERN.match(text):
        return None
    try:
        return date.fromisoformat(text).toordinal()
    except ValueError:
        return None


def _whole_number(text):
    """An integer written as "12" or "12.0"; None for anything else (fractions, words).
    Huge values are capped just above MAX_UNITS, so they fit an int64 and read as too large."""
    try:
        number = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return None
        if not math.isfinite(value) or value != int(value):
            return None
        number = int(value)
    return max(-MAX_UNITS - 1, min(number, MAX_UNITS + 1))


def _check_units(errors, rows, raw, units, usable, column):
    """Quantities are whole numbers from 0 to MAX_UNITS."""
    errors.add_masked(usable & (units < 0), rows, raw, column, "a whole number >= 0",
                      "Quantity {got} is negative.")
    errors.add_masked(usable & (units > MAX_UNITS), rows, raw, column,
                      f"a whole number <= {MAX_UNITS:,}", "Quantity {got} is too large.")


def _required(errors, missing, rows, raw, column, expected):
    errors.add_masked(missing, rows, raw, column, expected, f"'{column}' is empty.")


def _iso(day_number: int) -> str:
    return date.fromordinal(int(day_number)).isoformat()


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


def _record_upload(kind, filename, rows, report, user) -> int:
    """Keep an accepted upload (for the data page and auditing); returns its id."""
    upload = DataUpload.objects.create(
        kind=kind, filename=filename[:255], rows=rows, summary=report, uploaded_by=user
    )
    return upload.id


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
        before = HistoricalSale.objects.count()
        _write_sales(sales)
        added = HistoricalSale.objects.count() - before
        touched = sales["category_ids"]
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
                "start": _iso(sales["day"].min()),
                "end": _iso(sales["day"].max()),
            },
            "stores": int(np.unique(sales["store"]).size),
            "data_quality": quality,
        }
        report["upload_id"] = _record_upload(
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
    with _opened(source) as handle:
        header = _header(handle)
        _check_columns(header, HISTORY_COLUMNS, ("revenue",))
        columns = (*HISTORY_COLUMNS, "revenue")
        for frame, rows in _chunks(handle, header, columns):
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
    store, store_missing, store_unknown = _distinct(
        frame["store_id"], store_codes.get, -1, np.int32
    )
    category, cat_missing, cat_invalid = _distinct(frame["category"], categories.code, -1, np.int32)
    day, day_missing, day_invalid = _distinct(frame["date"], _day_number, 0, np.int32)
    units, units_missing, units_invalid = _distinct(
        frame["quantity_sold"], _whole_number, 0, np.int64
    )
    for column, missing, expected in (
        ("date", day_missing, "a date YYYY-MM-DD"),
        ("category", cat_missing, "a category name"),
        ("store_id", store_missing, "a store id"),
        ("quantity_sold", units_missing, "a whole number >= 0"),
    ):
        _required(errors, missing, rows, frame[column], column, expected)
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
    _check_units(errors, rows, frame["quantity_sold"], units, units_usable, "quantity_sold")

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


def _write_sales(sales):
    """Upsert through a staging table: one INSERT .. SELECT .. ON CONFLICT DO UPDATE statement is
    several times faster on SQLite than a row-by-row upsert, and it is the same SQL on PostgreSQL
    (where COPY fills the staging table, since one INSERT per row costs a round trip).
    Rows go in (category, date, store) order, so both indexes of the table grow at a few points
    instead of at random."""
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


def _sale_rows(sales, batch=100_000):
    order = np.lexsort((sales["store"], sales["day"], sales["category"]))
    days, day_index = np.unique(sales["day"], return_inverse=True)
    day_text = np.array([_iso(d) for d in days], dtype=object)
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


# --- Store attributes ------------------------------------------------------------------------


def import_stores(source, *, filename="", user=None) -> dict:
    """Validate and upsert store attributes by store_id (stores not in the file are kept), then
    recompute the clusters, all in one transaction. A missing or empty store_name becomes
    "Store <id>"; enum values match case- and separator-insensitively ("ShoppingCenter")."""
    started = time.perf_counter()
    frame, rows = _read_all(source, (*STORE_COLUMNS, "store_name"), required=STORE_COLUMNS)
    stores = _validated_stores(frame, rows)
    fields = ["name", *STORE_NUMBER_COLUMNS, *STORE_ENUM_COLUMNS]
    with transaction.atomic():
        existing = set(
            Store.objects.filter(store_id__in=[s.store_id for s in stores]).values_list(
                "store_id", flat=True
            )
        )
        Store.objects.bulk_create(
            stores, update_conflicts=True, unique_fields=["store_id"], update_fields=fields
        )
        clustering = clusters.recompute_clusters()
        report = {
            "kind": DataUpload.Kind.STORES.value,
            "filename": filename,
            "rows_imported": len(stores),
            "stores_added": len(stores) - len(existing),
            "stores_updated": len(existing),
            "stores_total": Store.objects.count(),
            "clusters": clustering,
        }
        report["upload_id"] = _record_upload(
            DataUpload.Kind.STORES, filename, len(stores), report, user
        )
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


def _validated_stores(frame, rows) -> list[Store]:
    errors = RowErrors()
    stores, first_row = [], {}
    has_name = "store_name" in frame
    for row, record in zip(rows.tolist(), frame.to_dict("records")):
        values, ok = {}, True
        store_id = record["store_id"].strip()
        if not _STORE_ID_PATTERN.match(store_id):
            errors.add([row], "store_id", "1-16 letters, digits, _ or -", [store_id],
                       "Store id {got} is not valid." if store_id else "'store_id' is empty.")
            ok = False
        elif store_id in first_row:
            errors.add([row], "store_id", "each store once", [store_id],
                       f"Store {{got}} already appears in row {first_row[store_id]}.")
            ok = False
        else:
            first_row[store_id] = row
        name = record["store_name"].strip() if has_name else ""
        if len(name) > _STORE_NAME_LENGTH:
            errors.add([row], "store_name", f"at most {_STORE_NAME_LENGTH} characters", [name],
                       "The name is too long.")
            ok = False
        for column in STORE_NUMBER_COLUMNS:
            number = _store_number(record[column].strip(), column)
            if number is None:
                expected = ("a number >= 0" if column == "avg_weekly_sales_12mo"
                            else "a whole number > 0")
                errors.add([row], column, expected, [record[column]],
                           f"'{column}' must be {expected}, got {{got}}.")
                ok = False
            values[column] = number
        for column, allowed in STORE_ENUM_COLUMNS.items():
            value = normalise_enum(record[column].strip(), allowed)
            if value is None:
                options = ", ".join(allowed)
                errors.add([row], column, f"one of {options}", [record[column]],
                           f"'{column}' must be one of {options}, got {{got}}.")
                ok = False
            values[column] = value
        if ok:
            stores.append(Store(store_id=store_id, name=name or f"Store {store_id}", **values))
    errors.raise_if_any()
    return stores


def _store_number(text, column):
    if column == "avg_weekly_sales_12mo":
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) and number >= 0 else None
    number = _whole_number(text)
    return number if number is not None and 0 < number <= MAX_UNITS else None


# --- Weekly actuals --------------------------------------------------------------------------


def week_dates(season_start: date, week: int) -> tuple[date, date]:
    """First and last day of season week ``week`` (SPEC §2)."""
    first = season_start + timedelta(days=7 * (week - 1))
    return first, first + timedelta(days=6)


def parse_weekly_actuals(
    file, *, season_start: date, week: int, store_ids: set[str]
) -> dict[str, int]:
    """Units sold per store in season week ``week``, from either format of SPEC §5:
    ``store_id, units_sold`` (optionally with ``week_number``, which must be ``week``), or daily
    ``date, store_id, quantity_sold`` with every date inside the week (summed per store).
    Every store of ``store_ids`` must appear, and only those; raises Invalid otherwise."""
    with _opened(file) as handle:
        header = _header(handle)
    if "units_sold" in header or "quantity_sold" not in header:
        required, columns = WEEKLY_TOTAL_COLUMNS, (*WEEKLY_TOTAL_COLUMNS, "week_number")
    else:
        required, columns = WEEKLY_DAILY_COLUMNS, WEEKLY_DAILY_COLUMNS
    frame, rows = _read_all(file, columns, required=required)
    errors = RowErrors()

    store = frame["store_id"].str.strip().to_numpy(dtype=object)
    store_missing = store == ""
    _required(errors, store_missing, rows, store, "store_id", "a store id")
    unknown = ~store_missing & ~np.isin(store, list(store_ids))
    errors.add_masked(unknown, rows, store, "store_id", "a store of this plan",
                      "Store {got} is not part of this plan.")

    units_column = required[-1]
    units, units_missing, units_invalid = _distinct(frame[units_column], _whole_number, 0, np.int64)
    _required(errors, units_missing, rows, frame[units_column], units_column, "a whole number >= 0")
    errors.add_masked(units_invalid, rows, frame[units_column], units_column,
                      "a whole number >= 0", "Units {got} is not a whole number.")
    _check_units(errors, rows, frame[units_column], units, ~(units_missing | units_invalid),
                 units_column)

    keyed = ~store_missing
    if units_column == "units_sold":
        key = store
        if "week_number" in frame:
            number, number_missing, number_invalid = _distinct(
                frame["week_number"], _whole_number, 0, np.int64
            )
            errors.add_masked(number_missing | number_invalid | (number != week), rows,
                              frame["week_number"], "week_number", str(week),
                              f"This upload is for week {week}, the row says week {{got}}.")
        duplicate_of = "store"
    else:
        first, last = week_dates(season_start, week)
        day, day_missing, day_invalid = _distinct(frame["date"], _day_number, 0, np.int64)
        _required(errors, day_missing, rows, frame["date"], "date", "a date YYYY-MM-DD")
        errors.add_masked(day_invalid, rows, frame["date"], "date", "a date YYYY-MM-DD",
                          "{got} is not a valid date in the form YYYY-MM-DD.")
        outside = ~(day_missing | day_invalid) & (
            (day < first.toordinal()) | (day > last.toordinal())
        )
        errors.add_masked(outside, rows, frame["date"], "date",
                          f"{first.isoformat()} to {last.isoformat()}",
                          f"Date {{got}} is outside week {week}. "
                          f"Expected {first.isoformat()} to {last.isoformat()}.")
        key = np.array([f"{s}|{d}" for s, d in zip(store, day)], dtype=object)
        keyed &= ~(day_missing | day_invalid)
        duplicate_of = "store and date"

    duplicate = pd.Series(key).duplicated(keep="first").to_numpy() & keyed
    errors.add_masked(duplicate, rows, store, "store_id", f"one row per {duplicate_of}",
                      f"Store {{got}} appears more than once for the same {duplicate_of}.")

    absent = sorted(set(store_ids) - set(store[~store_missing].tolist()))
    if absent:
        errors.add([None], "store_id", "a row for every store of the plan",
                   [f"{len(absent)} stores missing"],
                   "Missing data for stores: " + ", ".join(absent))
    errors.raise_if_any()
    totals = pd.Series(units).groupby(store).sum()
    too_large = totals[totals > MAX_UNITS]
    if not too_large.empty:
        raise Invalid(f"The week's units of store {too_large.index[0]} add up to more than "
                      f"{MAX_UNITS:,}.")
    return {store_id: int(total) for store_id, total in totals.items()}


def plan_store_ids(season: Workflow) -> set[str]:
    """The stores a season's actuals must cover: its allocation's stores, or every store while
    the season has no allocation yet."""
    allocation = Allocation.objects.filter(season=season).first()
    if allocation is None:
        return set(Store.objects.values_list("store_id", flat=True))
    return set(
        StoreAllocation.objects.filter(allocation=allocation).values_list("store_id", flat=True)
    )


def import_weekly_actuals(season: Workflow, week: int, file, *, overwrite=False, user=None,
                          filename="") -> dict:
    """Check a week's actuals file against the season and hand the totals to the season's
    weekly cycle (variance, re-forecast, replenishment, markdown); records the upload."""
    # Imported here: the season engine pulls in the agents and forecasting stack.
    from planning.services.season import record_week_actuals

    season = season.season_root
    start = season.parameters.get("season_start_date")
    if not start:
        raise Invalid("This season has no start date yet; confirm its parameters first.")
    horizon = season.horizon_weeks
    if not 1 <= week <= horizon:
        raise Invalid(
            f"week_number must be between 1 and {horizon} for this season, got {week}.",
            [{"row": None, "column": "week_number", "expected": f"1..{horizon}",
              "got": str(week), "message": "Week outside the season."}],
        )
    units = parse_weekly_actuals(
        file,
        season_start=date.fromisoformat(str(start)[:10]),
        week=week,
        store_ids=plan_store_ids(season),
    )
    result = record_week_actuals(season, week, units, overwrite=overwrite, user=user)
    report = {
        "kind": DataUpload.Kind.WEEKLY_ACTUALS.value,
        "filename": filename,
        "workflow_id": str(season.id),
        "week_number": week,
        "rows_imported": len(units),
        "units": sum(units.values()),
        "variance_check": result,
    }
    report["upload_id"] = _record_upload(
        DataUpload.Kind.WEEKLY_ACTUALS, filename, len(units), report, user
    )
    return report
