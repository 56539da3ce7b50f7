"""The demo seed: fixtures plus the synthetic history give 50 stores in 3 clusters, 3 categories
and three years of sales, identically every time."""
import hashlib
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Sum

from mlpipeline import synthetic
from mlpipeline.clustering import cluster_stores
from planning.models import Category, HistoricalSale, Store, StoreCluster

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


def seed(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("loaddata", "clusters", "stores", "categories", verbosity=0)
    call_command("load_history", "--synthetic", stdout=open(tmp_path / "out.txt", "w"))


@pytest.mark.django_db
def test_seed_counts(tmp_path, settings):
    seed(tmp_path, settings)
    assert Store.objects.count() == 50
    sizes = dict(StoreCluster.objects.annotate(n=Count("stores")).values_list("id", "n"))
    assert sizes == {"fashion_forward": 15, "mainstream": 20, "value_conscious": 15}
    assert set(Category.objects.values_list("id", flat=True)) == {
        "womens_dresses",
        "mens_shirts",
        "accessories",
    }
    assert HistoricalSale.objects.count() == 3 * 50 * 1096  # 2022-01-01 .. 2024-12-31
    assert not HistoricalSale.objects.filter(units__lt=0).exists()


@pytest.mark.django_db
def test_seed_is_deterministic(tmp_path, settings):
    seed(tmp_path, settings)
    first = hashlib.sha256((tmp_path / "demo_history.csv").read_bytes()).hexdigest()
    totals = dict(HistoricalSale.objects.values_list("category").annotate(Sum("units")))
    # Seeding again rewrites the same file and replaces rows instead of duplicating them.
    seed(tmp_path, settings)
    assert hashlib.sha256((tmp_path / "demo_history.csv").read_bytes()).hexdigest() == first
    assert dict(HistoricalSale.objects.values_list("category").annotate(Sum("units"))) == totals
    assert HistoricalSale.objects.count() == 3 * 50 * 1096


def test_committed_fixtures_match_the_generator():
    """fixtures/ is what `manage.py build_fixtures` makes from seed 42 (stores and clusters)."""
    stores = synthetic.generate_stores(seed=42)
    clustering = cluster_stores(stores)
    rows = {r["pk"]: r["fields"] for r in json.loads((FIXTURES / "stores.json").read_text())}
    assert set(rows) == set(stores["store_id"])
    for store in stores.itertuples(index=False):
        fields = rows[store.store_id]
        assert fields["cluster"] == clustering.assignments[store.store_id]
        assert fields["store_size_sqft"] == store.store_size_sqft
        assert fields["avg_weekly_sales_12mo"] == float(store.avg_weekly_sales_12mo)
