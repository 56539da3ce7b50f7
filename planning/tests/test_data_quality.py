"""Data-quality summary: gaps, zero weeks and outlier weeks, from an upload and from the DB."""
import io
from datetime import date, timedelta

import numpy as np

from planning.services import data_quality, history_import

FIRST = date(2024, 1, 1).toordinal()


def seasonal_days(n_weeks=30, level=700.0):
    """Daily units with a smooth seasonal swing (peak 3x the trough) and no outliers."""
    days = np.arange(FIRST, FIRST + 7 * n_weeks)
    units = level * (2 + np.sin(np.arange(days.size) * 2 * np.pi / (7 * n_weeks)))
    return days, np.round(units)


def test_smooth_seasonal_series_is_clean():
    days, units = seasonal_days()
    quality = data_quality.category_quality("c", days, units, rows=days.size, stores=1)
    assert quality["zero_week_count"] == 0 and quality["outlier_week_count"] == 0
    assert quality["missing_store_days"] == 0 and quality["coverage"] == 1.0
    assert quality["weeks"] == 30 and quality["first_date"] == "2024-01-01"


def test_spike_and_zero_weeks_are_flagged():
    days, units = seasonal_days()
    units = units.copy()
    units[7 * 10 : 7 * 11] *= 4  # week 11: a data error, four times its neighbours
    units[7 * 20 : 7 * 21] = 0  # week 21: nothing sold
    quality = data_quality.category_quality("c", days, units, rows=days.size, stores=1)
    assert quality["zero_weeks"] == [(date(2024, 1, 1) + timedelta(weeks=20)).isoformat()]
    [outlier] = quality["outlier_weeks"]
    assert outlier["week_start"] == (date(2024, 1, 1) + timedelta(weeks=10)).isoformat()
    assert outlier["z"] > data_quality.OUTLIER_Z and outlier["units"] > 3 * outlier["neighbour_median"]


def test_promotion_sized_bump_is_not_an_outlier():
    days, units = seasonal_days()
    units = units.copy()
    units[7 * 10 : 7 * 11] *= 1.3
    quality = data_quality.category_quality("c", days, units, rows=days.size, stores=1)
    assert quality["outlier_week_count"] == 0


def test_gaps_count_missing_store_days():
    days = np.arange(FIRST, FIRST + 10)
    quality = data_quality.category_quality("c", days, np.ones(10), rows=27, stores=3)
    assert quality["missing_store_days"] == 3 and quality["coverage"] == 0.9
    summary = data_quality.summarise([quality])
    assert summary["status"] == "review" and summary["missing_store_days"] == 3


def test_upload_and_stored_history_agree(demo_stores):
    lines = ["date,category,store_id,quantity_sold"]
    for offset in range(35):
        day = (date(2024, 1, 1) + timedelta(days=offset)).isoformat()
        for store in ("S001", "S002"):
            if store == "S002" and offset == 3:
                continue  # one missing store-day
            lines.append(f"{day},Accessories,{store},{0 if 14 <= offset < 21 else 5}")
    report = history_import.import_historical_sales(io.BytesIO("\n".join(lines).encode()))
    uploaded = report["data_quality"]
    assert uploaded["missing_store_days"] == 1 and uploaded["zero_weeks"] == 1
    assert uploaded["categories"][0]["zero_weeks"] == ["2024-01-15"]
    stored = data_quality.quality_report()
    assert stored == uploaded


def test_empty_history_report(db):
    assert data_quality.quality_report() == {
        "status": "ok", "missing_store_days": 0, "zero_weeks": 0, "outlier_weeks": 0,
        "categories": []}
