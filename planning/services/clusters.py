"""Store clusters from the stores' attributes (SPEC §4 Clustering), kept in the database.

Cluster rows are updated, never deleted: past allocations point at them. A cluster the new
clustering does not produce (fewer than three distinct stores) keeps its row with no stores.
"""
import pandas as pd
from django.db import transaction

from mlpipeline.clustering import FEATURES, cluster_stores
from planning.models import Store, StoreCluster


def recompute_clusters() -> dict:
    """Cluster all stores and save the clusters and each store's cluster in one transaction.

    Returns ``{"computed", "k", "silhouette_score", "clusters": [...]}``; when the stores cannot
    be clustered (fewer than two with different attributes) nothing changes and ``reason`` says
    why.
    """
    stores = pd.DataFrame(list(Store.objects.values("store_id", *FEATURES)))
    if stores.empty:
        return {"computed": False, "reason": "There are no stores to cluster.", "clusters": []}
    try:
        result = cluster_stores(stores)
    except ValueError as exc:
        return {"computed": False, "reason": str(exc), "clusters": []}

    with transaction.atomic():
        for cluster in result.clusters:
            StoreCluster.objects.update_or_create(
                id=cluster.cluster_id,
                defaults={
                    "name": cluster.name,
                    "fashion_tier": cluster.mean_fashion_tier,
                    "store_count": cluster.store_count,
                    "silhouette_score": result.silhouette,
                },
            )
            Store.objects.filter(store_id__in=cluster.store_ids).update(cluster=cluster.cluster_id)
        produced = [cluster.cluster_id for cluster in result.clusters]
        StoreCluster.objects.exclude(id__in=produced).update(
            store_count=0, silhouette_score=result.silhouette
        )
    return {
        "computed": True,
        "k": result.k,
        "silhouette_score": result.silhouette,
        "clusters": [
            {
                "cluster_id": cluster.cluster_id,
                "cluster_name": cluster.name,
                "fashion_tier": round(cluster.mean_fashion_tier, 3),
                "store_count": cluster.store_count,
            }
            for cluster in result.clusters
        ],
    }
