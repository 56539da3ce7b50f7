"""Regenerate fixtures/{clusters,stores,categories}.json from the seeded synthetic generator.

The fixtures are committed; run this only when the generator changes. Store attributes,
avg_weekly_sales_12mo and the K-means clusters all come from the same seed, so the demo history
that `load_history --synthetic` creates matches them."""
import json

from django.conf import settings
from django.core.management.base import BaseCommand

from mlpipeline import synthetic
from mlpipeline.clustering import cluster_stores


class Command(BaseCommand):
    help = "Regenerate the demo fixtures (stores, clusters, categories) from the synthetic generator."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, seed, **options):
        stores = synthetic.generate_stores(seed=seed)
        clustering = cluster_stores(stores)
        folder = settings.BASE_DIR / "fixtures"
        folder.mkdir(exist_ok=True)

        clusters = [
            {
                "model": "planning.storecluster",
                "pk": c.cluster_id,
                "fields": {
                    "name": c.name,
                    "fashion_tier": round(c.mean_fashion_tier, 4),
                    "store_count": c.store_count,
                    "silhouette_score": round(clustering.silhouette, 4),
                    "updated_at": "2025-01-01T00:00:00Z",
                },
            }
            for c in clustering.clusters
        ]
        store_rows = [
            {
                "model": "planning.store",
                "pk": row.store_id,
                "fields": {
                    "name": row.store_name,
                    "cluster": clustering.assignments[row.store_id],
                    "store_size_sqft": int(row.store_size_sqft),
                    "location_tier": row.location_tier,
                    "fashion_tier": row.fashion_tier,
                    "store_format": row.store_format,
                    "region": row.region,
                    "median_income": int(row.median_income),
                    "avg_weekly_sales_12mo": float(row.avg_weekly_sales_12mo),
                },
            }
            for row in stores.itertuples(index=False)
        ]
        categories = [
            {
                "model": "planning.category",
                "pk": category_id,
                "fields": {"name": name, "data_version": 0, "created_at": "2025-01-01T00:00:00Z"},
            }
            for category_id, name in synthetic.CATEGORIES
        ]
        for name, rows in (("clusters", clusters), ("stores", store_rows), ("categories", categories)):
            path = folder / f"{name}.json"
            path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            self.stdout.write(f"wrote {path} ({len(rows)} rows)")
        sizes = ", ".join(f"{c.cluster_id} {c.store_count}" for c in clustering.clusters)
        self.stdout.write(f"clusters: {sizes}; silhouette {clustering.silhouette:.3f}")
