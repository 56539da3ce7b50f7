"""Store clustering (SPEC §4 Clustering).

K-means (k=3, k-means++, n_init=10, random_state=42) on seven standardised store features, so a
category forecast can be split to groups of stores that sell alike. Clusters are named by their
mean fashion-tier code, highest first: fashion_forward, mainstream, value_conscious.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from mlpipeline.data import FASHION_TIERS, LOCATION_TIERS, REGIONS, STORE_FORMATS, normalise_enum

CLUSTER_IDS = ("fashion_forward", "mainstream", "value_conscious")
CLUSTER_NAMES = {
    "fashion_forward": "Fashion forward",
    "mainstream": "Mainstream",
    "value_conscious": "Value conscious",
}
NUMERIC_FEATURES = ("avg_weekly_sales_12mo", "store_size_sqft", "median_income")
ENUM_FEATURES = {
    "location_tier": LOCATION_TIERS,
    "fashion_tier": FASHION_TIERS,
    "store_format": STORE_FORMATS,
    "region": REGIONS,
}
FEATURES = NUMERIC_FEATURES + tuple(ENUM_FEATURES)
MAX_CLUSTERS = 3
MIN_DISTINCT_STORES = 2


@dataclass(frozen=True)
class ClusterSummary:
    cluster_id: str
    name: str
    mean_fashion_tier: float
    store_count: int
    store_ids: list[str]
    feature_means: dict[str, float]  # raw (unstandardised) means; enum features as codes


@dataclass(frozen=True)
class ClusteringResult:
    assignments: dict[str, str]  # store_id -> cluster_id
    clusters: list[ClusterSummary]  # fashion_forward first
    silhouette: float | None  # None when undefined (every store its own cluster)
    k: int


def store_features(stores: pd.DataFrame) -> pd.DataFrame:
    """The seven clustering features, indexed by store_id; enums mapped to their codes
    (location A=3..C=1, fashion PREMIUM=3..VALUE=1, format MALL=4..OUTLET=1, region NORTHEAST=1..WEST=4)."""
    missing = [c for c in ("store_id", *FEATURES) if c not in stores.columns]
    if missing:
        raise ValueError(f"store frame is missing columns: {', '.join(missing)}")
    if stores["store_id"].duplicated().any():
        raise ValueError("store ids must be unique")
    frame = stores.set_index(stores["store_id"].astype(str)).sort_index()
    features = pd.DataFrame(index=frame.index)
    for column in NUMERIC_FEATURES:
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            raise ValueError(f"{column} must be numeric for every store")
        features[column] = values.astype(float)
    for column, codes in ENUM_FEATURES.items():
        mapped = frame[column].map(lambda value, codes=codes: codes.get(normalise_enum(value, codes)))
        if mapped.isna().any():
            bad = frame.loc[mapped.isna(), column].iloc[0]
            raise ValueError(f"{column}: unknown value {bad!r}, expected one of {', '.join(codes)}")
        features[column] = mapped.astype(float)
    features.index.name = "store_id"
    return features


def cluster_stores(stores: pd.DataFrame) -> ClusteringResult:
    """K-means on the standardised features (z-scores, so sales in units and income in dollars
    weigh the same as tier codes).

    k = min(3, number of stores with distinct features); fewer than 2 distinct stores raises
    ValueError, since one group carries no information for the split. With k < 3 the first k names
    are used (e.g. fashion_forward, mainstream). Rows are sorted by store_id before fitting, so the
    result does not depend on the frame's row order. Naming ties (equal mean fashion tier) are
    broken by higher mean avg_weekly_sales_12mo. The silhouette score is None when it is undefined
    (k equals the number of stores).
    """
    features = store_features(stores)
    matrix = StandardScaler().fit_transform(features.to_numpy())
    distinct = len(np.unique(matrix, axis=0))
    if distinct < MIN_DISTINCT_STORES:
        raise ValueError(
            f"clustering needs at least {MIN_DISTINCT_STORES} stores with different attributes, "
            f"got {len(features)} store(s) with {distinct} distinct profile(s)"
        )
    k = min(MAX_CLUSTERS, distinct)
    labels = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=42).fit_predict(matrix)

    means = features.groupby(labels).mean()
    order = sorted(means.index, key=lambda label: (
        -means.at[label, "fashion_tier"], -means.at[label, "avg_weekly_sales_12mo"], label))
    cluster_of_label = {label: CLUSTER_IDS[rank] for rank, label in enumerate(order)}

    assignments = {store: cluster_of_label[label] for store, label in zip(features.index, labels)}
    clusters = []
    for label in order:
        cluster_id = cluster_of_label[label]
        members = [store for store, lab in zip(features.index, labels) if lab == label]
        clusters.append(ClusterSummary(
            cluster_id=cluster_id,
            name=CLUSTER_NAMES[cluster_id],
            mean_fashion_tier=float(means.at[label, "fashion_tier"]),
            store_count=len(members),
            store_ids=members,
            feature_means={name: float(means.at[label, name]) for name in FEATURES},
        ))
    defined = 2 <= len(order) < len(features)
    silhouette = float(silhouette_score(matrix, labels)) if defined else None
    return ClusteringResult(assignments=assignments, clusters=clusters, silhouette=silhouette, k=k)
