import math

import numpy as np
import pandas as pd
import pytest

from mlpipeline.economics import (
    PRIOR_SIGMA,
    SIGMA_FLOOR,
    Economics,
    LogNormalDemand,
    NormalDemand,
    buy_outcomes,
    default_economics,
    newsvendor_buy,
    newsvendor_quantity,
    season_demand_distribution,
    season_total_errors,
)

# --- the newsvendor -------------------------------------------------------------------------------


def test_spec_vector_1000_200_10_4_1_buys_1086():
    assert newsvendor_quantity(1000, 200, 10, 4, 1) == 1086


def test_critical_ratio_one_half_buys_the_mean():
    assert Economics(10, 5.5, 1).critical_ratio == 0.5
    assert newsvendor_quantity(1000, 200, 10, 5.5, 1) == 1000


def test_no_uncertainty_buys_the_mean():
    assert newsvendor_quantity(1000, 0, 10, 4, 1) == 1000
    assert newsvendor_quantity(999.6, 0, 10, 9, 1) == 1000


def test_a_low_critical_ratio_buys_below_the_mean_and_never_below_zero():
    assert newsvendor_quantity(1000, 200, 10, 8, 1) < 1000
    assert newsvendor_quantity(10, 1000, 10, 9.9, 0) == 0


@pytest.mark.parametrize("args, message", [
    ((1000, 200, 10, 4, 4), "salvage < cost < price"),
    ((1000, 200, 10, 10, 1), "salvage < cost < price"),
    ((1000, 200, 10, 12, 1), "salvage < cost < price"),
    ((1000, 200, 10, 4, -1), "salvage value must be >= 0"),
    ((1000, -1, 10, 4, 1), "std of demand must be >= 0"),
    ((-5, 200, 10, 4, 1), "mean demand must be >= 0"),
    ((1000, float("nan"), 10, 4, 1), "finite"),
    ((1000, 200, float("inf"), 4, 1), "finite"),
])
def test_invalid_inputs_are_refused_with_a_reason(args, message):
    with pytest.raises(ValueError, match=message):
        newsvendor_quantity(*args)


def test_default_economics_cost_045_salvage_020_of_price():
    econ = default_economics(49.0)
    assert (econ.price, econ.cost, econ.salvage) == (49.0, pytest.approx(22.05), pytest.approx(9.8))
    assert econ.critical_ratio == pytest.approx(0.55 / 0.80)
    assert default_economics(49, unit_cost=21).cost == 21
    with pytest.raises(ValueError, match="unit_price must be > 0"):
        default_economics(0)
    with pytest.raises(ValueError):
        default_economics(10, unit_cost=1, salvage_value=2)


def test_the_newsvendor_buy_maximises_the_closed_form_margin():
    econ = Economics(10, 4, 1)
    for demand in (NormalDemand(1000, 200), LogNormalDemand(1000, 0.3)):
        best = newsvendor_buy(demand, econ)
        margin = buy_outcomes(best, demand, econ).expected_gross_margin
        for other in (best - 50, best - 5, best + 5, best + 50):
            assert buy_outcomes(other, demand, econ).expected_gross_margin <= margin


# --- closed-form outcomes against Monte Carlo -------------------------------------------------------


@pytest.mark.parametrize("demand", [NormalDemand(1000, 200), LogNormalDemand(1000, 0.25)])
@pytest.mark.parametrize("quantity", [700, 1086, 1400])
def test_closed_form_outcomes_match_monte_carlo(demand, quantity):
    econ = Economics(10, 4, 1)
    draws = demand.from_z(np.random.default_rng(3).standard_normal(1_000_000))
    sold = np.minimum(draws, quantity)
    out = buy_outcomes(quantity, demand, econ)
    assert out.stockout_probability == pytest.approx((draws > quantity).mean(), abs=2e-3)
    assert out.expected_units_sold == pytest.approx(sold.mean(), rel=2e-3)
    assert out.expected_leftover_units == pytest.approx((quantity - sold).mean(), rel=1e-2, abs=1.0)
    margin = 10 * sold + 1 * (quantity - sold) - 4 * quantity
    assert out.expected_gross_margin == pytest.approx(margin.mean(), rel=2e-3)
    assert out.service_level == pytest.approx(2 / 3)


def test_outcomes_without_uncertainty_and_of_buying_nothing():
    econ = Economics(10, 4, 1)
    out = buy_outcomes(1200, NormalDemand(1000, 0), econ)
    assert (out.expected_units_sold, out.expected_leftover_units, out.stockout_probability) == (1000, 200, 0.0)
    assert out.expected_gross_margin == 10 * 1000 + 200 - 4 * 1200
    nothing = buy_outcomes(0, LogNormalDemand(1000, 0.2), econ)
    assert (nothing.expected_units_sold, nothing.expected_gross_margin, nothing.stockout_probability) == (0, 0, 1.0)
    with pytest.raises(ValueError):
        buy_outcomes(-1, NormalDemand(1000, 10), econ)


def test_lognormal_moments():
    demand = LogNormalDemand(1000, 0.2)
    assert demand.mean == pytest.approx(1000 * math.exp(0.02))
    draws = demand.from_z(np.random.default_rng(0).standard_normal(500_000))
    assert demand.std == pytest.approx(draws.std(), rel=1e-2)
    assert demand.ppf(0.5) == pytest.approx(1000)
    assert demand.sf(1000) == pytest.approx(0.5)


# --- season demand from backtest errors -------------------------------------------------------------


def test_no_errors_gives_the_prior_width():
    demand = season_demand_distribution(8000)
    assert (demand.median, demand.sigma, demand.errors_used) == (8000, PRIOR_SIGMA, 0)


def test_tiny_errors_are_pooled_with_the_prior_and_floored():
    few = season_demand_distribution(8000, [0.01, -0.01])
    assert few.sigma == pytest.approx(math.sqrt((math.log(1.01) ** 2 + math.log(0.99) ** 2 + 2 * PRIOR_SIGMA**2) / 4))
    many = season_demand_distribution(8000, [0.0] * 500)
    assert many.sigma == SIGMA_FLOOR


def test_large_errors_widen_the_distribution():
    errors = np.random.default_rng(1).normal(0, 0.3, 400)
    demand = season_demand_distribution(8000, errors)
    assert demand.sigma == pytest.approx(np.sqrt(np.mean(np.log1p(errors) ** 2)), rel=0.05)
    assert demand.errors_used == 400
    sold_out = season_demand_distribution(8000, [-1.0, float("nan")])  # a window that sold nothing
    assert math.isfinite(sold_out.sigma) and sold_out.errors_used == 1


def test_season_total_errors_of_a_series_that_repeats_with_growth_are_zero():
    weeks = pd.date_range("2021-01-04", periods=156, freq="7D")
    season = 100 + 50 * np.sin(2 * np.pi * np.arange(52) / 52)
    values = np.concatenate([season, season, season])
    errors = season_total_errors(pd.Series(values, index=weeks))
    assert len(errors) == 8
    assert np.allclose(errors, 0, atol=1e-9)
    doubled = season_total_errors(pd.Series(values, index=weeks), forecaster=lambda h, n: 2 * h.iloc[-n:].to_numpy())
    assert np.all(doubled < 0)
