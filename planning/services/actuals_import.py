"""Import of a season week's actuals (``store_id, units_sold`` or daily ``date, store_id,
quantity_sold`` inside the week), handed to the season's weekly cycle (SPEC §5)."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from planning.errors import Invalid
from planning.models import Allocation, DataUpload, Season, Store, StoreAllocation
from planning.services.csv_files import (
    MAX_UNITS,
    RowErrors,
    check_units,
    day_number,
    distinct_values,
    opened_csv,
    read_csv,
    read_header,
    record_upload,
    report_missing,
    whole_number,
)
from planning.services.actuals import record_week_actuals
from planning.services.weeks import week_result

WEEKLY_TOTAL_COLUMNS = ("store_id", "units_sold")
WEEKLY_DAILY_COLUMNS = ("date", "store_id", "quantity_sold")


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
    with opened_csv(file) as handle:
        header = read_header(handle)
    if "units_sold" in header or "quantity_sold" not in header:
        required, columns = WEEKLY_TOTAL_COLUMNS, (*WEEKLY_TOTAL_COLUMNS, "week_number")
    else:
        required, columns = WEEKLY_DAILY_COLUMNS, WEEKLY_DAILY_COLUMNS
    frame, rows = read_csv(file, columns, required=required)
    errors = RowErrors()

    store = frame["store_id"].str.strip().to_numpy(dtype=object)
    store_missing = store == ""
    report_missing(errors, store_missing, rows, store, "store_id", "a store id")
    unknown = ~store_missing & ~np.isin(store, list(store_ids))
    errors.add_masked(unknown, rows, store, "store_id", "a store of this plan",
                      "Store {got} is not part of this plan.")

    units_column = required[-1]
    units, units_missing, units_invalid = distinct_values(frame[units_column], whole_number, 0, np.int64)
    report_missing(errors, units_missing, rows, frame[units_column], units_column, "a whole number >= 0")
    errors.add_masked(units_invalid, rows, frame[units_column], units_column,
                      "a whole number >= 0", "Units {got} is not a whole number.")
    check_units(errors, rows, frame[units_column], units, ~(units_missing | units_invalid),
                 units_column)

    keyed = ~store_missing
    if units_column == "units_sold":
        key = store
        if "week_number" in frame:
            number, number_missing, number_invalid = distinct_values(
                frame["week_number"], whole_number, 0, np.int64
            )
            errors.add_masked(number_missing | number_invalid | (number != week), rows,
                              frame["week_number"], "week_number", str(week),
                              f"This upload is for week {week}, the row says week {{got}}.")
        duplicate_of = "store"
    else:
        first, last = week_dates(season_start, week)
        day, day_missing, day_invalid = distinct_values(frame["date"], day_number, 0, np.int64)
        report_missing(errors, day_missing, rows, frame["date"], "date", "a date YYYY-MM-DD")
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


def plan_store_ids(season: Season) -> set[str]:
    """The stores a season's actuals must cover: its allocation's stores, or every store while
    the season has no allocation yet."""
    allocation = Allocation.objects.filter(season=season).first()
    if allocation is None:
        return set(Store.objects.values_list("store_id", flat=True))
    return set(
        StoreAllocation.objects.filter(allocation=allocation).values_list("store_id", flat=True)
    )


def import_weekly_actuals(season: Season, week: int, file, *, overwrite=False, user=None,
                          filename="") -> dict:
    """Check a week's actuals file against the season, store the totals and start the week's run
    (variance, re-forecast, replenishment, markdown: planning.services.weeks); records the upload."""
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
    report = {
        "kind": DataUpload.Kind.WEEKLY_ACTUALS.value,
        "filename": filename,
        "workflow_id": str(season.id),
        "week_number": week,
        "rows_imported": len(units),
        "units": sum(units.values()),
    }

    def record(run):  # the upload's record, written with the actuals (see record_week_actuals)
        report.update(run_id=str(run.pk), status=run.status)
        report["upload_id"] = record_upload(DataUpload.Kind.WEEKLY_ACTUALS, filename, len(units), report, user)

    record_week_actuals(season, week, units, overwrite=overwrite, user=user, on_stored=record)
    return {**report, "variance_check": week_result(season, week)}
