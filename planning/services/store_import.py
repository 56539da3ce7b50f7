"""Import of store attributes (upsert by store_id), then the clusters are recomputed (SPEC §5)."""
from __future__ import annotations

import math
import re
import time

from django.db import transaction

from mlpipeline.data import FASHION_TIERS, LOCATION_TIERS, REGIONS, STORE_FORMATS, normalise_enum
from planning.models import DataUpload, Store
from planning.services import clusters
from planning.services.csv_files import MAX_UNITS, RowErrors, read_csv, record_upload, whole_number

_STORE_NAME_LENGTH = Store._meta.get_field("name").max_length
_STORE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
STORE_NUMBER_COLUMNS = ("store_size_sqft", "median_income", "avg_weekly_sales_12mo")
STORE_ENUM_COLUMNS = {
    "location_tier": LOCATION_TIERS,
    "fashion_tier": FASHION_TIERS,
    "store_format": STORE_FORMATS,
    "region": REGIONS,
}
STORE_COLUMNS = ("store_id", *STORE_NUMBER_COLUMNS, *STORE_ENUM_COLUMNS)


# --- Store attributes ------------------------------------------------------------------------


def import_stores(source, *, filename="", user=None) -> dict:
    """Validate and upsert store attributes by store_id (stores not in the file are kept), then
    recompute the clusters, all in one transaction. A missing or empty store_name becomes
    "Store <id>"; enum values match case- and separator-insensitively ("ShoppingCenter")."""
    started = time.perf_counter()
    frame, rows = read_csv(source, (*STORE_COLUMNS, "store_name"), required=STORE_COLUMNS)
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
        report["upload_id"] = record_upload(
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
    number = whole_number(text)
    return number if number is not None and 0 < number <= MAX_UNITS else None


