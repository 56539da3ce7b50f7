"""Store attribute upload (POST /api/data/upload-stores) and the cluster recomputation."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from planning.models import DataUpload, Store, StoreCluster
from planning.services.clusters import recompute_clusters

URL = "/api/data/upload-stores"
HEADER = ("store_id,store_name,store_size_sqft,location_tier,fashion_tier,store_format,region,"
          "median_income,avg_weekly_sales_12mo\n")


def store_rows(n, start=1):
    """n stores in three clear groups (premium mall / mainstream / value outlet)."""
    kinds = [
        ("A", "Premium", "Mall", "West", 14000, 140000, 900),
        ("B", "mainstream", "ShoppingCenter", "midwest", 8000, 75000, 500),
        ("C", "VALUE", "outlet", "SOUTHEAST", 4000, 40000, 250),
    ]
    lines = []
    for i in range(start, start + n):
        loc, fashion, fmt, region, size, income, sales = kinds[i % 3]
        lines.append(f"S{i:03d},,{size + i},{loc},{fashion},{fmt},{region},{income + i},{sales + i}\n")
    return "".join(lines)


def upload(client, text, name="stores.csv"):
    return client.post(URL, data={"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def test_upload_creates_stores_and_clusters(planner_api):
    response = upload(planner_api, HEADER + store_rows(12))
    assert response.status_code == 200, response.json()
    report = response.json()
    assert (report["rows_imported"], report["stores_added"], report["stores_updated"]) == (12, 12, 0)
    assert report["stores_total"] == 12
    clusters = report["clusters"]
    assert clusters["computed"] and clusters["k"] == 3
    assert [c["cluster_id"] for c in clusters["clusters"]] == ["fashion_forward", "mainstream",
                                                       "value_conscious"]
    assert sum(c["store_count"] for c in clusters["clusters"]) == 12

    store = Store.objects.get(pk="S002")
    assert store.name == "Store S002"  # empty name filled from the id
    assert (store.fashion_tier, store.store_format, store.region) == (
        "VALUE", "OUTLET", "SOUTHEAST")
    assert Store.objects.get(pk="S001").store_format == "SHOPPING_CENTER"
    assert not Store.objects.filter(cluster__isnull=True).exists()
    premium = StoreCluster.objects.get(pk="fashion_forward")
    assert premium.fashion_tier == 3.0 and premium.store_count == 4
    assert premium.silhouette_score == pytest.approx(clusters["silhouette_score"])
    assert set(Store.objects.filter(cluster=premium).values_list("fashion_tier", flat=True)) == {
        "PREMIUM"}
    assert DataUpload.objects.get(pk=report["upload_id"]).kind == "stores"


def test_reupload_updates_by_store_id(planner_api):
    upload(planner_api, HEADER + store_rows(9))
    text = HEADER + "S001,Flagship,20000,A,Premium,Mall,West,150000,1200\n" + store_rows(3, start=10)
    report = upload(planner_api, text).json()
    assert (report["stores_added"], report["stores_updated"], report["stores_total"]) == (3, 1, 12)
    flagship = Store.objects.get(pk="S001")
    assert (flagship.name, flagship.store_size_sqft, flagship.fashion_tier) == (
        "Flagship", 20000, "PREMIUM")
    assert Store.objects.count() == 12


def test_peer_store_file_imports_as_it_is(planner_api, peer_data):
    with open(peer_data / "store_attributes.csv", "rb") as handle:
        response = planner_api.post(URL, data={"file": handle})
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["stores_added"] == 50
    assert sum(c["store_count"] for c in report["clusters"]["clusters"]) == 50
    store = Store.objects.get(pk="S001")
    assert store.name == "Store S001" and store.fashion_tier == "PREMIUM"
    assert store.avg_weekly_sales_12mo == 924 and store.cluster_id == "fashion_forward"
    assert Store.objects.filter(store_format="SHOPPING_CENTER").exists()


@pytest.mark.parametrize(
    "line, column, fragment",
    [
        ("S100,,0,A,Premium,Mall,West,1,1\n", "store_size_sqft", "whole number > 0"),
        ("S100,,-5,A,Premium,Mall,West,1,1\n", "store_size_sqft", "whole number > 0"),
        ("S100,,100,A,Premium,Mall,West,rich,1\n", "median_income", "got rich"),
        ("S100,,100,A,Premium,Mall,West,1,-1\n", "avg_weekly_sales_12mo", "number >= 0"),
        ("S100,,100,D,Premium,Mall,West,1,1\n", "location_tier", "one of A, B, C"),
        ("S100,,100,A,Luxury,Mall,West,1,1\n", "fashion_tier", "got Luxury"),
        ("S100,,100,A,Premium,Kiosk,West,1,1\n", "store_format", "SHOPPING_CENTER"),
        ("S100,,100,A,Premium,Mall,Moon,1,1\n", "region", "NORTHEAST"),
        ("S 100,,100,A,Premium,Mall,West,1,1\n", "store_id", "not valid"),
        (",,100,A,Premium,Mall,West,1,1\n", "store_id", "empty"),
        ("S001,,100,A,Premium,Mall,West,1,1\n", "store_id", "already appears in row 2"),
    ],
)
def test_bad_store_rejects_whole_file(planner_api, line, column, fragment):
    upload(planner_api, HEADER + store_rows(6))
    before = list(Store.objects.values_list("store_id", "store_size_sqft", "cluster_id"))
    response = upload(planner_api, HEADER + "S001,,999,A,Premium,Mall,West,1,1\n" + line)
    assert response.status_code == 422, response.json()
    [error] = response.json()["errors"]
    assert error["row"] == 3 and error["column"] == column and fragment in error["message"]
    assert list(Store.objects.values_list("store_id", "store_size_sqft", "cluster_id")) == before
    assert DataUpload.objects.count() == 1


def test_missing_columns_are_listed(planner_api):
    response = upload(planner_api, "store_id,region\nS001,West\n")
    assert response.status_code == 422
    missing = {e["column"] for e in response.json()["errors"]}
    assert missing == {"store_size_sqft", "location_tier", "fashion_tier", "store_format",
                       "median_income", "avg_weekly_sales_12mo"}
    assert not Store.objects.exists()


def test_viewer_cannot_upload(viewer_api):
    assert upload(viewer_api, HEADER + store_rows(3)).status_code == 403
    assert not Store.objects.exists()


def test_recompute_without_enough_distinct_stores_changes_nothing(db):
    assert recompute_clusters() == {
        "computed": False, "reason": "There are no stores to cluster.", "clusters": []}
    Store.objects.create(store_id="S001", name="One", store_size_sqft=1, location_tier="A",
                         fashion_tier="PREMIUM", store_format="MALL", region="WEST",
                         median_income=1, avg_weekly_sales_12mo=1)
    result = recompute_clusters()
    assert not result["computed"] and "at least 2" in result["reason"]
    assert not StoreCluster.objects.exists()


def test_fewer_distinct_stores_keep_unused_cluster_rows(planner_api):
    upload(planner_api, HEADER + store_rows(9))
    two_kinds = HEADER + "".join(
        f"S{i:03d},,{4000 if i % 2 else 14000},A,{'Value' if i % 2 else 'Premium'},Mall,West,"
        f"50000,100\n" for i in range(1, 10))
    report = upload(planner_api, two_kinds).json()
    assert report["clusters"]["k"] == 2
    assert StoreCluster.objects.get(pk="value_conscious").store_count == 0
    assert StoreCluster.objects.count() == 3
