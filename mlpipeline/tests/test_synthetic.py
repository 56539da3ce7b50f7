"""Tests of the seeded synthetic data generator (mlpipeline.synthetic)."""
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from mlpipeline import data, synthetic

SEASON_START = date(2025, 3, 1)


@pytest.fixture(scope="module")
def stores() -> pd.DataFrame:
    return synthetic.generate_stores()


@pytest.fixture(scope="module")
def daily(stores) -> pd.DataFrame:
    return synthetic.generate_daily_sales(stores)


def test_stores_shape_ids_and_enums(stores):
    assert list(stores.columns) == data.STORE_COLUMNS
    assert stores["store_id"].tolist() == [f"S{i:03d}" for i in range(1, 51)]
    assert stores["store_name"].is_unique
    assert stores["store_name"].iloc[0].startswith("Store 001 – ")
    assert set(stores["location_tier"]) <= set(data.LOCATION_TIERS)
    assert set(stores["fashion_tier"]) == set(data.FASHION_TIERS)
    assert set(stores["store_format"]) <= set(data.STORE_FORMATS)
    assert set(stores["region"]) <= set(data.REGIONS)
    for column in ("store_size_sqft", "median_income", "avg_weekly_sales_12mo"):
        assert pd.api.types.is_integer_dtype(stores[column])
        assert (stores[column] > 0).all()


def test_store_groups_are_distinct(stores):
    groups = stores.groupby("fashion_tier")
    assert groups.size().to_dict() == {"PREMIUM": 15, "MAINSTREAM": 20, "VALUE": 15}
    income = groups["median_income"].agg(["min", "max"])
    assert income.loc["PREMIUM", "min"] > income.loc["MAINSTREAM", "max"]
    assert income.loc["MAINSTREAM", "min"] > income.loc["VALUE", "max"]
    premium = stores[stores["fashion_tier"] == "PREMIUM"]
    value = stores[stores["fashion_tier"] == "VALUE"]
    assert (premium["location_tier"] == "A").all()
    assert (value["location_tier"] == "C").all()
    assert value["store_format"].isin(["STANDALONE", "OUTLET", "SHOPPING_CENTER"]).all()
    sales = groups["avg_weekly_sales_12mo"].mean()
    assert sales["PREMIUM"] > sales["MAINSTREAM"] > sales["VALUE"]


def test_kmeans_recovers_the_three_groups(stores):
    pytest.importorskip("sklearn")
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    features = pd.DataFrame({
        "sales": stores["avg_weekly_sales_12mo"],
        "size": stores["store_size_sqft"],
        "income": stores["median_income"],
        "location": stores["location_tier"].map(data.LOCATION_TIERS),
        "fashion": stores["fashion_tier"].map(data.FASHION_TIERS),
        "format": stores["store_format"].map(data.STORE_FORMATS),
        "region": stores["region"].map(data.REGIONS),
    })
    labels = KMeans(3, init="k-means++", n_init=10, random_state=42).fit_predict(
        StandardScaler().fit_transform(features)
    )
    table = pd.crosstab(labels, stores["fashion_tier"])
    assert sorted(table.max(axis=1)) == [15, 15, 20]  # every cluster is exactly one group


def test_daily_shape_columns_and_dtypes(daily, stores):
    n_days = (synthetic.HISTORY_END - synthetic.HISTORY_START).days + 1
    assert len(daily) == n_days * 50 * 3 == 164_400
    assert list(daily.columns) == data.DAILY_COLUMNS
    assert pd.api.types.is_datetime64_dtype(daily["date"])
    assert (daily["date"] == daily["date"].dt.normalize()).all()
    assert daily["date"].min() == pd.Timestamp("2022-01-01")
    assert daily["date"].max() == pd.Timestamp("2024-12-31")
    assert pd.api.types.is_integer_dtype(daily["quantity_sold"])
    assert pd.api.types.is_float_dtype(daily["revenue"])
    assert set(daily["store_id"]) == set(stores["store_id"])
    assert set(daily["category"]) == {cid for cid, _ in synthetic.CATEGORIES}
    assert not daily.duplicated(["date", "store_id", "category"]).any()
    assert (daily["quantity_sold"] >= 0).all()
    assert (daily["revenue"] >= 0).all()


def test_magnitudes_like_peer_data(daily):
    means = daily.groupby("category")["quantity_sold"].mean()
    assert means.between(20, 60).all(), means


def test_determinism_and_seed_sensitivity(stores, daily):
    pd.testing.assert_frame_equal(synthetic.generate_stores(seed=42), stores)
    pd.testing.assert_frame_equal(synthetic.generate_daily_sales(stores, seed=42), daily)
    assert not synthetic.generate_stores(seed=7).equals(stores)
    other = synthetic.generate_daily_sales(stores, seed=7)
    assert not other["quantity_sold"].equals(daily["quantity_sold"])


def test_category_subset_is_the_same_series(stores, daily):
    only = synthetic.generate_daily_sales(stores, categories=["Men's Shirts"])
    full = daily[daily["category"] == "mens_shirts"].reset_index(drop=True)
    pd.testing.assert_frame_equal(only, full)


def test_unknown_category_gets_a_stable_profile(stores):
    first = synthetic.generate_daily_sales(
        stores, start=date(2024, 1, 1), end=date(2024, 3, 31), categories=["outerwear"]
    )
    again = synthetic.generate_daily_sales(
        stores, start=date(2024, 1, 1), end=date(2024, 3, 31), categories=["outerwear"]
    )
    pd.testing.assert_frame_equal(first, again)
    assert synthetic.category_name("outerwear") == "Outerwear"
    assert first["quantity_sold"].mean() > 5


def _monthly_mean(daily: pd.DataFrame, category: str) -> pd.Series:
    rows = daily[daily["category"] == category]
    return rows.groupby(rows["date"].dt.month)["quantity_sold"].mean()


def test_spring_peak_for_dresses(daily):
    months = _monthly_mean(daily, "womens_dresses")
    assert months[[3, 4, 5]].mean() > 1.6 * months[[10, 11, 12]].mean()
    assert months.idxmax() in (4, 5)


def test_december_bump_for_accessories_and_mild_shirts(daily):
    accessories = _monthly_mean(daily, "accessories")
    assert accessories.idxmax() == 12
    assert accessories[12] > 2 * accessories[[1, 2, 6, 7, 8, 9, 10]].mean()
    shirts = _monthly_mean(daily, "mens_shirts")
    assert shirts.max() / shirts.min() < 1.5


def test_weekday_pattern(daily):
    rows = daily[daily["category"] == "womens_dresses"]
    by_day = rows.groupby(rows["date"].dt.day_of_week)["quantity_sold"].mean()
    assert by_day.idxmax() == 5  # Saturday
    assert by_day[5] > 1.5 * by_day[0]


def test_upward_trend(daily):
    for category in ("womens_dresses", "accessories"):
        rows = daily[daily["category"] == category]
        yearly = rows.groupby(rows["date"].dt.year)["quantity_sold"].sum()
        assert yearly[2022] < yearly[2023] < yearly[2024], category


def test_avg_weekly_sales_matches_last_52_weeks(stores, daily):
    cutoff = daily["date"].max() - pd.Timedelta(days=52 * 7 - 1)
    last = daily[daily["date"] >= cutoff].groupby("store_id")["quantity_sold"].sum() / 52
    expected = last.round().astype("int64").reindex(stores["store_id"])
    assert expected.tolist() == stores["avg_weekly_sales_12mo"].tolist()


def test_future_season_continues_the_process(stores, daily):
    truth = synthetic.generate_future_season(stores, "womens_dresses", SEASON_START)
    assert truth.weeks == 12 and len(truth.weekly_totals) == 12
    assert len(truth.daily) == 84 * 50
    assert list(truth.daily.columns) == ["date", "store_id", "quantity_sold"]
    assert truth.daily["date"].min() == pd.Timestamp(SEASON_START)
    assert truth.daily["date"].max() == pd.Timestamp(date(2025, 5, 23))
    assert truth.total == sum(truth.weekly_totals) == truth.daily["quantity_sold"].sum()
    assert truth.total == pytest.approx(sum(truth.expected_weekly), rel=0.05)

    for category, profile in synthetic.PROFILES.items():
        truth = synthetic.generate_future_season(stores, category, SEASON_START)
        year_before = pd.Timestamp(SEASON_START - timedelta(days=364))
        rows = daily[(daily["category"] == category) & (daily["date"] >= year_before)
                     & (daily["date"] < year_before + pd.Timedelta(days=84))]
        trended = rows["quantity_sold"].sum() * np.exp(profile.growth * 364 / 365.25)
        assert truth.total == pytest.approx(trended, rel=0.15), category


def test_future_season_scenarios_scale_the_mean(stores):
    totals = {
        scenario: synthetic.generate_future_season(
            stores, "Women's Dresses", SEASON_START, scenario=scenario
        ).total
        for scenario in synthetic.SCENARIO_FACTORS
    }
    for scenario, factor in synthetic.SCENARIO_FACTORS.items():
        assert totals[scenario] / totals["normal"] == pytest.approx(factor, rel=0.05), scenario
    with pytest.raises(ValueError):
        synthetic.generate_future_season(stores, "womens_dresses", SEASON_START, scenario="huge")


def test_future_season_is_deterministic(stores):
    first = synthetic.generate_future_season(stores, "accessories", SEASON_START, weeks=4, seed=3)
    again = synthetic.generate_future_season(stores, "accessories", SEASON_START, weeks=4, seed=3)
    pd.testing.assert_frame_equal(first.daily, again.daily)
    other = synthetic.generate_future_season(stores, "accessories", SEASON_START, weeks=4, seed=4)
    assert other.weekly_totals != first.weekly_totals


def test_generation_is_fast(stores):
    began = time.perf_counter()
    synthetic.generate_daily_sales(stores)
    assert time.perf_counter() - began < 3.0


def test_history_csv_round_trip(tmp_path, stores, daily):
    path = synthetic.write_history_csv(tmp_path / "history.csv", daily)
    back = pd.read_csv(path, parse_dates=["date"])
    assert list(back.columns) == ["date", "category", "store_id", "quantity_sold", "revenue"]
    assert set(back["category"]) == {name for _, name in synthetic.CATEGORIES}
    back["category"] = back["category"].map(data.category_slug)
    pd.testing.assert_frame_equal(back[data.DAILY_COLUMNS], daily, check_dtype=False)


def test_stores_csv_round_trip(tmp_path, stores):
    path = synthetic.write_stores_csv(tmp_path / "stores.csv", stores)
    pd.testing.assert_frame_equal(pd.read_csv(path), stores, check_dtype=False)


def test_weekly_actuals_csvs(tmp_path, stores):
    truth = synthetic.generate_future_season(stores, "womens_dresses", SEASON_START, weeks=3)
    paths = synthetic.write_weekly_actuals_csvs(tmp_path / "normal", truth)
    assert [p.name for p in paths] == ["actuals_week_01.csv", "actuals_week_02.csv",
                                       "actuals_week_03.csv"]
    for week, path in enumerate(paths, start=1):
        frame = pd.read_csv(path, parse_dates=["date"])
        assert list(frame.columns) == ["date", "store_id", "quantity_sold"]
        assert len(frame) == 350
        first = pd.Timestamp(SEASON_START + timedelta(days=7 * (week - 1)))
        assert frame["date"].min() == first
        assert frame["date"].max() == first + pd.Timedelta(days=6)
        assert frame["quantity_sold"].sum() == truth.weekly_totals[week - 1]
