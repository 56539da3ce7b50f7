import numpy as np
import pytest

from mlpipeline import baselines, combination, intervals
from mlpipeline import forecasting as fc
from mlpipeline.forecasting import forecast_demand, is_flat
from mlpipeline.tests.test_forecasting import broken_model, constant_model, weekly

YEAR = fc.YEAR_WEEKS


def seasonal(weeks, level=1000.0, swing=0.3, noise=0.0, growth=0.0, seed=1):
    t = np.arange(weeks)
    values = level * (1 + growth * t / YEAR) * (1 + swing * np.sin(2 * np.pi * t / YEAR))
    return values * np.exp(noise * np.random.default_rng(seed).standard_normal(weeks))


# --- the combination -------------------------------------------------------------------------


def test_inner_origins_start_a_year_back_and_keep_a_year_of_training():
    assert combination.evidence_origins(156, 12) == [104, 124, 144]
    assert combination.evidence_origins(156, 19) == [104, 120, 137]  # a 7-week gap
    assert combination.evidence_origins(80, 12) == [52, 60, 68]
    assert combination.evidence_origins(60, 12) == []


def test_choose_weights_members_by_inverse_cubed_rmse():
    actual = np.full(24, 100.0)
    evidence = combination.Evidence(
        [1, 2], actual, {"good": actual * 1.1, "bad": actual * 1.2, "prophet": actual * 1.4}
    )
    choice = combination.choose(evidence)
    assert choice.weights["good"] == pytest.approx(8 * choice.weights["bad"])
    assert sum(choice.weights.values()) == pytest.approx(1.0)
    assert choice.errors["good"] == pytest.approx(0.1)  # reported as WAPE
    assert "ensemble" not in choice.errors  # needs both prophet and arima


def test_squared_errors_punish_one_bad_miss_more_than_wape():
    actual = np.full(24, 100.0)
    steady = actual * 1.1  # 10% off every week
    one_miss = actual.copy()
    one_miss[:6] = 140  # right most weeks, 40% off in one stretch: the same WAPE
    choice = combination.choose(combination.Evidence([1, 2], actual, {"steady": steady, "miss": one_miss}))
    assert choice.errors["steady"] == pytest.approx(choice.errors["miss"])
    assert choice.weights["steady"] > 0.85


def test_the_seasonal_naive_is_scored_but_not_weighted():
    actual = np.full(24, 100.0)
    evidence = combination.Evidence([1, 2], actual, {"seasonal_naive": actual, "ets": actual * 1.3})
    choice = combination.choose(evidence)
    assert choice.weights == {"ets": 1.0}
    assert choice.errors["seasonal_naive"] == 0.0


def test_choose_gives_a_member_that_was_exactly_right_all_the_weight():
    actual = np.arange(1.0, 25.0)
    choice = combination.choose(combination.Evidence([1, 2], actual, {"a": actual, "b": actual + 5}))
    assert choice.weights["a"] > 0.999999


def test_choose_needs_sales_in_the_windows():
    evidence = combination.Evidence([1, 2], np.zeros(24), {"a": np.ones(24)})
    assert combination.choose(evidence) is None


def test_a_member_failing_in_the_backtest_is_left_out(monkeypatch):
    monkeypatch.setitem(fc.MODELS, "prophet", constant_model(1000))
    monkeypatch.setitem(fc.MODELS, "arima", constant_model(1000))
    calls = {"n": 0}

    def fails_later(series, steps, budget):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("no")
        return constant_model(1000)(series, steps, budget)

    monkeypatch.setitem(fc.MODELS, "arima", fails_later)
    result = forecast_demand(weekly(seasonal(130)), 12)
    assert result.method == "combination"
    assert "arima" not in result.weights and "arima" in result.components
    assert "arima" in result.backtest_error["failed"]


def test_no_member_fits_falls_back_to_the_baselines(monkeypatch):
    monkeypatch.setitem(fc.MODELS, "prophet", broken_model)
    monkeypatch.setitem(fc.MODELS, "arima", broken_model)
    result = forecast_demand(weekly(seasonal(130, growth=0.1)), 12)
    assert result.method == "combination"
    assert set(result.weights) <= {"seasonal_naive", "snaive_growth", "ets", "ses"}
    assert any("prophet failed" in note for note in result.warnings)


# --- intervals -------------------------------------------------------------------------------


def test_conformal_ranks_of_36_residuals():
    actual = np.exp(np.linspace(-0.35, 0.35, 36)) * 100 - 1 + 1e-12
    low, high = intervals.conformal_quantiles(actual, np.full(36, 99.0))
    ranked = np.sort(np.log1p(actual) - np.log1p(99.0))
    assert (low, high) == (pytest.approx(ranked[2]), pytest.approx(ranked[33]))  # ranks 3, 34
    assert intervals.conformal_quantiles(actual[:9], np.full(9, 99.0)) is None


def test_conformal_interval_covers_80_percent_with_known_noise():
    """Lognormal noise of known spread: 36 calibration residuals per draw, 12 new weeks scored,
    over 400 draws the interval holds 80% of the new weeks (split-conformal guarantee)."""
    rng = np.random.default_rng(5)
    inside = total = 0
    for _ in range(400):
        point = rng.uniform(500, 5000, 48)
        actual = point * np.exp(0.15 * rng.standard_normal(48))
        offsets = intervals.conformal_quantiles(actual[:36], point[:36])
        lower, upper = intervals.conformal_bounds(point[36:], offsets)
        inside += int(((lower <= actual[36:]) & (actual[36:] <= upper)).sum())
        total += 12
    assert 0.77 <= inside / total <= 0.85


def test_conformal_bounds_hold_the_point():
    lower, upper = intervals.conformal_bounds(np.array([0.0, 10.0]), (-0.2, 0.3))
    assert lower[0] == 0 and 0 < lower[1] < 10 < upper[1]


# --- flat series -----------------------------------------------------------------------------


def test_a_strongly_seasonal_series_with_a_large_mean_is_not_flat():
    values = seasonal(156, level=50_000, swing=0.008, noise=0.001)
    assert values.std() / values.mean() < fc.NEAR_CONSTANT_CV  # the old rule called it flat
    assert not is_flat(weekly(values))


def test_near_constant_noise_is_still_flat():
    noise = 500 * (1 + 0.004 * np.random.default_rng(2).standard_normal(156))
    assert is_flat(weekly(noise))
    assert is_flat(weekly([500.0] * 60)) and is_flat(weekly([0.0] * 20))


@pytest.mark.slow
def test_large_mean_seasonal_series_is_forecast_with_its_season():
    values = seasonal(156 + 12, level=50_000, swing=0.008, noise=0.001)
    result = forecast_demand(weekly(values[:156]), 12)
    assert result.method == "combination"
    truth = values[156:]
    assert np.ptp(result.weekly) > 0.5 * np.ptp(truth)  # not a flat line
    assert np.abs(np.array(result.weekly) - truth).sum() / truth.sum() < 0.003


@pytest.mark.slow
def test_forecast_intervals_cover_about_80_percent_of_a_noisy_series():
    values = seasonal(156 + 48, noise=0.12, growth=0.05, seed=9)
    inside = total = 0
    for origin in (156, 168, 180, 192):
        result = forecast_demand(weekly(values[:origin]), 12)
        actual = values[origin:origin + 12]
        inside += int(((np.array(result.lower) <= actual) & (actual <= np.array(result.upper))).sum())
        total += 12
        assert result.backtest_error["interval"]["method"] == "split_conformal"
    assert 0.6 <= inside / total <= 0.95


# --- baselines -------------------------------------------------------------------------------


def test_seasonal_naive_growth_scales_last_year_by_growth():
    values = seasonal(104, growth=0.0)
    values[-52:] *= 1.2  # this year sells 20% more in every week
    mean, lower, upper = baselines.seasonal_naive_growth(weekly(values), 12)
    growth = baselines.yoy_growth(values)
    assert growth == pytest.approx(1.2, rel=0.01)
    assert mean == pytest.approx(growth * values[52:64])
    assert (lower <= mean).all() and (mean <= upper).all()


def test_growth_needs_overlap_and_sales_a_year_before():
    assert baselines.yoy_growth(np.ones(54)) == 1.0
    assert baselines.yoy_growth(np.r_[np.zeros(52), np.ones(30)]) == 1.0


def test_ets_follows_the_season_and_ses_the_level():
    values = seasonal(156 + 12, noise=0.02)
    ets_mean, lower, upper = baselines.fit_ets(weekly(values[:156]), 12)
    assert np.abs(ets_mean - values[156:]).sum() / values[156:].sum() < 0.06
    assert (lower <= ets_mean).all() and (ets_mean <= upper).all()
    ses_mean = baselines.fit_ses(weekly(values[:156]), 12)[0]
    assert np.ptp(ses_mean) < 1e-6 * ses_mean.mean()
