"""Shared data conventions of the engine.

A *daily sales frame* has the columns of DAILY_COLUMNS: ``date`` (datetime64, day precision),
``store_id`` (str, e.g. "S001"), ``category`` (category id slug, e.g. "womens_dresses"),
``quantity_sold`` (int >= 0) and ``revenue`` (float, may be NaN).
A *store frame* has the columns of STORE_COLUMNS.
"""
import re
import unicodedata

DAILY_COLUMNS = ["date", "store_id", "category", "quantity_sold", "revenue"]
STORE_COLUMNS = [
    "store_id",
    "store_name",
    "store_size_sqft",
    "location_tier",
    "fashion_tier",
    "store_format",
    "region",
    "median_income",
    "avg_weekly_sales_12mo",
]

LOCATION_TIERS = {"A": 3, "B": 2, "C": 1}
FASHION_TIERS = {"PREMIUM": 3, "MAINSTREAM": 2, "VALUE": 1}
STORE_FORMATS = {"MALL": 4, "STANDALONE": 3, "SHOPPING_CENTER": 2, "OUTLET": 1}
REGIONS = {"NORTHEAST": 1, "SOUTHEAST": 2, "MIDWEST": 3, "WEST": 4}


def category_slug(name: str) -> str:
    """"Women's Dresses" -> "womens_dresses": lower case, apostrophes dropped, other runs of
    non-alphanumerics become one underscore."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"['\u2019`]", "", text.lower())
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def normalise_enum(value: str, allowed) -> str | None:
    """Case- and separator-insensitive enum match: "ShoppingCenter", "shopping_center",
    "Shopping Center" -> "SHOPPING_CENTER". Returns None when nothing matches."""
    key = re.sub(r"[^A-Za-z0-9]", "", str(value)).upper()
    for option in allowed:
        if re.sub(r"[^A-Za-z0-9]", "", option).upper() == key:
            return option
    return None
