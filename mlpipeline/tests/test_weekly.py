from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlpipeline.weekly import season_week_starts, weekly_series


def daily_frame(start: date, days: int, stores=("S001",), units: int = 1) -> pd.DataFrame:
    dates = pd.date_range(start, periods=days, freq="D")
    return pd.DataFrame(
        [(day, store, "womens_dresses", units, float("nan")) for day in dates for store in stores],
        columns=["date", "store_id", "category", "quantity_sold", "revenue"],
    )


@pytest.mark.parametrize("offset", range(7))
def test_weeks_align_to_the_season_start_weekday(offset):
    season_start = date(2025, 3, 3) + timedelta(days=offset)
    weekly = weekly_series(daily_frame(date(2024, 11, 1), 70), season_start)
    assert (weekly.index.day_of_week == season_start.weekday()).all()
    assert ((pd.Timestamp(season_start) - weekly.index).days % 7 == 0).all()
    assert (weekly == 7).all()  # only full weeks
    assert weekly.index[0] >= pd.Timestamp("2024-11-01")
    assert weekly.index[-1] + pd.Timedelta(days=6) <= pd.Timestamp("2025-01-09")


def test_partial_weeks_at_both_ends_are_dropped():
    # Wed 2025-01-01 .. Fri 2025-01-31, Monday weeks: Jan 6, 13, 20 are full; Dec 30 and Jan 27
    # are cut by the data range.
    weekly = weekly_series(daily_frame(date(2025, 1, 1), 31), date(2025, 3, 3))
    assert list(weekly.index.date) == [date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20)]


def test_sums_over_stores():
    frame = daily_frame(date(2025, 1, 6), 14, stores=("S001", "S002"), units=3)
    assert weekly_series(frame, date(2025, 1, 6)).tolist() == [42, 42]


def test_missing_days_and_weeks_count_as_zero():
    frame = daily_frame(date(2025, 1, 6), 28)
    gone = frame["date"].between("2025-01-13", "2025-01-19") | (frame["date"] == "2025-01-21")
    weekly = weekly_series(frame[~gone], date(2025, 1, 6))
    assert weekly.tolist() == [7, 0, 6, 7]
    assert (weekly.index.to_series().diff().dropna() == pd.Timedelta(days=7)).all()


def test_accepts_a_series_of_daily_units():
    dates = pd.date_range("2025-01-06", periods=14, freq="D")
    units = pd.Series(2, index=dates.repeat(2))  # two rows per day, e.g. two stores
    assert weekly_series(units, date(2025, 1, 6)).tolist() == [28, 28]


def test_needs_one_category():
    frame = daily_frame(date(2025, 1, 6), 14)
    frame.loc[0, "category"] = "accessories"
    with pytest.raises(ValueError, match="one category"):
        weekly_series(frame, date(2025, 1, 6))


def test_less_than_a_full_week_gives_an_empty_series():
    assert weekly_series(daily_frame(date(2025, 1, 7), 7), date(2025, 1, 6)).empty
    assert weekly_series(daily_frame(date(2025, 1, 7), 0), date(2025, 1, 6)).empty


def test_season_week_starts():
    starts = season_week_starts(date(2025, 3, 1), 12)
    assert len(starts) == 12
    assert starts[0] == date(2025, 3, 1)
    assert starts[-1] + timedelta(days=6) == date(2025, 5, 23)  # SPEC §2 season end vector


@given(
    start=st.dates(date(2023, 1, 1), date(2024, 12, 31)),
    units=st.lists(st.integers(0, 500), min_size=0, max_size=60),
    season_offset=st.integers(0, 400),
)
def test_full_weeks_keep_every_unit_sold_inside_them(start, units, season_offset):
    index = pd.date_range(start, periods=len(units), freq="D")
    daily = pd.Series(units, index=index, dtype="int64")
    season_start = start + timedelta(days=season_offset)
    weekly = weekly_series(daily, season_start)
    days_before_first_week = season_offset % 7
    assert len(weekly) == max(0, len(units) - days_before_first_week) // 7
    for week_start, total in weekly.items():
        assert total == daily[week_start:week_start + pd.Timedelta(days=6)].sum()
        assert (pd.Timestamp(season_start) - week_start).days % 7 == 0
