"""Season economics (SPEC §13): what a unit earns, what season demand may be, and the buy.

A unit sold earns price - cost; a unit left over loses cost - salvage. The buy that maximises
expected margin is the critical-ratio quantile of season demand (the newsvendor),
CR = (price - cost) / (price - salvage). Season demand is a distribution built from the forecast
and the errors the forecasting rule made on past season totals, not an assumed width.

Gross margin everywhere here = sales revenue + salvage x leftover units - cost x units bought.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from .baselines import seasonal_naive_growth
from .forecasting import rolling_origins

COST_SHARE = 0.45  # default unit cost = 0.45 x price
SALVAGE_SHARE = 0.20  # default salvage value of a leftover unit = 0.20 x price

# The season-total spread (log scale). Backtest windows are few and overlap, so their spread is
# pooled with a prior worth PRIOR_WEIGHT windows, and never goes under SIGMA_FLOOR: a season known
# to better than +-5% would be a season that repeats last year exactly.
PRIOR_SIGMA = 0.15
PRIOR_WEIGHT = 2.0
SIGMA_FLOOR = 0.05
ERROR_HORIZON = 12
ERROR_ORIGINS = 8
ERROR_SPAN_WEEKS = 104  # the last two seasons of history, as the category backtest
MIN_RATIO = 0.01  # a window that sold (almost) nothing: log(0.01) instead of -inf


def _finite(name: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


# --- unit economics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Economics:
    """Price, cost and salvage value per unit; salvage < cost < price (ValueError otherwise)."""

    price: float
    cost: float
    salvage: float

    def __post_init__(self):
        price, cost, salvage = (_finite(n, v) for n, v in
                                (("price", self.price), ("cost", self.cost), ("salvage", self.salvage)))
        if salvage < 0:
            raise ValueError(f"salvage value must be >= 0, got {salvage}")
        if not salvage < cost < price:
            raise ValueError(f"economics need salvage < cost < price, got salvage {salvage}, cost {cost}, "
                             f"price {price}")

    @property
    def underage(self) -> float:
        """Margin lost on a unit of demand the buy could not serve."""
        return self.price - self.cost

    @property
    def overage(self) -> float:
        """Loss on a unit bought and left over."""
        return self.cost - self.salvage

    @property
    def critical_ratio(self) -> float:
        """CR = (price - cost) / (price - salvage): the service level the best buy reaches."""
        return (self.price - self.cost) / (self.price - self.salvage)


def default_economics(unit_price: float, unit_cost: float | None = None,
                      salvage_value: float | None = None) -> Economics:
    """SPEC §13 defaults: cost 0.45 x price, salvage 0.20 x price, each unless given."""
    price = _finite("unit_price", unit_price)
    if price <= 0:
        raise ValueError(f"unit_price must be > 0, got {unit_price}")
    cost = COST_SHARE * price if unit_cost is None else unit_cost
    salvage = SALVAGE_SHARE * price if salvage_value is None else salvage_value
    return Economics(price=price, cost=cost, salvage=salvage)


# --- season demand ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalDemand:
    """Normal season demand (the textbook newsvendor; can put mass below 0 when std ~ mean)."""

    mean: float
    std: float

    def __post_init__(self):
        if _finite("mean", self.mean) < 0:
            raise ValueError(f"mean demand must be >= 0, got {self.mean}")
        if _finite("std", self.std) < 0:
            raise ValueError(f"std of demand must be >= 0, got {self.std}")

    def ppf(self, q: float) -> float:
        return self.mean if self.std == 0 else float(norm.ppf(q, self.mean, self.std))

    def sf(self, x: float) -> float:
        """P(demand > x)."""
        if self.std == 0:
            return float(self.mean > x)
        return float(norm.sf(x, self.mean, self.std))

    def expected_sales(self, quantity: float) -> float:
        """E[min(D, Q)] = mean - std x L(z), L the standard normal loss function."""
        if self.std == 0:
            return min(self.mean, quantity)
        z = (quantity - self.mean) / self.std
        loss = norm.pdf(z) - z * norm.sf(z)
        return float(self.mean - self.std * loss)

    def from_z(self, z: np.ndarray) -> np.ndarray:
        """Demand draws from standard normal draws (clipped at 0)."""
        return np.maximum(self.mean + self.std * np.asarray(z, float), 0.0)


@dataclass(frozen=True)
class LogNormalDemand:
    """Season demand = median x exp(sigma Z): errors are relative, and demand stays positive."""

    median: float
    sigma: float
    errors_used: int = 0  # past season totals behind sigma (0: the prior alone)

    def __post_init__(self):
        if _finite("median", self.median) < 0:
            raise ValueError(f"median demand must be >= 0, got {self.median}")
        if _finite("sigma", self.sigma) < 0:
            raise ValueError(f"sigma must be >= 0, got {self.sigma}")

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)

    @property
    def std(self) -> float:
        return self.mean * math.sqrt(math.expm1(self.sigma**2))

    def ppf(self, q: float) -> float:
        return self.median * math.exp(self.sigma * float(norm.ppf(q))) if self.sigma else self.median

    def sf(self, x: float) -> float:
        if x <= 0:
            return float(self.median > 0)
        if self.sigma == 0 or self.median == 0:
            return float(self.median > x)
        return float(norm.sf(math.log(x / self.median) / self.sigma))

    def expected_sales(self, quantity: float) -> float:
        """E[min(D, Q)] = mean x Phi((ln(Q/m) - s^2) / s) + Q x P(D > Q)."""
        if quantity <= 0 or self.median == 0:
            return 0.0
        if self.sigma == 0:
            return min(self.median, quantity)
        u = math.log(quantity / self.median) / self.sigma
        return float(self.mean * norm.cdf(u - self.sigma) + quantity * norm.sf(u))

    def from_z(self, z: np.ndarray) -> np.ndarray:
        return self.median * np.exp(self.sigma * np.asarray(z, float))


def season_demand_distribution(
    forecast_total: float,
    past_relative_errors=(),
    *,
    prior_sigma: float = PRIOR_SIGMA,
    prior_weight: float = PRIOR_WEIGHT,
    floor: float = SIGMA_FLOOR,
) -> LogNormalDemand:
    """Log-normal season demand around the forecast, its width from past season-total errors.

    ``past_relative_errors`` are actual / forecast - 1 of past season totals (see
    ``season_total_errors``). With r = log(actual / forecast):
    sigma^2 = (sum r^2 + prior_weight x prior_sigma^2) / (n + prior_weight), then at least
    ``floor``. The forecast is the median: the mean bias of a handful of overlapping windows is
    mostly noise, so it widens the spread (r^2 about 0, not about the mean) instead of moving
    the centre. No errors -> sigma = prior_sigma (0.15: about +-19% for an 80% band).
    """
    total = _finite("forecast_total", forecast_total)
    if total < 0:
        raise ValueError(f"forecast_total must be >= 0, got {forecast_total}")
    if prior_weight < 0 or prior_sigma < 0 or floor < 0:
        raise ValueError("prior_sigma, prior_weight and floor must be >= 0")
    errors = np.asarray(list(past_relative_errors), dtype=float)
    errors = errors[np.isfinite(errors)]
    logs = np.log(np.maximum(1 + errors, MIN_RATIO))
    weight = len(logs) + prior_weight
    sigma = math.sqrt((float(np.sum(logs**2)) + prior_weight * prior_sigma**2) / weight) if weight else prior_sigma
    return LogNormalDemand(median=total, sigma=max(sigma, floor), errors_used=len(logs))


def snaive_growth_forecast(history: pd.Series, horizon: int) -> np.ndarray:
    """Last year's same weeks x year-on-year growth (``baselines.seasonal_naive_growth``)."""
    return seasonal_naive_growth(history, horizon)[0]


def season_total_errors(
    weekly: pd.Series,
    horizon: int = ERROR_HORIZON,
    origins: int = ERROR_ORIGINS,
    span_weeks: int = ERROR_SPAN_WEEKS,
    forecaster: Callable[[pd.Series, int], np.ndarray] = snaive_growth_forecast,
) -> np.ndarray:
    """Relative errors (actual / forecast - 1) of ``horizon``-week totals forecast from rolling
    origins over the last ``span_weeks`` of weekly history (the origins of the category backtest,
    each with a year of history before it).

    The default forecaster is seasonal naive x growth: it costs microseconds, where the
    production combination (``forecast_demand``) costs about half a second an origin. In the
    README's per-category backtest its mean 12-week total error (0.6-3.6%) is close to the
    combination's (0.4-3.7%), so it is an honest proxy; pass
    ``lambda h, n: forecast_demand(h, n).weekly`` for the real thing. The windows overlap and lie
    inside the history, so they understate the error of a season still to come: that is what
    the prior and the floor of ``season_demand_distribution`` are for.
    """
    values = pd.Series(weekly, dtype=float)
    errors = []
    for origin in rolling_origins(len(values), horizon, origins, span_weeks):
        predicted = float(np.sum(forecaster(values.iloc[:origin], horizon)))
        actual = float(values.iloc[origin:origin + horizon].sum())
        if predicted > 0:
            errors.append(actual / predicted - 1)
    return np.asarray(errors, dtype=float)


# --- the buy ----------------------------------------------------------------------------------


def newsvendor_quantity(mean: float, std: float, price: float, cost: float, salvage: float) -> int:
    """The buy that maximises expected margin for normal demand: mean + std x z(CR), rounded
    half up and never below 0. (1000, 200, 10, 4, 1): CR = 6/9, z = 0.4307 -> 1086.
    Needs salvage < cost < price, mean >= 0 and std >= 0 (ValueError otherwise)."""
    economics = Economics(price=price, cost=cost, salvage=salvage)
    return newsvendor_buy(NormalDemand(mean=mean, std=std), economics)


def newsvendor_buy(demand: NormalDemand | LogNormalDemand, economics: Economics) -> int:
    """The critical-ratio quantile of season demand, in whole units."""
    return max(0, _round_half_up(demand.ppf(economics.critical_ratio)))


@dataclass(frozen=True)
class BuyOutcome:
    quantity: int
    service_level: float  # the critical ratio
    stockout_probability: float  # P(season demand > buy)
    expected_units_sold: float
    expected_lost_sales: float
    expected_leftover_units: float
    expected_sell_through: float  # expected units sold / buy
    expected_revenue: float  # full-price sales (no markdown in this closed form)
    expected_gross_margin: float  # revenue + salvage x leftover - cost x buy


def buy_outcomes(quantity: float, demand: NormalDemand | LogNormalDemand, economics: Economics) -> BuyOutcome:
    """Closed-form outcomes of buying ``quantity`` units for one selling period at full price
    (no markdown, no store split: the chain as one shelf)."""
    q = _finite("quantity", quantity)
    if q < 0:
        raise ValueError(f"quantity must be >= 0, got {quantity}")
    sold = min(demand.expected_sales(q), q)
    leftover = q - sold
    revenue = economics.price * sold
    return BuyOutcome(
        quantity=int(round(q)),
        service_level=economics.critical_ratio,
        stockout_probability=demand.sf(q),
        expected_units_sold=sold,
        expected_lost_sales=max(demand.mean - sold, 0.0),
        expected_leftover_units=leftover,
        expected_sell_through=sold / q if q else 0.0,
        expected_revenue=revenue,
        expected_gross_margin=revenue + economics.salvage * leftover - economics.cost * q,
    )
