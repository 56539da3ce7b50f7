"""Seeded season simulator (SPEC §13): many possible seasons, the stock moved as the engine moves it.

Each simulated season (a path) draws its season demand from the demand distribution
(``economics``), its weekly shape from the forecast curve and its store split from the store
shares, each with multiplicative log-normal noise (mean one, renormalised so the total stays the
drawn one), plus an optional store-week noise. The stock then flows as in the season engine:

- week 0: the buy split into initial (stores) and holdback (DC) with ``split_initial_holdback``,
  and per store with largest remainder, first to clusters then within a cluster by store factor
  (``allocation.allocate``'s rounding);
- each week: a store sells min(demand, on hand); unmet demand is lost;
- after week w < H, when the strategy is due (``replenishment_due``): need = ceil(max(0, (allocated
  x plan scale - shipped) / (H - w) - on hand)), shipped from the DC in descending order of need
  (ties by store id) as far as the DC reaches, on the shelf the next week (planning.services
  .replenishment, selectors.seasons.store_stock);
- at the checkpoint week, after that week's replenishment: sell-through = sold / buy; below the
  threshold the markdown (the §4 formula, or the scenario's fixed depth) cuts the price of the
  later weeks and lifts their demand by 1.5 x markdown; the accepted markdown's forecast version
  raises the replenishment plan scale to 1 + lift x (plan of the later weeks / plan total);
- at the end every unit left in stores and at the DC is salvaged.

Not simulated: the variance-triggered re-forecast (the plan scale stays 1 until a markdown), an
emergency order, and a planner who declines the markdown. Demand is continuous (units sold are
not rounded); stock and shipments are whole units.

Every scenario of a comparison runs on the same draws (common random numbers), so the
differences between scenarios are the decisions', not the dice's. Same seed, same numbers.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import limits
from .allocation import AllocationPlan, replenishment_due, split_by_shares, split_initial_holdback
from .economics import Economics, LogNormalDemand, NormalDemand

MAX_SCENARIOS = 8
LIFT_PER_MARKDOWN = 1.5
MARKDOWN_STEP = 0.05
CACHE_CELLS = 30_000_000  # store-week demand kept in memory up to this many cells (float32)
_EPS = 1e-9  # float fuzz before ceil / rounding: 2.7000000001 must not ship 4


@dataclass(frozen=True)
class ClusterSplit:
    share: float  # the cluster's share of the category
    stores: tuple[int, ...]  # positions in the plan's store arrays
    factors: tuple[float, ...]  # store factors within the cluster


@dataclass(frozen=True)
class SeasonPlan:
    """The deterministic plan the paths vary around."""

    weekly_forecast: np.ndarray  # (H,) category units per week
    store_shares: np.ndarray  # (S,) each store's share of the category (sums to 1)
    store_ids: tuple[str, ...] = ()  # replenishment tie order (default: positions)
    clusters: tuple[ClusterSplit, ...] = ()  # the engine's two-level rounding; empty: one level

    def __post_init__(self):
        weekly = np.asarray(self.weekly_forecast, dtype=float)
        shares = np.asarray(self.store_shares, dtype=float)
        if weekly.ndim != 1 or not len(weekly) or not np.all(np.isfinite(weekly)) or (weekly < 0).any():
            raise ValueError("weekly_forecast must be a non-empty list of units >= 0")
        if weekly.sum() <= 0:
            raise ValueError("weekly_forecast must have some demand")
        if shares.ndim != 1 or not len(shares) or not np.all(np.isfinite(shares)) or (shares < 0).any():
            raise ValueError("store_shares must be a non-empty list of shares >= 0")
        if shares.sum() <= 0:
            raise ValueError("store_shares must not all be zero")
        if self.store_ids and len(self.store_ids) != len(shares):
            raise ValueError(f"{len(self.store_ids)} store ids for {len(shares)} stores")
        object.__setattr__(self, "weekly_forecast", weekly)
        object.__setattr__(self, "store_shares", shares / shares.sum())

    @property
    def horizon(self) -> int:
        return len(self.weekly_forecast)

    @property
    def store_count(self) -> int:
        return len(self.store_shares)

    @property
    def forecast_total(self) -> float:
        return float(self.weekly_forecast.sum())

    @classmethod
    def from_allocation(cls, plan: AllocationPlan) -> SeasonPlan:
        """The plan of ``allocation.allocate``: its weekly forecast, store shares, ids and clusters."""
        positions: dict[str, list[int]] = {}
        for i, store in enumerate(plan.stores):
            positions.setdefault(store.cluster, []).append(i)
        clusters = tuple(
            ClusterSplit(share=c.share, stores=tuple(positions[c.cluster]),
                         factors=tuple(plan.stores[i].factor for i in positions[c.cluster]))
            for c in plan.clusters)
        return cls(weekly_forecast=np.asarray(plan.weekly_forecast, float),
                   store_shares=np.array([s.share for s in plan.stores]),
                   store_ids=tuple(s.store_id for s in plan.stores), clusters=clusters)


@dataclass(frozen=True)
class Scenario:
    name: str
    manufacturing_qty: int
    holdback_pct: float = 0.0
    replenishment_strategy: str = "none"
    markdown_checkpoint_week: int | None = None
    markdown_threshold: float = 0.60
    markdown_pct: float | None = None  # None: the §4 formula; else this depth when under the threshold
    elasticity: float = limits.DEFAULT_ELASTICITY


@dataclass(frozen=True)
class Noise:
    """Log-normal sigmas of the multiplicative noise around the plan (0: the plan's split)."""

    weekly: float = 0.10  # each week's share of the season
    store: float = 0.10  # each store's share of the season
    cell: float = 0.0  # each store-week, on top (mean one, not renormalised)


ZERO_NOISE = Noise(weekly=0.0, store=0.0, cell=0.0)


@dataclass
class ScenarioResult:
    name: str
    manufacturing_qty: int
    expected_units_sold: float
    expected_sell_through: float
    stockout_probability: float  # share of store-weeks that ran out with demand unmet
    expected_lost_sales: float
    expected_leftover_units: float
    expected_markdown_cost: float  # price cut x units sold after the markdown
    expected_revenue: float  # sales at full and marked-down prices (salvage not included)
    expected_gross_margin: float  # revenue + salvage x leftover - cost x buy
    gross_margin_p10: float
    gross_margin_p90: float
    expected_demand: float  # including the markdown lift
    demand_exceeds_buy_probability: float  # P(season demand > buy): the newsvendor's stock-out
    markdown_probability: float  # share of paths that marked down at the checkpoint
    expected_markdown_pct: float
    expected_salvage_value: float
    margin: np.ndarray = field(repr=False)  # (paths,) gross margin of each simulated season

    SPEC_FIELDS = ("name", "manufacturing_qty", "expected_units_sold", "expected_sell_through",
                   "stockout_probability", "expected_lost_sales", "expected_leftover_units",
                   "expected_markdown_cost", "expected_revenue", "expected_gross_margin",
                   "gross_margin_p10", "gross_margin_p90")

    def summary(self) -> dict:
        """The SPEC §13 fields, plain Python numbers."""
        return {name: getattr(self, name) for name in self.SPEC_FIELDS}


@dataclass
class Comparison:
    paths: int
    seed: int
    scenarios: list[ScenarioResult]
    recommended: str  # the scenario with the highest expected gross margin (first on a tie)


# --- demand draws -----------------------------------------------------------------------------


class SeasonDraws:
    """The random part of N seasons, drawn once and shared by every scenario.

    Store-week demand = season total x store share x week share x cell noise. The season total,
    the weekly shapes and the store splits are kept per path; the store-week cells are kept in
    memory when small (CACHE_CELLS) and otherwise regenerated each week from their own seed, so
    a 2,000-store case needs (paths x stores) memory, not (paths x stores x weeks).
    """

    def __init__(self, plan: SeasonPlan, demand: NormalDemand | LogNormalDemand, paths: int, seed: int,
                 noise: Noise = Noise()):
        if isinstance(paths, bool) or int(paths) != paths or paths < 1:
            raise ValueError(f"paths must be a whole number >= 1, got {paths}")
        for name in ("weekly", "store", "cell"):
            if not getattr(noise, name) >= 0:
                raise ValueError(f"noise.{name} must be >= 0")
        self.plan, self.paths, self.seed, self.noise = plan, int(paths), int(seed), noise
        streams = np.random.SeedSequence(int(seed)).spawn(4)
        total_rng, week_rng, store_rng = (np.random.default_rng(s) for s in streams[:3])
        self._cell_seeds = streams[3].spawn(plan.horizon)
        self.season_total = demand.from_z(total_rng.standard_normal(self.paths))
        week = plan.weekly_forecast / plan.weekly_forecast.sum()
        self.week_shares = _noisy_shares(week, noise.weekly, week_rng, self.paths)  # (P, H)
        store_shares = _noisy_shares(plan.store_shares, noise.store, store_rng, self.paths)  # (P, S)
        self.store_season = self.season_total[:, None] * store_shares  # (P, S)
        self._cells = None
        if plan.horizon * self.paths * plan.store_count <= CACHE_CELLS:
            self._cells = np.stack([self._week(t) for t in range(plan.horizon)]).astype(np.float32)

    def week_demand(self, t: int) -> np.ndarray:
        """(P, S) store demand of week t (0-based), before any markdown lift."""
        return self._week(t) if self._cells is None else self._cells[t].astype(float)

    def _week(self, t: int) -> np.ndarray:
        demand = self.store_season * self.week_shares[:, t, None]
        if self.noise.cell > 0:
            rng = np.random.default_rng(self._cell_seeds[t])
            demand = demand * _mean_one(rng.standard_normal(demand.shape), self.noise.cell)
        return demand


def _mean_one(z: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(sigma * z - sigma**2 / 2)


def _noisy_shares(shares: np.ndarray, sigma: float, rng: np.random.Generator, paths: int) -> np.ndarray:
    if sigma == 0:
        return np.broadcast_to(shares, (paths, len(shares))).copy()
    noisy = shares * _mean_one(rng.standard_normal((paths, len(shares))), sigma)
    return noisy / noisy.sum(axis=1, keepdims=True)


# --- the engine's numbers ---------------------------------------------------------------------


def store_quantities(plan: SeasonPlan, manufacturing_qty: int, holdback_pct: float) -> tuple[np.ndarray, np.ndarray]:
    """(initial, holdback) units per store, rounded as ``allocation.allocate`` rounds them."""
    initial_total, holdback_total = split_initial_holdback(manufacturing_qty, holdback_pct)
    return _split(plan, initial_total), _split(plan, holdback_total)


def _split(plan: SeasonPlan, total: int) -> np.ndarray:
    units = np.zeros(plan.store_count, dtype=np.int64)
    if not plan.clusters:
        split = split_by_shares(total, dict(enumerate(plan.store_shares.tolist())))
        units[list(split)] = list(split.values())
        return units
    by_cluster = split_by_shares(total, {k: c.share for k, c in enumerate(plan.clusters)})
    for k, cluster in enumerate(plan.clusters):
        split = split_by_shares(by_cluster[k], dict(zip(cluster.stores, cluster.factors)))
        units[list(split)] = list(split.values())
    return units


def markdown_depth(sell_through: np.ndarray, threshold: float, elasticity: float,
                   fixed_pct: float | None = None) -> np.ndarray:
    """Per path: 0 when on track (sell-through >= threshold); else the fixed depth, or the §4
    formula min(gap x elasticity, 0.40) rounded half up to the nearest 0.05."""
    gap = threshold - np.asarray(sell_through, float)
    if fixed_pct is not None:
        return np.where(gap > _EPS, float(fixed_pct), 0.0)
    raw = np.minimum(gap * elasticity, limits.MAX_MARKDOWN)
    depth = np.floor(raw / MARKDOWN_STEP + 0.5 + _EPS) * MARKDOWN_STEP
    return np.where(gap > _EPS, np.round(depth, 10), 0.0)


# --- one scenario -----------------------------------------------------------------------------


def _check_scenario(scenario: Scenario, horizon: int) -> None:
    if isinstance(scenario.manufacturing_qty, bool) or int(scenario.manufacturing_qty) != scenario.manufacturing_qty \
            or scenario.manufacturing_qty < 0:
        raise ValueError(f"{scenario.name}: manufacturing_qty must be whole units >= 0")
    replenishment_due(1, scenario.replenishment_strategy)  # raises on an unknown strategy
    week = scenario.markdown_checkpoint_week
    if week is not None and not 1 <= week <= horizon:
        raise ValueError(f"{scenario.name}: markdown_checkpoint_week must be within 1..{horizon}")
    if not 0 <= scenario.markdown_threshold <= 1:
        raise ValueError(f"{scenario.name}: markdown_threshold must be within 0..1")
    if scenario.markdown_pct is not None and not 0 <= scenario.markdown_pct <= limits.MAX_MARKDOWN:
        raise ValueError(f"{scenario.name}: markdown_pct must be within 0..{limits.MAX_MARKDOWN}")
    low, high = limits.ELASTICITY_RANGE
    if not low <= scenario.elasticity <= high:
        raise ValueError(f"{scenario.name}: elasticity must be within {low}..{high}")


def run_scenario(draws: SeasonDraws, economics: Economics, scenario: Scenario) -> ScenarioResult:
    """Move the stock of one scenario through every path of ``draws``."""
    plan = draws.plan
    horizon, paths = plan.horizon, draws.paths
    _check_scenario(scenario, horizon)
    qty = int(scenario.manufacturing_qty)
    initial, holdback = store_quantities(plan, qty, scenario.holdback_pct)
    # replenishment serves ties in store-id order: work in that order from here on
    order = np.argsort(np.array(plan.store_ids, dtype=str), kind="stable") if plan.store_ids else None
    if order is not None:
        initial, holdback = initial[order], holdback[order]
    allocated = (initial + holdback).astype(float)
    on_hand = np.broadcast_to(initial.astype(float), (paths, plan.store_count)).copy()
    shipped = on_hand.copy()
    dc = np.full(paths, float(holdback.sum()))
    sold_total = np.zeros(paths)
    demand_total = np.zeros(paths)
    revenue = np.zeros(paths)
    markdown_cost = np.zeros(paths)
    stockout_cells = np.zeros(paths)
    depth = np.zeros(paths)
    lift = np.zeros(paths)
    scale = np.ones(paths)
    plan_week = plan.weekly_forecast
    checkpoint = scenario.markdown_checkpoint_week
    for t in range(horizon):
        week = t + 1
        demand = draws.week_demand(t)
        if order is not None:
            demand = demand[:, order]
        if checkpoint is not None and week > checkpoint:
            demand = demand * (1 + lift[:, None])
        sold = np.minimum(demand, on_hand)
        on_hand -= sold
        sold_week = sold.sum(axis=1)
        short = demand - sold
        stockout_cells += (short > _EPS).sum(axis=1)
        sold_total += sold_week
        demand_total += demand.sum(axis=1)
        marked = checkpoint is not None and week > checkpoint
        revenue += economics.price * (1 - depth) * sold_week if marked else economics.price * sold_week
        if marked:
            markdown_cost += economics.price * depth * sold_week
        if week < horizon and replenishment_due(week, scenario.replenishment_strategy):
            ship = _replenish(allocated, scale, shipped, on_hand, dc, horizon - week)
            shipped += ship
            on_hand += ship  # on the shelf for next week's sales
            dc -= ship.sum(axis=1)
        if checkpoint == week:
            sell_through = sold_total / qty if qty else np.zeros(paths)
            depth = markdown_depth(sell_through, scenario.markdown_threshold, scenario.elasticity,
                                   scenario.markdown_pct)
            lift = LIFT_PER_MARKDOWN * depth
            scale = 1 + lift * plan_week[week:].sum() / plan_week.sum()
    leftover = on_hand.sum(axis=1) + dc
    salvage = economics.salvage * leftover
    margin = revenue + salvage - economics.cost * qty
    p10, p90 = np.percentile(margin, [10, 90])
    return ScenarioResult(
        name=scenario.name,
        manufacturing_qty=qty,
        expected_units_sold=float(sold_total.mean()),
        expected_sell_through=float((sold_total / qty).mean()) if qty else 0.0,
        stockout_probability=float(stockout_cells.mean() / (horizon * plan.store_count)),
        expected_lost_sales=float((demand_total - sold_total).mean()),
        expected_leftover_units=float(leftover.mean()),
        expected_markdown_cost=float(markdown_cost.mean()),
        expected_revenue=float(revenue.mean()),
        expected_gross_margin=float(margin.mean()),
        gross_margin_p10=float(p10),
        gross_margin_p90=float(p90),
        expected_demand=float(demand_total.mean()),
        demand_exceeds_buy_probability=float((demand_total > qty + _EPS).mean()),
        markdown_probability=float((depth > 0).mean()),
        expected_markdown_pct=float(depth.mean()),
        expected_salvage_value=float(salvage.mean()),
        margin=margin,
    )


def _replenish(allocated: np.ndarray, scale: np.ndarray, shipped: np.ndarray, on_hand: np.ndarray,
               dc: np.ndarray, remaining_weeks: int) -> np.ndarray:
    """One replenishment round on every path: each store's need (``replenishment_need``), served
    greedily in descending need (ties by position = store id) while the DC lasts."""
    remaining = allocated[None, :] * scale[:, None] - shipped
    need = np.maximum(np.ceil(remaining / remaining_weeks - on_hand - _EPS), 0.0)
    ship = need
    short = need.sum(axis=1) > dc
    if short.any():
        sub = need[short]
        rank = np.argsort(-sub, axis=1, kind="stable")
        ranked = np.take_along_axis(sub, rank, axis=1)
        before = np.cumsum(ranked, axis=1) - ranked
        sent = np.clip(dc[short, None] - before, 0.0, ranked)
        served = np.empty_like(sub)
        np.put_along_axis(served, rank, sent, axis=1)
        ship = need.copy()
        ship[short] = served
    return ship


# --- scenarios on the same draws --------------------------------------------------------------


def simulate_season(plan: SeasonPlan, demand: NormalDemand | LogNormalDemand, economics: Economics,
                    scenario: Scenario, paths: int = 2000, seed: int = 0, noise: Noise = Noise()) -> ScenarioResult:
    return run_scenario(SeasonDraws(plan, demand, paths, seed, noise), economics, scenario)


def compare_scenarios(plan: SeasonPlan, demand: NormalDemand | LogNormalDemand, economics: Economics,
                      scenarios: Sequence[Scenario], paths: int = 2000, seed: int = 0,
                      noise: Noise = Noise()) -> Comparison:
    """Up to MAX_SCENARIOS scenarios on the same simulated seasons; ``recommended`` is the one
    with the highest expected gross margin."""
    if not 1 <= len(scenarios) <= MAX_SCENARIOS:
        raise ValueError(f"compare 1..{MAX_SCENARIOS} scenarios, got {len(scenarios)}")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError("scenario names must be unique")
    for scenario in scenarios:
        _check_scenario(scenario, plan.horizon)
    draws = SeasonDraws(plan, demand, paths, seed, noise)
    results = [run_scenario(draws, economics, scenario) for scenario in scenarios]
    best = max(results, key=lambda r: r.expected_gross_margin)
    return Comparison(paths=draws.paths, seed=draws.seed, scenarios=results, recommended=best.name)
