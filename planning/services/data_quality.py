"""Data quality of the sales history, per category: gaps, zero weeks and outlier weeks.

- Gaps: store-days missing inside the category's date range, counting the stores that have at
  least one row of the category (a store that never sells it is not expected to report it).
- Zero weeks: full 7-day weeks, counted from the category's first date, without a single unit.
- Outlier weeks: weekly category units far from the neighbouring weeks. The robust z-score
  (median and MAD) of the log ratio to the median of the NEIGHBOURS weeks on either side must
  exceed OUTLIER_Z, and the week must differ from them by at least OUTLIER_MIN_RATIO. Comparing
  with neighbours keeps a seasonal peak, which builds over weeks, from looking like an outlier;
  the ratio floor keeps ordinary promotion weeks out.
"""
from datetime import date

import numpy as np
import pandas as pd
from django.db.models import Count, Sum

from planning.models import HistoricalSale

OUTLIER_Z = 3.5
OUTLIER_MIN_RATIO = 1.5
NEIGHBOURS = 2
MAX_LISTED = 20


def category_quality(category_id, days, units, *, rows, stores) -> dict:
    """Quality of one category from its daily totals: ``days`` are distinct date ordinals,
    ``units`` the units sold on each; ``rows`` and ``stores`` count its store-day rows and its
    stores."""
    days = np.asarray(days, dtype=np.int64)
    first, last = int(days.min()), int(days.max())
    n_days = last - first + 1
    per_day = np.zeros(n_days)
    per_day[days - first] = units
    n_weeks = n_days // 7
    weekly = per_day[: 7 * n_weeks].reshape(n_weeks, 7).sum(axis=1)
    zero = np.flatnonzero(weekly == 0)
    outliers = _outlier_weeks(weekly)
    expected = stores * n_days
    return {
        "category_id": category_id,
        "rows": int(rows),
        "stores": int(stores),
        "first_date": date.fromordinal(first).isoformat(),
        "last_date": date.fromordinal(last).isoformat(),
        "days": n_days,
        "missing_store_days": int(expected - rows),
        "coverage": round(rows / expected, 4) if expected else 0.0,
        "weeks": n_weeks,
        "zero_week_count": int(zero.size),
        "zero_weeks": [_week_start(first, w) for w in zero[:MAX_LISTED]],
        "outlier_week_count": len(outliers),
        "outlier_weeks": [
            {"week_start": _week_start(first, w), "units": int(weekly[w]), "neighbour_median": ref,
             "z": z}
            for w, ref, z in outliers[:MAX_LISTED]
        ],
    }


def _week_start(first_day, week_index):
    return date.fromordinal(int(first_day) + 7 * int(week_index)).isoformat()


def _outlier_weeks(weekly: np.ndarray) -> list[tuple[int, int, float]]:
    """(week index, median units of its neighbours, z) of each outlier week with units."""
    n = weekly.size
    if n < 2 * NEIGHBOURS + 1:
        return []
    log = np.log1p(weekly)
    padded = np.pad(log, NEIGHBOURS, constant_values=np.nan)
    shifts = [padded[NEIGHBOURS + k : NEIGHBOURS + k + n]
              for k in range(-NEIGHBOURS, NEIGHBOURS + 1) if k != 0]
    reference = np.nanmedian(np.vstack(shifts), axis=0)
    ratio = log - reference
    centre = np.median(ratio)
    mad = max(float(np.median(np.abs(ratio - centre))), 1e-9)
    z = 0.6745 * (ratio - centre) / mad
    flagged = (np.abs(z) > OUTLIER_Z) & (np.abs(ratio) >= np.log(OUTLIER_MIN_RATIO)) & (weekly > 0)
    return [(int(w), int(round(np.expm1(reference[w]))), round(float(z[w]), 1))
            for w in np.flatnonzero(flagged)]


def summarise(categories: list[dict]) -> dict:
    """Totals over categories; status "ok" when nothing needs a look, else "review"."""
    totals = {
        "missing_store_days": sum(c["missing_store_days"] for c in categories),
        "zero_weeks": sum(c["zero_week_count"] for c in categories),
        "outlier_weeks": sum(c["outlier_week_count"] for c in categories),
    }
    status = "ok" if not any(totals.values()) else "review"
    return {"status": status, **totals, "categories": categories}


def upload_quality(*, category_ids, category, store, day, units) -> dict:
    """Quality of an uploaded file from the importer's arrays (category and store codes, date
    ordinals and units per row; ``category_ids[code]`` names a category)."""
    frame = pd.DataFrame({"category": category, "store": store, "day": day, "units": units})
    daily = frame.groupby(["category", "day"], sort=True)["units"].sum()
    stores = frame.groupby("category")["store"].nunique()
    rows = np.bincount(category, minlength=len(category_ids))
    categories = []
    for code, category_id in enumerate(category_ids):
        per_day = daily.loc[code]
        categories.append(
            category_quality(
                category_id,
                per_day.index.to_numpy(),
                per_day.to_numpy(),
                rows=int(rows[code]),
                stores=int(stores.loc[code]),
            )
        )
    return summarise(categories)


def quality_report() -> dict:
    """Quality of the stored history of every category, for the data page (two aggregate
    queries; no row is loaded)."""
    daily = (
        HistoricalSale.objects.values_list("category_id", "date")
        .annotate(units=Sum("units"), rows=Count("id"))
        .order_by("category_id", "date")
    )
    stores = dict(
        HistoricalSale.objects.values_list("category_id")
        .annotate(stores=Count("store_id", distinct=True))
        .order_by()
    )
    frame = pd.DataFrame(list(daily), columns=["category_id", "date", "units", "rows"])
    categories = []
    for category_id, part in frame.groupby("category_id", sort=True):
        categories.append(
            category_quality(
                category_id,
                [d.toordinal() for d in part["date"]],
                part["units"].to_numpy(),
                rows=int(part["rows"].sum()),
                stores=stores[category_id],
            )
        )
    return summarise(categories)
