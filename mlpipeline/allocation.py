"""Allocation math (SPEC §4): cluster split, store factors, manufacturing quantity, initial
allocation vs DC holdback, replenishment, variance and markdown (the re-forecast: mlpipeline.inseason).

Forecast once, allocate with math: every number here is plain arithmetic on the category
forecast and the store history, exact where a planner would check it by hand. Inputs that are
floats are read through their decimal text (``str(0.55)`` -> 0.55 exactly), so 0.60 - 0.55 is
0.05 and not 0.04999..., and thresholds like "exactly 0.20 does not trigger" hold.
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import NamedTuple, TypeVar

import pandas as pd

from mlpipeline import limits
from mlpipeline.clustering import CLUSTER_IDS

K = TypeVar("K", bound=Hashable)

HISTORICAL_WEIGHT = 0.7  # store factor = 0.7 * historical share + 0.3 * attribute share
ATTRIBUTE_WEIGHT = 0.3
ALLOCATION_COLUMNS = ("store_id", "cluster", "historical_units", "store_size_sqft", "median_income")

REPLENISHMENT_STRATEGIES = ("none", "weekly", "bi-weekly")
DEFAULT_SAFETY_STOCK = 0.20
NO_REPLENISHMENT_SAFETY_STOCK = 0.25
SAFETY_STOCK_RANGE = tuple(Decimal(str(bound)) for bound in limits.SAFETY_STOCK_RANGE)

VARIANCE_THRESHOLD = 0.20
EMERGENCY_VARIANCE = Fraction(3, 10)

MARKDOWN_TARGET = 0.60
MARKDOWN_ELASTICITY = limits.DEFAULT_ELASTICITY
ELASTICITY_RANGE = tuple(Decimal(str(bound)) for bound in limits.ELASTICITY_RANGE)
MARKDOWN_CAP = Decimal(str(limits.MAX_MARKDOWN))
MARKDOWN_STEP = Decimal("0.05")
LIFT_PER_MARKDOWN = Decimal("1.5")


def _exact(value: float | int | Decimal | Fraction) -> Fraction:
    """Exact rational of a number as written: floats go through their shortest decimal text."""
    if isinstance(value, Fraction):
        return value
    try:
        return Fraction(str(value))
    except ValueError:
        raise ValueError(f"not a finite number: {value!r}") from None


def _decimal(value: float | int | Decimal) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _round_half_up(value: Fraction) -> int:
    """Nearest integer, halves away from zero for the non-negative quantities used here."""
    return math.floor(value + Fraction(1, 2))


def _non_negative(name: str, value: float | int) -> Fraction:
    exact = _exact(value)
    if exact < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return exact


# --- rounding and shares -------------------------------------------------------------------


def split_by_shares(total: int, shares: Mapping[K, float]) -> dict[K, int]:
    """Largest-remainder split of ``total`` whole units in proportion to ``shares``.

    quota_k = total * share_k / sum(shares); each key gets floor(quota_k), and the units left
    over go one each to the largest remainders. The result sums exactly to ``total``, is never
    negative, and a zero share never gets a unit. Shares need not sum to 1. Ties are broken by the
    larger share, then by the key's position in ``shares`` (so callers pass keys in a stable
    order, e.g. sorted store ids). ``total`` 0 gives all zeros; a positive total over shares that
    are all zero (or empty) raises ValueError.
    """
    if isinstance(total, bool) or int(total) != total or total < 0:
        raise ValueError(f"total must be a whole number >= 0, got {total}")
    total = int(total)
    keys = list(shares)
    weights = [_non_negative(f"share of {key!r}", shares[key]) for key in keys]
    if total == 0:
        return {key: 0 for key in keys}
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError(f"cannot split {total} units: every share is zero")
    quotas = [total * weight / weight_sum for weight in weights]
    units = [math.floor(quota) for quota in quotas]
    leftover = total - sum(units)
    by_remainder = sorted(range(len(keys)), key=lambda i: (-(quotas[i] - units[i]), -weights[i], i))
    for i in by_remainder[:leftover]:
        units[i] += 1
    return dict(zip(keys, units))


def cluster_shares(sales_by_cluster: Mapping[str, float]) -> dict[str, float]:
    """share_c = sales_c / sum of sales over all clusters (last 52 weeks of history).
    Vector: sales 40/35/25% of the chain -> shares 0.40/0.35/0.25 -> 3,200/2,800/2,000 of 8,000."""
    exact = {cluster: _non_negative(f"sales of {cluster}", units) for cluster, units in sales_by_cluster.items()}
    total = sum(exact.values())
    if total == 0:
        raise ValueError("cluster shares need some historical sales; every cluster sold 0 units")
    return {cluster: float(sales / total) for cluster, sales in exact.items()}


def store_factors(stores: pd.DataFrame) -> pd.DataFrame:
    """Each store's factor (its share of its cluster's units).

    factor = 0.7 * historical share + 0.3 * attribute share, renormalised to sum to 1 in the
    cluster, where historical share = store units / cluster units (last 52 weeks), attribute
    score = mean(size / cluster mean size, income / cluster mean income) and attribute share =
    score / sum of scores in the cluster. History dominates; the attributes keep a store with a
    thin history from being starved. A cluster without any sales falls back to the attribute
    shares (that is what the renormalisation does when every historical share is 0).
    Vector: Store_01 0.7 * 5.48% + 0.3 * 5.55% = 5.50%.

    ``stores`` has the columns of ALLOCATION_COLUMNS; returns one row per store, sorted by
    cluster then store_id, with historical_units, historical_share, attribute_score,
    attribute_share and factor.
    """
    missing = [c for c in ALLOCATION_COLUMNS if c not in stores.columns]
    if missing:
        raise ValueError(f"store frame is missing columns: {', '.join(missing)}")
    frame = stores[list(ALLOCATION_COLUMNS)].copy()
    frame["store_id"] = frame["store_id"].astype(str)
    if frame["store_id"].duplicated().any():
        raise ValueError("store ids must be unique")
    if frame["cluster"].isna().any():
        raise ValueError("every store needs a cluster")
    for column in ("historical_units", "store_size_sqft", "median_income"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        if frame[column].isna().any():
            raise ValueError(f"{column} must be numeric for every store")
    if (frame["historical_units"] < 0).any():
        raise ValueError("historical_units must be >= 0")
    if (frame[["store_size_sqft", "median_income"]] <= 0).any().any():
        raise ValueError("store_size_sqft and median_income must be > 0")

    by_cluster = frame.groupby("cluster")
    cluster_units = by_cluster["historical_units"].transform("sum")
    frame["historical_share"] = (frame["historical_units"] / cluster_units.where(cluster_units > 0)).fillna(0.0)
    frame["attribute_score"] = (
        frame["store_size_sqft"] / by_cluster["store_size_sqft"].transform("mean")
        + frame["median_income"] / by_cluster["median_income"].transform("mean")
    ) / 2
    frame["attribute_share"] = frame["attribute_score"] / by_cluster["attribute_score"].transform("sum")
    blended = HISTORICAL_WEIGHT * frame["historical_share"] + ATTRIBUTE_WEIGHT * frame["attribute_share"]
    frame["factor"] = blended / blended.groupby(frame["cluster"]).transform("sum")
    frame["_rank"] = frame["cluster"].map(_cluster_rank)
    frame = frame.sort_values(["_rank", "cluster", "store_id"]).drop(columns="_rank")
    return frame.reset_index(drop=True)


def _cluster_rank(cluster: str) -> int:
    return CLUSTER_IDS.index(cluster) if cluster in CLUSTER_IDS else len(CLUSTER_IDS)


# --- manufacturing and the initial / holdback split ------------------------------------------


def _check_strategy(strategy: str) -> None:
    if strategy not in REPLENISHMENT_STRATEGIES:
        options = ", ".join(REPLENISHMENT_STRATEGIES)
        raise ValueError(f"replenishment strategy must be one of {options}, got {strategy!r}")


def default_safety_stock(strategy: str) -> float:
    """20% safety stock, 25% when there is no replenishment (the DC cannot top up a store)."""
    _check_strategy(strategy)
    return NO_REPLENISHMENT_SAFETY_STOCK if strategy == "none" else DEFAULT_SAFETY_STOCK


def explicit_buy(demand_units: int, manufacturing_qty: int) -> float:
    """The safety stock a planner's own manufacturing quantity amounts to (qty / demand - 1),
    after checking it is a whole number within BUY_RANGE x demand (SPEC §13: 0.5x..2x)."""
    if isinstance(manufacturing_qty, bool) or int(manufacturing_qty) != manufacturing_qty:
        raise ValueError(f"manufacturing_qty must be a whole number of units, got {manufacturing_qty!r}")
    low, high = (math.ceil(limits.BUY_RANGE[0] * demand_units), math.floor(limits.BUY_RANGE[1] * demand_units))
    if demand_units <= 0 or not low <= manufacturing_qty <= high:
        raise ValueError(f"manufacturing_qty must be within {low:,}..{high:,} "
                         f"({limits.BUY_RANGE[0]:g}x..{limits.BUY_RANGE[1]:g}x forecast demand {demand_units:,})")
    return manufacturing_qty / demand_units - 1


def manufacturing_quantity(demand: float, safety_stock_pct: float) -> int:
    """mfg = demand * (1 + safety stock), rounded half up to whole units.
    Safety stock must be within 0.10..0.30 (ValueError otherwise). 8,000 -> 9,600 at 0.20, 10,000 at 0.25."""
    stock = _decimal(safety_stock_pct)
    low, high = SAFETY_STOCK_RANGE
    if not low <= stock <= high:
        raise ValueError(f"safety_stock_pct must be within {low}..{high}, got {safety_stock_pct}")
    return _round_half_up(_non_negative("demand", demand) * (1 + _exact(stock)))


class InitialHoldback(NamedTuple):
    initial: int  # ships to stores at week 0
    holdback: int  # stays at the DC for replenishment


def split_initial_holdback(manufacturing_qty: int, holdback_pct: float) -> InitialHoldback:
    """initial = round_half_up(mfg * (1 - h)), holdback = mfg - initial, so the two always add up
    to the order. 9,600 at 0.45 -> 5,280 / 4,320; 10,000 at 0 -> 10,000 / 0."""
    mfg = _non_negative("manufacturing_qty", manufacturing_qty)
    if mfg.denominator != 1:
        raise ValueError(f"manufacturing_qty must be whole units, got {manufacturing_qty}")
    holdback = _exact(holdback_pct)
    if not 0 <= holdback <= 1:
        raise ValueError(f"holdback_pct must be within 0..1, got {holdback_pct}")
    initial = _round_half_up(mfg * (1 - holdback))
    return InitialHoldback(initial=initial, holdback=int(mfg) - initial)


# --- the allocation plan ----------------------------------------------------------------------


@dataclass(frozen=True)
class StoreAllocation:
    store_id: str
    cluster: str
    factor: float  # share of the cluster
    share: float  # share of the category = cluster share * factor
    planned_units: int  # season demand planned for the store
    initial_units: int  # ships at week 0
    holdback_units: int  # reserved for the store at the DC

    @property
    def total_units(self) -> int:
        return self.initial_units + self.holdback_units


@dataclass(frozen=True)
class ClusterAllocation:
    cluster: str
    share: float
    store_count: int
    planned_units: int
    initial_units: int
    holdback_units: int


@dataclass(frozen=True)
class AllocationPlan:
    forecast_total: float
    weekly_forecast: list[float]
    demand_units: int  # forecast_total rounded half up
    safety_stock_pct: float
    holdback_pct: float
    manufacturing_qty: int
    initial_total: int
    holdback_total: int
    clusters: list[ClusterAllocation]
    stores: list[StoreAllocation]

    def store_weekly_plan(self, store_id: str) -> list[float]:
        """The store's planned weekly curve (its category share times the weekly forecast)."""
        for store in self.stores:
            if store.store_id == store_id:
                return store_weekly_plan(store.share, self.weekly_forecast)
        raise KeyError(store_id)


def store_weekly_plan(store_share: float, weekly_forecast: Sequence[float]) -> list[float]:
    """planned units of a store in week w = store share of the category * category forecast of w."""
    return [store_share * float(units) for units in weekly_forecast]


def allocate(
    forecast_total: float,
    weekly_forecast: Sequence[float],
    stores: pd.DataFrame,
    safety_stock_pct: float,
    holdback_pct: float,
    manufacturing_qty: int | None = None,
) -> AllocationPlan:
    """Category forecast -> clusters -> stores.

    Cluster shares come from the last 52 weeks of sales (``historical_units``), store factors from
    store_factors(); mfg = manufacturing_quantity(forecast, ss) and (initial, holdback) =
    split_initial_holdback(mfg, h). Planned units, initial and holdback are each split with
    largest remainder, first to clusters by cluster share, then within a cluster by store factor,
    so store rows sum exactly to their cluster row and cluster rows to the plan totals.
    ``weekly_forecast`` must add up to ``forecast_total`` (within one unit). A planner's own
    ``manufacturing_qty`` (``explicit_buy``) replaces demand x (1 + ss); the plan then records
    the safety stock it amounts to.
    """
    weekly = [float(units) for units in weekly_forecast]
    total = _non_negative("forecast_total", forecast_total)
    if abs(sum(weekly) - float(total)) > max(1.0, 1e-9 * float(total)):
        raise ValueError(f"weekly forecast sums to {sum(weekly):.2f}, not the total {float(total):.2f}")
    factors = store_factors(stores)
    if factors.empty:
        raise ValueError("allocation needs at least one store")
    cluster_sales = factors.groupby("cluster", sort=False)["historical_units"].sum()
    shares = cluster_shares(cluster_sales.to_dict())
    demand_units = _round_half_up(total)
    if manufacturing_qty is None:
        mfg = manufacturing_quantity(forecast_total, safety_stock_pct)
    else:
        safety_stock_pct, mfg = explicit_buy(demand_units, manufacturing_qty), int(manufacturing_qty)
    initial_total, holdback_total = split_initial_holdback(mfg, holdback_pct)
    by_cluster = {
        "planned": split_by_shares(demand_units, shares),
        "initial": split_by_shares(initial_total, shares),
        "holdback": split_by_shares(holdback_total, shares),
    }

    clusters: list[ClusterAllocation] = []
    stores_out: list[StoreAllocation] = []
    for cluster, members in factors.groupby("cluster", sort=False):
        store_ids = members["store_id"].tolist()
        factor = dict(zip(store_ids, members["factor"]))
        per_store = {kind: split_by_shares(units[cluster], factor) for kind, units in by_cluster.items()}
        clusters.append(ClusterAllocation(
            cluster=cluster,
            share=shares[cluster],
            store_count=len(store_ids),
            planned_units=by_cluster["planned"][cluster],
            initial_units=by_cluster["initial"][cluster],
            holdback_units=by_cluster["holdback"][cluster],
        ))
        stores_out.extend(StoreAllocation(
            store_id=store_id,
            cluster=cluster,
            factor=float(factor[store_id]),
            share=shares[cluster] * float(factor[store_id]),
            planned_units=per_store["planned"][store_id],
            initial_units=per_store["initial"][store_id],
            holdback_units=per_store["holdback"][store_id],
        ) for store_id in store_ids)
    return AllocationPlan(
        forecast_total=float(forecast_total),
        weekly_forecast=weekly,
        demand_units=demand_units,
        safety_stock_pct=float(safety_stock_pct),
        holdback_pct=float(holdback_pct),
        manufacturing_qty=mfg,
        initial_total=initial_total,
        holdback_total=holdback_total,
        clusters=clusters,
        stores=stores_out,
    )


# --- replenishment ----------------------------------------------------------------------------


def replenishment_due(week: int, strategy: str) -> bool:
    """Whether replenishment runs after week ``week``'s actuals (weeks count from 1; week 0 is
    the initial allocation): weekly -> every week; bi-weekly -> even weeks (2, 4, 6, ...);
    none -> never."""
    _check_strategy(strategy)
    if week < 1:
        raise ValueError(f"in-season weeks start at 1, got {week}")
    if strategy == "weekly":
        return True
    return strategy == "bi-weekly" and week % 2 == 0


def replenishment_need(remaining_planned: float, remaining_weeks: int, on_hand: float) -> int:
    """need = ceil(max(0, remaining planned units / remaining weeks - on hand)): one week of the
    store's remaining plan, less what it already holds, rounded up so a store is never left a
    fraction short. 105 planned - 58 shipped = 47 over 10 weeks = 4.7 - 2 on hand = 2.7 -> 3.
    No weeks left -> 0. A negative remaining plan (over-shipped) counts as 0."""
    if remaining_weeks < 0:
        raise ValueError(f"remaining_weeks must be >= 0, got {remaining_weeks}")
    stock = _non_negative("on_hand", on_hand)
    if remaining_weeks == 0:
        return 0
    return max(0, math.ceil(_exact(remaining_planned) / remaining_weeks - stock))


@dataclass(frozen=True)
class Shipment:
    store_id: str
    need: int
    quantity: int
    partial: bool  # the DC ran out before the full need was met


@dataclass(frozen=True)
class ReplenishmentPlan:
    shipments: list[Shipment]  # quantity > 0 only, in shipping order
    unmet: dict[str, int]  # store_id -> units needed but not shipped (partial or nothing shipped)
    shipped_total: int
    dc_remaining: int


def plan_replenishment(needs: Mapping[str, int], dc_available: int) -> ReplenishmentPlan:
    """Ship min(need, DC left) store by store in descending order of need (ties by store id), so
    the stores closest to running out are served first and the DC is never overdrawn. A store
    shipped less than its need is flagged partial; stores the DC could not reach are in ``unmet``."""
    dc_left = int(_non_negative("dc_available", dc_available))
    order = sorted(
        ((int(_non_negative(f"need of {store}", need)), str(store)) for store, need in needs.items()),
        key=lambda item: (-item[0], item[1]),
    )
    shipments: list[Shipment] = []
    unmet: dict[str, int] = {}
    for need, store_id in order:
        if need == 0:
            continue
        quantity = min(need, dc_left)
        dc_left -= quantity
        if quantity:
            shipments.append(Shipment(store_id=store_id, need=need, quantity=quantity, partial=quantity < need))
        if quantity < need:
            unmet[store_id] = need - quantity
    shipped = sum(s.quantity for s in shipments)
    return ReplenishmentPlan(shipments=shipments, unmet=unmet, shipped_total=shipped, dc_remaining=dc_left)


# --- variance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VarianceResult:
    actual_cum: float
    forecast_cum: float
    variance: float  # |actual - forecast| / forecast
    signed_variance: float  # (actual - forecast) / forecast, > 0 when selling above plan
    direction: str  # "over", "under" or "on plan"
    band: str  # "green", "amber", "red"
    label: str  # "on track", "elevated", "re-forecast"
    threshold: float
    exceeded: bool  # variance > threshold (strict): triggers the automatic re-forecast
    emergency: bool  # more than 0.30 above plan: check for an emergency order (mlpipeline.stock)
    overstock: bool  # more than 0.30 below plan: over-stock review, never an order


def variance_check(
    actual_cum: float, forecast_cum: float, threshold: float = VARIANCE_THRESHOLD
) -> VarianceResult:
    """variance = |sum actual(1..N) - sum forecast(1..N)| / sum forecast(1..N), forecast being
    the current baseline. Bands: < threshold/2 green "on track", threshold/2..threshold amber
    "elevated", > threshold red "re-forecast" (0.10 / 0.20 at the default threshold); exactly the
    threshold does not trigger. 3,200 vs 2,550 -> 0.255, red.

    A zero baseline has no relative variance; the actuals become the denominator instead, so any
    sales read as 1.0 (red, emergency: demand the plan did not expect) and no sales as 0.0.
    """
    actual = _non_negative("actual_cum", actual_cum)
    forecast = _non_negative("forecast_cum", forecast_cum)
    limit = _non_negative("threshold", threshold)
    base = forecast if forecast > 0 else actual
    signed = (actual - forecast) / base if base > 0 else Fraction(0)
    variance = abs(signed)
    if variance > limit:
        band, label = "red", "re-forecast"
    elif variance >= limit / 2:
        band, label = "amber", "elevated"
    else:
        band, label = "green", "on track"
    return VarianceResult(
        actual_cum=float(actual),
        forecast_cum=float(forecast),
        variance=float(variance),
        signed_variance=float(signed),
        direction="over" if signed > 0 else "under" if signed < 0 else "on plan",
        band=band,
        label=label,
        threshold=float(limit),
        exceeded=variance > limit,
        emergency=signed > EMERGENCY_VARIANCE,
        overstock=signed < -EMERGENCY_VARIANCE,
    )


# --- markdown ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkdownResult:
    sell_through: float  # units sold / manufacturing quantity
    target: float
    gap: float  # target - sell-through
    elasticity: float
    raw_markdown: float  # gap * elasticity before the cap and rounding (0 when on track)
    markdown_pct: float  # recommended markdown, 0..0.40 in steps of 0.05
    expected_lift: float  # expected demand lift = 1.5 * markdown
    on_track: bool
    formula: str  # the arithmetic, for the approval panel


def markdown_recommendation(
    units_sold: float,
    manufacturing_qty: int,
    target: float = MARKDOWN_TARGET,
    elasticity: float = MARKDOWN_ELASTICITY,
) -> MarkdownResult:
    """sell-through = units sold / mfg; gap = target - sell-through.
    gap <= 0 -> 0 ("on track"); else markdown = min(gap * elasticity, 0.40) rounded half up to
    the nearest 0.05; expected lift = 1.5 * markdown. Elasticity must be within 1.0..3.0.

    Exact rational arithmetic from the counts, rounding once at the end: 5,200 sold of 9,600 at
    target 0.60 and e=3.0 is exactly 0.175 -> 0.20 (a binary float, or a 28-digit Decimal of
    5,200 / 9,600, lands a hair below 0.175 and gives 0.15).
    """
    e = _exact(elasticity)
    low, high = ELASTICITY_RANGE
    if not Fraction(low) <= e <= Fraction(high):
        raise ValueError(f"elasticity must be within {low}..{high}, got {elasticity}")
    goal = _exact(target)
    if not 0 <= goal <= 1:
        raise ValueError(f"target sell-through must be within 0..1, got {target}")
    sold, mfg = _exact(units_sold), _exact(manufacturing_qty)
    if sold < 0 or mfg <= 0:
        raise ValueError("units_sold must be >= 0 and manufacturing_qty > 0")
    sell_through = sold / mfg
    gap = goal - sell_through
    head = f"sell-through {_percent(sell_through, 1)} vs target {_percent(goal, 0)}"
    if gap <= 0:
        raw = markdown = Fraction(0)
        formula = f"{head}: on track, no markdown"
    else:
        raw = gap * e
        cap, step = Fraction(MARKDOWN_CAP), Fraction(MARKDOWN_STEP)
        markdown = _round_half_up(min(raw, cap) / step) * step
        cap_note = f", capped at {MARKDOWN_CAP:.0%}" if raw > cap else ""
        formula = (f"{head}: gap {_percent(gap, 1)} x elasticity {_decimal_text(e)} = {_percent(raw, 1)}"
                   f"{cap_note}, rounded half up to the nearest 5% -> markdown {_percent(markdown, 0)}")
    lift = Fraction(LIFT_PER_MARKDOWN) * markdown
    return MarkdownResult(
        sell_through=float(sell_through),
        target=float(goal),
        gap=float(gap),
        elasticity=float(e),
        raw_markdown=float(raw),
        markdown_pct=float(markdown),
        expected_lift=float(lift),
        on_track=gap <= 0,
        formula=f"{formula}; expected demand lift 1.5 x {_percent(markdown, 0)} = {_percent(lift, 1)}",
    )


def _percent(value: Fraction, places: int) -> str:
    """A rational as a percentage rounded half up to ``places`` decimals, for the formula text."""
    scaled = Fraction(_round_half_up(value * 100 * 10**places), 10**places)
    return f"{Decimal(scaled.numerator) / Decimal(scaled.denominator):.{places}f}%"


def _decimal_text(value: Fraction) -> str:
    """An elasticity as a planner typed it (2.5, 3.0)."""
    number = float(value)
    return f"{number:.1f}" if number.is_integer() else f"{number:g}"
