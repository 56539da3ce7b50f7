"""Seeded synthetic stores and daily sales with known structure (SPEC §11).

Expected units of store ``s``, category ``c`` on day ``d``::

    mu = base_c * scale_s * affinity_c[tier_s] * trend_c(d) * season_c(doy) * weekday_c(dow)
         * promo_c(d) * scenario

- ``base_c``: yearly mean daily units of a mainstream 8,000 sqft store at TREND_ORIGIN.
- ``scale_s`` (store effect): fashion-tier level x (size / 8,000)^0.25 x a lognormal factor keyed
  on (seed, store_id), so a store keeps its effect whatever other stores are generated.
- ``affinity_c`` (cluster effect): how much each fashion tier favours the category.
- ``trend_c``: ``exp(growth_c * years since TREND_ORIGIN)``; a fixed origin makes every window,
  including a future season, continue the same curve.
- ``season_c``: ``exp`` of circular (von Mises) bumps over the day of year, mean 1 over a year
  (dresses: strong spring peak; shirts: mild spring and autumn; accessories: spring and December).
- ``weekday_c``: Monday..Sunday multipliers, mean 1, peaking on Saturday.
- ``promo_c``: chain-wide events, one at a random time in each fifth of a year (3-7 days,
  15-35% off, lift 1 + 1.6 x discount).

Observed units are negative binomial (a gamma-Poisson mixture) with mean ``mu``; revenue is units x
store price x (1 - discount) with 2% price noise. Everything is vectorised over (day, store).
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from mlpipeline.data import (
    DAILY_COLUMNS,
    FASHION_TIERS,
    STORE_COLUMNS,
    category_slug,
    normalise_enum,
)

CATEGORIES: list[tuple[str, str]] = [
    ("womens_dresses", "Women's Dresses"),
    ("mens_shirts", "Men's Shirts"),
    ("accessories", "Accessories"),
]
HISTORY_START = date(2022, 1, 1)
HISTORY_END = date(2024, 12, 31)
TREND_ORIGIN = date(2022, 1, 1)
SCENARIO_FACTORS: dict[str, float] = {
    "normal": 1.0,
    "high": 1.3,
    "low": 0.8,
    "underperform": 0.55,
    "severe": 0.1,
}

_TIER_LEVEL = {"PREMIUM": 1.2, "MAINSTREAM": 1.0, "VALUE": 0.7}
_TIER_PRICE = {"PREMIUM": 1.25, "MAINSTREAM": 1.0, "VALUE": 0.75}
_STORE_SIGMA = 0.12
_PROMOS_PER_YEAR = 5.0
_HISTORY_STREAM = 0
_SEASON_STREAM = 1


@dataclass(frozen=True)
class CategoryProfile:
    """Known demand structure of one category."""

    base: float  # yearly mean daily units, mainstream 8,000 sqft store, at TREND_ORIGIN
    growth: float  # log growth per year
    price: float  # mainstream shelf price
    bumps: tuple[tuple[float, float, float], ...]  # (peak day of year, log amplitude, width days)
    weekday: tuple[float, ...]  # Monday..Sunday, normalised to mean 1 when used
    affinity: dict[str, float]  # fashion tier -> level multiplier (cluster effect)
    dispersion: float  # negative-binomial r: variance = mu + mu^2 / r


PROFILES: dict[str, CategoryProfile] = {
    "womens_dresses": CategoryProfile(
        base=42.0,
        growth=0.07,
        price=58.0,
        bumps=((110, 1.0, 30), (185, 0.35, 25), (352, 0.25, 10)),
        weekday=(0.72, 0.80, 0.90, 0.98, 1.16, 1.40, 1.04),
        affinity={"PREMIUM": 1.15, "MAINSTREAM": 1.0, "VALUE": 0.8},
        dispersion=25.0,
    ),
    "mens_shirts": CategoryProfile(
        base=29.0,
        growth=0.03,
        price=36.0,
        bumps=((120, 0.25, 40), (255, 0.2, 35), (345, 0.12, 12)),
        weekday=(0.90, 0.92, 0.96, 0.98, 1.06, 1.14, 1.04),
        affinity={"PREMIUM": 1.0, "MAINSTREAM": 1.0, "VALUE": 1.05},
        dispersion=40.0,
    ),
    "accessories": CategoryProfile(
        base=36.0,
        growth=0.05,
        price=24.0,
        bumps=((105, 0.3, 35), (330, 0.4, 10), (352, 1.3, 12)),
        weekday=(0.62, 0.72, 0.82, 0.92, 1.26, 1.46, 1.20),
        affinity={"PREMIUM": 1.1, "MAINSTREAM": 1.0, "VALUE": 0.9},
        dispersion=20.0,
    ),
}

_NAME_STEMS = ("Ash", "Brook", "Cedar", "Elm", "Fair", "Glen", "Hill", "Lake",
               "Maple", "Oak", "Pine", "River", "Stone", "West", "North", "Spring")
_NAME_ENDS = ("field", "ford", "haven", "ton", "wood", "ville", "dale", "port")


@dataclass
class SeasonTruth:
    """Held-out season actuals: ``daily`` has date, store_id, quantity_sold; ``expected_weekly``
    is the noise-free mean of each week (scenario applied)."""

    category: str
    season_start: date
    weeks: int
    scenario: str
    factor: float
    daily: pd.DataFrame
    weekly_totals: list[int]
    expected_weekly: list[float]
    total: int


def _key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def category_name(category_id: str) -> str:
    """Human name of a category id ("womens_dresses" -> "Women's Dresses")."""
    return dict(CATEGORIES).get(category_id, category_id.replace("_", " ").title())


def category_profile(category: str) -> CategoryProfile:
    """Profile of a known category; any other id gets a stable profile derived from its name."""
    slug = category_slug(category)
    if slug in PROFILES:
        return PROFILES[slug]
    rng = np.random.default_rng(_key(slug))
    mix = rng.uniform(0.0, 1.0)
    weekday = mix * np.array(PROFILES["womens_dresses"].weekday) + (1 - mix) * np.array(
        PROFILES["mens_shirts"].weekday
    )
    return CategoryProfile(
        base=float(rng.uniform(20.0, 45.0)),
        growth=float(rng.uniform(0.0, 0.07)),
        price=float(rng.uniform(15.0, 80.0)),
        bumps=((float(rng.uniform(90, 130)), float(rng.uniform(0.2, 0.9)), 30.0),
               (352.0, float(rng.uniform(0.0, 0.6)), 12.0)),
        weekday=tuple(float(w) for w in weekday),
        affinity={"PREMIUM": float(rng.uniform(0.9, 1.2)), "MAINSTREAM": 1.0,
                  "VALUE": float(rng.uniform(0.8, 1.1))},
        dispersion=30.0,
    )


def _seasonality(profile: CategoryProfile, doy: np.ndarray) -> np.ndarray:
    """Multiplicative yearly curve at the given days of year, normalised to mean 1 over a year."""

    def log_curve(x: np.ndarray) -> np.ndarray:
        out = np.zeros(x.shape, dtype=float)
        for centre, amplitude, width in profile.bumps:
            kappa = (365.25 / (2 * np.pi * width)) ** 2
            out += amplitude * np.exp(kappa * (np.cos(2 * np.pi * (x - centre) / 365.25) - 1))
        return out

    norm = np.exp(log_curve(np.arange(1, 366, dtype=float))).mean()
    return np.exp(log_curve(doy.astype(float))) / norm


def _fashion_tiers(stores: pd.DataFrame) -> list[str]:
    """Fashion tiers as enum values ("Premium" -> "PREMIUM"); unknown values raise ValueError."""
    tiers = [normalise_enum(t, FASHION_TIERS) for t in stores["fashion_tier"]]
    if None in tiers:
        raise ValueError(f"unknown fashion_tier in {sorted(set(stores['fashion_tier']))}")
    return tiers


def _store_scale(stores: pd.DataFrame, tiers: list[str], seed: int) -> np.ndarray:
    """Store effect: fashion-tier level x size factor x lognormal factor keyed on (seed, store)."""
    level = np.array([_TIER_LEVEL[t] for t in tiers])
    size = (stores["store_size_sqft"].to_numpy(dtype=float) / 8000.0) ** 0.25
    own = np.array([
        np.random.default_rng([seed, _key(str(sid))]).normal(0.0, _STORE_SIGMA)
        for sid in stores["store_id"]
    ])
    return level * size * np.exp(own)


def _simulate(
    stores: pd.DataFrame,
    category: str,
    days: np.ndarray,
    seed: int,
    stream: Sequence[int],
    factor: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate one category over ``days`` (datetime64[D]).

    Returns (units, revenue, mu), each of shape (day, store)."""
    profile = category_profile(category)
    rng = np.random.default_rng([seed, _key(category_slug(category)), *stream])
    n_days = len(days)
    lift = np.ones(n_days)
    discount = np.zeros(n_days)
    slot = 365.25 / _PROMOS_PER_YEAR  # one promotion at a random time in each slot
    n_promos = int(np.ceil(n_days / slot))
    starts = (np.arange(n_promos) * slot + rng.uniform(0, slot, n_promos)).astype(int)
    for first, length, off in zip(
        starts, rng.integers(3, 8, n_promos), rng.uniform(0.15, 0.35, n_promos)
    ):
        discount[first:first + length] = off
        lift[first:first + length] = 1.0 + 1.6 * off

    daily = _daily_shape(profile, days) * lift * factor
    mu = daily[:, None] * _per_store(stores, profile, seed)[None, :]
    tiers = _fashion_tiers(stores)

    r = profile.dispersion
    units = rng.poisson(rng.gamma(r, mu / r))
    price = profile.price * np.array([_TIER_PRICE[t] for t in tiers])
    noise = rng.normal(1.0, 0.02, units.shape)
    revenue = np.round(units * price[None, :] * (1.0 - discount)[:, None] * noise, 2)
    return units.astype("int64"), revenue, mu


def _daily_shape(profile: CategoryProfile, days: np.ndarray) -> np.ndarray:
    """base x trend x season x weekday per day, before store effects and promotions."""
    day_num = days.astype("int64")
    years = (day_num - np.datetime64(TREND_ORIGIN, "D").astype("int64")) / 365.25
    doy = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype("int64") + 1
    weekday = np.asarray(profile.weekday) / np.mean(profile.weekday)
    return (profile.base * np.exp(profile.growth * years) * _seasonality(profile, doy)
            * weekday[(day_num + 3) % 7])


def _per_store(stores: pd.DataFrame, profile: CategoryProfile, seed: int) -> np.ndarray:
    tiers = _fashion_tiers(stores)
    return _store_scale(stores, tiers, seed) * np.array([profile.affinity[t] for t in tiers])


def expected_daily_units(
    category: str, stores: pd.DataFrame | None = None, start: date = HISTORY_START,
    end: date = HISTORY_END, seed: int = 42,
) -> pd.Series:
    """The history's noise-free expected chain-wide units per day, with the promotions at their
    average lift (their timing is random, so no forecast can know it): the best a forecast of
    the mean could do on ``generate_daily_sales``' data (the accuracy table's known-truth row)."""
    if stores is None:
        stores = generate_stores(seed=seed)
    profile = category_profile(category_slug(category))
    days = _day_range(start, end)
    # one promotion per slot, 3-7 days (mean 5), 15-35% off (mean 25%), lift 1 + 1.6 x discount
    average_lift = 1 + 5 / (365.25 / _PROMOS_PER_YEAR) * 1.6 * 0.25
    units = _daily_shape(profile, days) * average_lift * _per_store(stores, profile, seed).sum()
    return pd.Series(units, index=pd.DatetimeIndex(days.astype("datetime64[us]")))


def _day_range(start: date, end: date) -> np.ndarray:
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)


def generate_daily_sales(
    stores: pd.DataFrame | None = None,
    start: date = HISTORY_START,
    end: date = HISTORY_END,
    seed: int = 42,
    categories: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Daily sales frame (DAILY_COLUMNS) for every day in [start, end], store and category, sorted
    by date, store_id, category. ``categories`` are ids or names (default: CATEGORIES)."""
    if stores is None:
        stores = generate_stores(seed=seed)
    slugs = [category_slug(c) for c in categories] if categories is not None else [
        cid for cid, _ in CATEGORIES
    ]
    days = _day_range(start, end)
    sims = [_simulate(stores, slug, days, seed, (_HISTORY_STREAM,)) for slug in slugs]
    units = np.stack([s[0] for s in sims], axis=2)  # (day, store, category)
    revenue = np.stack([s[1] for s in sims], axis=2)
    n_days, n_stores, n_cats = units.shape
    return pd.DataFrame({
        "date": np.repeat(days.astype("datetime64[us]"), n_stores * n_cats),
        "store_id": np.tile(np.repeat(stores["store_id"].to_numpy(dtype=object), n_cats), n_days),
        "category": np.tile(np.array(slugs, dtype=object), n_days * n_stores),
        "quantity_sold": units.ravel(),
        "revenue": revenue.ravel(),
    })[DAILY_COLUMNS]


def _store_attributes(n_stores: int, seed: int) -> pd.DataFrame:
    """Three groups of stores (premium / mainstream / value, 30/40/30%) without sales."""
    if not 1 <= n_stores <= 999:
        raise ValueError("n_stores must be between 1 and 999")
    rng = np.random.default_rng(seed)
    n_edge = round(0.3 * n_stores)
    groups = [
        # fashion tier, count, location tier probs (A, B, C), formats (MALL, STANDALONE,
        # SHOPPING_CENTER, OUTLET) probs, size range, income range
        ("PREMIUM", n_edge, (1.0, 0.0, 0.0), (0.75, 0.0, 0.25, 0.0), (11000, 15000),
         (120000, 150000)),
        ("MAINSTREAM", n_stores - 2 * n_edge, (0.05, 0.90, 0.05), (0.35, 0.25, 0.40, 0.0),
         (6500, 9500), (62000, 88000)),
        ("VALUE", n_edge, (0.0, 0.0, 1.0), (0.0, 0.65, 0.10, 0.25), (3500, 5500), (36000, 50000)),
    ]
    rows: dict[str, list] = {c: [] for c in (
        "store_size_sqft", "location_tier", "fashion_tier", "store_format", "region", "median_income"
    )}
    for tier, count, location_p, format_p, size, income in groups:
        rows["fashion_tier"] += [tier] * count
        rows["location_tier"] += rng.choice(["A", "B", "C"], count, p=location_p).tolist()
        rows["store_format"] += rng.choice(
            ["MALL", "STANDALONE", "SHOPPING_CENTER", "OUTLET"], count, p=format_p
        ).tolist()
        rows["region"] += rng.choice(["NORTHEAST", "SOUTHEAST", "MIDWEST", "WEST"], count).tolist()
        rows["store_size_sqft"] += np.round(rng.uniform(*size, count), -2).astype(int).tolist()
        rows["median_income"] += np.round(rng.uniform(*income, count), -2).astype(int).tolist()
    names = [stem + end for stem in _NAME_STEMS for end in _NAME_ENDS]
    order = rng.permutation(len(names))
    frame = pd.DataFrame({
        "store_id": [f"S{i:03d}" for i in range(1, n_stores + 1)],
        "store_name": [f"Store {i:03d} – {names[order[(i - 1) % len(names)]]}"
                       for i in range(1, n_stores + 1)],
        **rows,
    })
    frame["avg_weekly_sales_12mo"] = 0
    return frame[STORE_COLUMNS]


def generate_stores(n_stores: int = 50, seed: int = 42) -> pd.DataFrame:
    """Store frame (STORE_COLUMNS) S001..: ~30% premium mall A-tier high income, ~40% mainstream,
    ~30% value standalone/outlet C-tier. ``avg_weekly_sales_12mo`` is the store's units over all
    CATEGORIES in the last 52 weeks of ``generate_daily_sales(stores, seed=seed)``, divided by
    52 and rounded."""
    stores = _store_attributes(n_stores, seed)
    days = _day_range(HISTORY_START, HISTORY_END)
    last_year = np.zeros(n_stores)
    for cid, _ in CATEGORIES:
        units = _simulate(stores, cid, days, seed, (_HISTORY_STREAM,))[0]
        last_year += units[-52 * 7:].sum(axis=0)
    stores["avg_weekly_sales_12mo"] = np.round(last_year / 52).astype("int64")
    return stores


def generate_future_season(
    stores: pd.DataFrame | None,
    category: str,
    season_start: date,
    weeks: int = 12,
    scenario: str = "normal",
    seed: int = 42,
) -> SeasonTruth:
    """Actuals of one category for ``weeks`` weeks from ``season_start``: the history process
    continued (same trend, seasonality, effects; fresh noise and promotions), with the mean scaled
    by SCENARIO_FACTORS[scenario]."""
    if scenario not in SCENARIO_FACTORS:
        raise ValueError(
            f"unknown scenario {scenario!r}; expected one of {sorted(SCENARIO_FACTORS)}"
        )
    if weeks < 1:
        raise ValueError("weeks must be >= 1")
    if stores is None:
        stores = generate_stores(seed=seed)
    slug = category_slug(category)
    factor = SCENARIO_FACTORS[scenario]
    days = _day_range(season_start, season_start + timedelta(days=7 * weeks - 1))
    units, _, mu = _simulate(
        stores, slug, days, seed, (_SEASON_STREAM, season_start.toordinal()), factor
    )
    n_stores = len(stores)
    daily = pd.DataFrame({
        "date": np.repeat(days.astype("datetime64[us]"), n_stores),
        "store_id": np.tile(stores["store_id"].to_numpy(dtype=object), len(days)),
        "quantity_sold": units.ravel(),
    })
    weekly = units.sum(axis=1).reshape(weeks, 7).sum(axis=1)
    return SeasonTruth(
        category=slug,
        season_start=season_start,
        weeks=weeks,
        scenario=scenario,
        factor=factor,
        daily=daily,
        weekly_totals=[int(w) for w in weekly],
        expected_weekly=[float(w) for w in mu.sum(axis=1).reshape(weeks, 7).sum(axis=1)],
        total=int(weekly.sum()),
    )


def write_history_csv(
    path: str | Path,
    daily: pd.DataFrame | None = None,
    stores: pd.DataFrame | None = None,
    seed: int = 42,
) -> Path:
    """Write the historical sales CSV of SPEC §5 (``date, category, store_id, quantity_sold,
    revenue``; category as its human name). Generates the default history when ``daily`` is None."""
    if daily is None:
        daily = generate_daily_sales(stores, seed=seed)
    names = {cid: category_name(cid) for cid in daily["category"].unique()}
    out = daily.assign(category=daily["category"].map(names))
    path = Path(path)
    out[["date", "category", "store_id", "quantity_sold", "revenue"]].to_csv(
        path, index=False, date_format="%Y-%m-%d", float_format="%.2f"
    )
    return path


def write_stores_csv(path: str | Path, stores: pd.DataFrame) -> Path:
    """Write the store attribute CSV (STORE_COLUMNS)."""
    path = Path(path)
    stores[STORE_COLUMNS].to_csv(path, index=False)
    return path


def write_weekly_actuals_csvs(folder: str | Path, truth: SeasonTruth) -> list[Path]:
    """Write ``actuals_week_NN.csv`` (daily ``date, store_id, quantity_sold``) for each season
    week, like the peer scenarios. Returns the paths in week order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    start = pd.Timestamp(truth.season_start)
    week = (truth.daily["date"] - start).dt.days // 7 + 1
    paths = []
    for n in range(1, truth.weeks + 1):
        path = folder / f"actuals_week_{n:02d}.csv"
        truth.daily[week == n][["date", "store_id", "quantity_sold"]].to_csv(
            path, index=False, date_format="%Y-%m-%d"
        )
        paths.append(path)
    return paths
