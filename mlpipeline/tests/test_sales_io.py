import io
import pandas as pd
import pytest

from mlpipeline.data import DAILY_COLUMNS
from mlpipeline.sales_io import read_sales_csv


def csv_bytes(text: str, bom: bool = False) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8-sig" if bom else "utf-8"))


def test_reads_the_peer_history_as_is(peer_data):
    frame = read_sales_csv(peer_data / "historical_sales_2022_2024.csv")
    assert len(frame) == 164_400
    assert list(frame.columns) == DAILY_COLUMNS + ["category_name"]
    assert set(frame["category"]) == {"womens_dresses", "mens_shirts", "accessories"}
    assert set(frame["category_name"]) == {"Women's Dresses", "Men's Shirts", "Accessories"}
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert frame["quantity_sold"].dtype == "int64"
    assert frame["date"].min() == pd.Timestamp("2022-01-01")
    assert frame["date"].max() == pd.Timestamp("2024-12-31")


def test_any_column_order_extra_columns_and_bom():
    text = (
        "note,quantity_sold,store_id,date,category\n"
        "x,5,S001,2024-03-04,Women's Dresses\n"
        "y,0,S002,2024-03-04,Men’s Shirts\n"
    )
    frame = read_sales_csv(csv_bytes(text, bom=True))
    assert list(frame.columns) == DAILY_COLUMNS + ["category_name"]
    assert frame["category"].tolist() == ["womens_dresses", "mens_shirts"]
    assert frame["quantity_sold"].tolist() == [5, 0]
    assert frame["store_id"].tolist() == ["S001", "S002"]
    assert frame["revenue"].isna().all()
    assert frame["date"].tolist() == [pd.Timestamp("2024-03-04")] * 2


def test_revenue_is_kept_when_present():
    text = "date,category,store_id,quantity_sold,revenue\n2024-03-04,Accessories,S001,3,29.5\n"
    assert read_sales_csv(csv_bytes(text))["revenue"].tolist() == [29.5]


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="store_id"):
        read_sales_csv(csv_bytes("date,category,quantity_sold\n2024-03-04,Accessories,3\n"))


def test_negative_quantity_is_rejected():
    text = "date,category,store_id,quantity_sold\n2024-03-04,Accessories,S001,-3\n"
    with pytest.raises(ValueError, match="negative"):
        read_sales_csv(csv_bytes(text))
