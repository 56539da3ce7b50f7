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

``compare_scenarios`` varies the pre-season decisions (buy, holdback, strategy, markdown rule);
``compare_rest_of_season`` starts from the stock at the markdown approval (``SeasonState``) and
varies the markdown depth; ``replay_season`` runs scenarios on a known demand (a past season).
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


@dataclass(frozen=True)
class SeasonState:
    """The season at the markdown approval: after week ``week``'s sales, its replenishment and
    the checkpoint, for simulating the rest (``compare_rest_of_season``). Store arrays are in
    the plan's store order."""

    week: int  # weeks done
    manufacturing_qty: int
    on_hand: np.ndarray  # (S,) units each store holds for week + 1 (week's shipments included)
    shipped: np.ndarray  # (S,) initial allocation + replenishments so far
    allocated: np.ndarray  # (S,) initial + holdback units of each store
    dc_available: int
    sold_to_date: float
    revenue_to_date: float
    original_plan_total: float  # the pre-season forecast total (the replenishment plan's base)
    plan_scale: float = 1.0  # current baseline total / original total (a re-forecast moves it)

    def __post_init__(self):
        arrays = [np.asarray(getattr(self, name), dtype=float) for name in ("on_hand", "shipped", "allocated")]
        if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
            raise ValueError("on_hand, shipped and allocated must be per-store arrays of one length")
        if any((a < 0).any() or not np.isfinite(a).all() for a in arrays):
            raise ValueError("store stock must be finite and >= 0")
        if self.week < 1 or self.dc_available < 0 or self.sold_to_date < 0 or self.original_plan_total <= 0:
            raise ValueError("week >= 1, dc_available >= 0, sold_to_date >= 0 and original_plan_total > 0")
        for name, value in zip(("on_hand", "shipped", "allocated"), arrays):
            object.__setattr__(self, name, value)


# --- demand draws -----------------------------------------------------------------------------


class SeasonDraws:
    """The random part of N seasons, drawn once and shared by every scenario.

    Store-week demand = season total x store share x week share x cell noise. The season total,
    the weekly shapes and the store splits are kept per path; each week's cells are generated
    from their own seed when asked for, so the same week is the same numbers however often it is
    asked, and a 2,000-store case needs (paths x stores) memory, not (paths x stores x weeks).
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

    def week_demand(self, t: int) -> np.ndarray:
        """(P, S) store demand of week t (0-based), before any markdown lift."""
        demand = self.store_season * self.week_shares[:, t, None]
        sigma = self.noise.cell
        if sigma > 0:
            rng = np.random.default_rng(self._cell_seeds[t])
            cells = rng.standard_normal(demand.shape, dtype=np.float32)
            cells *= np.float32(sigma)
            cells -= np.float32(sigma**2 / 2)
            demand *= np.exp(cells, out=cells)
        return demand


class KnownDemand:
    """Store-week demand given instead of drawn (e.g. a past season's sales, to replay it through
    the same stock flows): (weeks, stores) for one path or (paths, weeks, stores)."""

    def __init__(self, plan: SeasonPlan, demand):
        values = np.asarray(demand, dtype=float)
        if values.ndim == 2:
            values = values[None]
        if values.ndim != 3 or values.shape[1:] != (plan.horizon, plan.store_count):
            raise ValueError(f"demand must be (paths, {plan.horizon}, {plan.store_count}), got {values.shape}")
        if not np.isfinite(values).all() or (values < 0).any():
            raise ValueError("demand must be finite and >= 0")
        self.plan, self.paths, self._demand = plan, values.shape[0], values

    def week_demand(self, t: int) -> np.ndarray:
        return self._demand[:, t, :]


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


def _check_start(scenario: Scenario, plan: SeasonPlan, start: SeasonState) -> None:
    if scenario.markdown_checkpoint_week is not None:
        raise ValueError(f"{scenario.name}: the rest of the season has no checkpoint; set markdown_pct")
    if int(scenario.manufacturing_qty) != start.manufacturing_qty:
        raise ValueError(f"{scenario.name}: the buy is made ({start.manufacturing_qty} units), "
                         f"not {scenario.manufacturing_qty}")
    if len(start.on_hand) != plan.store_count:
        raise ValueError(f"the state has {len(start.on_hand)} stores, the plan {plan.store_count}")


class _ScenarioRun:
    """One scenario's stock on every path, moved one week at a time (so that the scenarios of a
    comparison can share each week's demand)."""

    def __init__(self, plan: SeasonPlan, economics: Economics, scenario: Scenario, paths: int,
                 order: np.ndarray | None, start: SeasonState | None = None):
        _check_scenario(scenario, plan.horizon)
        self.plan, self.economics, self.scenario = plan, economics, scenario
        self.qty = int(scenario.manufacturing_qty)
        self.first_week = 1 if start is None else start.week + 1
        self.horizon = plan.horizon + self.first_week - 1  # the season's weeks
        zeros = np.zeros(paths)
        self.sold, self.demand, self.revenue, self.markdown_cost, self.stockouts = (zeros.copy() for _ in range(5))
        self.depth, self.lift, self.scale = zeros.copy(), zeros.copy(), np.ones(paths)
        self.markdown_after = scenario.markdown_checkpoint_week
        self.sold_before = 0.0  # units sold before the simulated weeks
        if start is None:
            initial, holdback = store_quantities(plan, self.qty, scenario.holdback_pct)
            on_hand, shipped, allocated = initial.astype(float), initial.astype(float), (initial + holdback) * 1.0
            dc = float(holdback.sum())
        else:
            _check_start(scenario, plan, start)
            on_hand, shipped, allocated, dc = start.on_hand, start.shipped, start.allocated, float(start.dc_available)
            self.sold += start.sold_to_date
            self.sold_before = float(start.sold_to_date)
            self.revenue += start.revenue_to_date
            self.markdown_after = start.week  # the decision at the approval: this depth on every path
            self.depth += scenario.markdown_pct or 0.0
            self.lift = LIFT_PER_MARKDOWN * self.depth
            self.scale = start.plan_scale + self.lift * plan.forecast_total / start.original_plan_total
        if order is not None:  # stores in store-id order from here on (see _run_all)
            on_hand, shipped, allocated = on_hand[order], shipped[order], allocated[order]
        self.allocated = np.asarray(allocated, dtype=float)
        self.on_hand = np.broadcast_to(on_hand, (paths, plan.store_count)).astype(float)
        self.shipped = np.broadcast_to(shipped, (paths, plan.store_count)).astype(float)
        self.dc = np.full(paths, dc)

    def week(self, week: int, demand: np.ndarray) -> None:
        """Sell week ``week`` (1-based) of ``demand`` (P, S, before the lift), then replenish and
        check the markdown as the engine does after that week's actuals."""
        scenario, price, horizon = self.scenario, self.economics.price, self.horizon
        checkpoint = scenario.markdown_checkpoint_week
        marked = self.markdown_after is not None and week > self.markdown_after
        if marked:
            demand = demand * (1 + self.lift[:, None])
        self.stockouts += (demand > self.on_hand + _EPS).sum(axis=1)
        sold = np.minimum(demand, self.on_hand)
        self.on_hand -= sold
        sold_week = sold.sum(axis=1)
        self.sold += sold_week
        self.demand += demand.sum(axis=1)
        if marked:
            self.revenue += price * (1 - self.depth) * sold_week
            self.markdown_cost += price * self.depth * sold_week
        else:
            self.revenue += price * sold_week
        if week < horizon and replenishment_due(week, scenario.replenishment_strategy):
            ship = _replenish(self.allocated, self.scale, self.shipped, self.on_hand, self.dc, horizon - week)
            self.shipped += ship
            self.on_hand += ship  # on the shelf for next week's sales
            self.dc -= ship.sum(axis=1)
        if checkpoint == week:
            sell_through = self.sold / self.qty if self.qty else np.zeros_like(self.sold)
            self.depth = markdown_depth(sell_through, scenario.markdown_threshold, scenario.elasticity,
                                        scenario.markdown_pct)
            self.lift = LIFT_PER_MARKDOWN * self.depth
            plan_week = self.plan.weekly_forecast
            self.scale = 1 + self.lift * plan_week[week:].sum() / plan_week.sum()

    def result(self) -> ScenarioResult:
        economics, qty = self.economics, self.qty
        leftover = self.on_hand.sum(axis=1) + self.dc
        salvage = economics.salvage * leftover
        margin = self.revenue + salvage - economics.cost * qty
        p10, p90 = np.percentile(margin, [10, 90])
        return ScenarioResult(
            name=self.scenario.name,
            manufacturing_qty=qty,
            expected_units_sold=float(self.sold.mean()),
            expected_sell_through=float((self.sold / qty).mean()) if qty else 0.0,
            stockout_probability=float(self.stockouts.mean() / (self.plan.horizon * self.plan.store_count)),
            expected_lost_sales=float((self.demand - (self.sold - self.sold_before)).mean()),
            expected_leftover_units=float(leftover.mean()),
            expected_markdown_cost=float(self.markdown_cost.mean()),
            expected_revenue=float(self.revenue.mean()),
            expected_gross_margin=float(margin.mean()),
            gross_margin_p10=float(p10),
            gross_margin_p90=float(p90),
            expected_demand=float(self.demand.mean()),
            demand_exceeds_buy_probability=float((self.sold_before + self.demand > qty + _EPS).mean()),
            markdown_probability=float((self.depth > 0).mean()),
            expected_markdown_pct=float(self.depth.mean()),
            expected_salvage_value=float(salvage.mean()),
            margin=margin,
        )


def run_scenario(draws: SeasonDraws | KnownDemand, economics: Economics, scenario: Scenario) -> ScenarioResult:
    """Move the stock of one scenario through every path of ``draws``."""
    return _run_all(draws, economics, [scenario])[0]


def _run_all(draws: SeasonDraws | KnownDemand, economics: Economics, scenarios: Sequence[Scenario],
             start: SeasonState | None = None) -> list[ScenarioResult]:
    """The scenarios in lockstep, week by week on the same demand. The stores are put in
    store-id order, so that replenishment serves equal needs in the engine's order."""
    plan = draws.plan
    order = np.argsort(np.array(plan.store_ids, dtype=str), kind="stable") if plan.store_ids else None
    if order is not None and (order == np.arange(len(order))).all():
        order = None
    runs = [_ScenarioRun(plan, economics, scenario, draws.paths, order, start) for scenario in scenarios]
    first = 1 if start is None else start.week + 1
    for t in range(plan.horizon):
        demand = draws.week_demand(t)
        if order is not None:
            demand = demand[:, order]
        for run in runs:
            run.week(first + t, demand)
    return [run.result() for run in runs]


def _replenish(allocated: np.ndarray, scale: np.ndarray, shipped: np.ndarray, on_hand: np.ndarray,
               dc: np.ndarray, remaining_weeks: int) -> np.ndarray:
    """One replenishment round on every path: each store's need (``replenishment_need``), served
    greedily in descending need (ties by position: the stores are in store-id order) while the DC
    lasts."""
    need = allocated[None, :] * scale[:, None]
    need -= shipped
    need /= remaining_weeks
    need -= on_hand
    need -= _EPS
    np.ceil(need, out=need)
    np.maximum(need, 0.0, out=need)
    short = need.sum(axis=1) > dc
    if short.any():
        everywhere = short.all()
        sub = need if everywhere else need[short]
        rank = np.argsort(-sub, axis=1, kind="stable")
        ranked = np.take_along_axis(sub, rank, axis=1)
        before = np.cumsum(ranked, axis=1) - ranked
        sent = np.clip((dc if everywhere else dc[short])[:, None] - before, 0.0, ranked)
        np.put_along_axis(sub, rank, sent, axis=1)
        if not everywhere:
            need[short] = sub
    return need


def replay_season(plan: SeasonPlan, demand, economics: Economics,
                  scenarios: Sequence[Scenario]) -> list[ScenarioResult]:
    """The scenarios on a known store-week demand (``KnownDemand``): what each would have done."""
    return _run_all(KnownDemand(plan, demand), economics, scenarios)


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
    results = _run_all(draws, economics, scenarios)
    best = max(results, key=lambda r: r.expected_gross_margin)
    return Comparison(paths=draws.paths, seed=draws.seed, scenarios=results, recommended=best.name)


def compare_rest_of_season(plan: SeasonPlan, demand: NormalDemand | LogNormalDemand, economics: Economics,
                           start: SeasonState, scenarios: Sequence[Scenario], paths: int = 2000, seed: int = 0,
                           noise: Noise = Noise()) -> Comparison:
    """What-ifs at the markdown approval: each scenario's ``markdown_pct`` (0 or None: no
    markdown) applied to every path from week ``start.week + 1``, with its lift, on the same
    draws of the rest of the season. ``plan`` and ``demand`` describe the remaining weeks only
    (the current baseline). Units sold, revenue, sell-through and margin are the whole season's
    (to date + simulated); demand, lost sales and stock-outs are the remaining weeks'."""
    if not 1 <= len(scenarios) <= MAX_SCENARIOS:
        raise ValueError(f"compare 1..{MAX_SCENARIOS} scenarios, got {len(scenarios)}")
    if len({s.name for s in scenarios}) != len(scenarios):
        raise ValueError("scenario names must be unique")
    draws = SeasonDraws(plan, demand, paths, seed, noise)
    results = _run_all(draws, economics, scenarios, start)
    best = max(results, key=lambda r: r.expected_gross_margin)
    return Comparison(paths=draws.paths, seed=draws.seed, scenarios=results, recommended=best.name)
