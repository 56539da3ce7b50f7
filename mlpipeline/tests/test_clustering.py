import numpy as np
import pandas as pd
import pytest

from mlpipeline.clustering import CLUSTER_IDS, FEATURES, cluster_stores, store_features

TIERS = [  # fashion tier, location tiers, formats, size, income, weekly sales
    ("PREMIUM", ["A"], ["MALL", "STANDALONE"], 14_000, 110_000, 120),
    ("MAINSTREAM", ["A", "B"], ["SHOPPING_CENTER", "STANDALONE"], 10_000, 70_000, 80),
    ("VALUE", ["C"], ["OUTLET", "SHOPPING_CENTER"], 7_000, 40_000, 45),
]


def chain(n_stores: int = 50, seed: int = 7) -> pd.DataFrame:
    """A chain of stores in three tiers with noisy attributes around each tier's profile."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_stores):
        fashion, locations, formats, size, income, sales = TIERS[i % 3]
        rows.append({
            "store_id": f"S{i + 1:03d}",
            "store_name": f"Store {i + 1}",
            "store_size_sqft": round(size * rng.uniform(0.9, 1.1)),
            "location_tier": rng.choice(locations),
            "fashion_tier": fashion,
            "store_format": rng.choice(formats),
            "region": rng.choice(["NORTHEAST", "SOUTHEAST", "MIDWEST", "WEST"]),
            "median_income": round(income * rng.uniform(0.9, 1.1)),
            "avg_weekly_sales_12mo": sales * rng.uniform(0.85, 1.15),
        })
    return pd.DataFrame(rows)


def test_fifty_stores_named_by_fashion_tier():
    stores = chain()
    result = cluster_stores(stores)
    assert result.k == 3
    assert [c.cluster_id for c in result.clusters] == list(CLUSTER_IDS)
    assert [c.name for c in result.clusters] == ["Fashion forward", "Mainstream", "Value conscious"]
    tiers = [c.mean_fashion_tier for c in result.clusters]
    assert tiers == sorted(tiers, reverse=True)
    assert sum(c.store_count for c in result.clusters) == 50
    assert set(result.assignments) == set(stores["store_id"])
    expected = {"PREMIUM": "fashion_forward", "MAINSTREAM": "mainstream", "VALUE": "value_conscious"}
    for store_id, tier in zip(stores["store_id"], stores["fashion_tier"]):
        assert result.assignments[store_id] == expected[tier]
    assert set(result.clusters[0].feature_means) == set(FEATURES)


def test_silhouette_in_range():
    result = cluster_stores(chain())
    assert result.silhouette is not None and -1.0 <= result.silhouette <= 1.0
    assert result.silhouette > 0.3  # three well-separated tiers


def test_deterministic_and_independent_of_row_order():
    stores = chain()
    first = cluster_stores(stores)
    again = cluster_stores(stores)
    shuffled = cluster_stores(stores.sample(frac=1.0, random_state=3))
    assert first == again
    assert first.assignments == shuffled.assignments
    assert first.silhouette == pytest.approx(shuffled.silhouette)


def test_enum_codes_and_case_insensitive_values():
    stores = chain(6)
    stores.loc[0, "store_format"] = "ShoppingCenter"
    features = store_features(stores)
    assert features.loc["S001", "store_format"] == 2
    assert features.loc["S001", "fashion_tier"] == 3
    assert features.loc["S003", "location_tier"] == 1


def test_unknown_enum_value_is_rejected():
    stores = chain(6)
    stores.loc[2, "region"] = "ATLANTIS"
    with pytest.raises(ValueError, match="region"):
        cluster_stores(stores)


def test_two_stores_give_two_clusters_without_silhouette():
    result = cluster_stores(chain(2))
    assert result.k == 2
    assert [c.cluster_id for c in result.clusters] == ["fashion_forward", "mainstream"]
    assert result.silhouette is None


def test_fewer_than_two_distinct_stores_is_an_error():
    with pytest.raises(ValueError, match="at least 2 stores"):
        cluster_stores(chain(1))
    twins = pd.concat([chain(1)] * 2, ignore_index=True)
    twins.loc[1, "store_id"] = "S002"
    with pytest.raises(ValueError, match="at least 2 stores"):
        cluster_stores(twins)
