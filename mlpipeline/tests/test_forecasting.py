import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from mlpipeline import combination
from mlpipeline import forecasting as fc
from mlpipeline.forecasting import (
    ForecastResult,
    InsufficientHistory,
    ModelForecast,
    combine,
    ensemble_mean,
    forecast_demand,
    inverse_error_weights,
    seasonal_naive,
    yearly_order,
)

HISTORY_START = date(2022, 1, 3)  # a Monday


def weekly(values, start: date = HISTORY_START) -> pd.Series:
    index = pd.date_range(start, periods=len(values), freq="7D")
    return pd.Series(np.asarray(values, dtype=float), index=index)


def seasonal_truth(weeks: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Expected and observed weekly units: 5% yearly growth, a spring peak, 3% noise."""
    t = np.arange(weeks)
    angle = 2 * np.pi * t / fc.YEAR_WEEKS
    season = 1 + 0.35 * np.sin(angle) + 0.1 * np.cos(2 * angle)
    expected = 1000 * (1 + 0.05 * t / fc.YEAR_WEEKS) * season
    observed = expected * (1 + 0.03 * np.random.default_rng(seed).standard_normal(weeks))
    return expected, np.round(observed)


def constant_model(value: float):
    def fit(series, steps, time_budget_s):
        mean = np.full(steps, float(value))
        return ModelForecast(mean, mean * 0.9, mean * 1.1)

    return fit


def step_model(series, steps, time_budget_s):
    """Forecast k for the k-th week after history: shows which weeks were kept."""
    mean = np.arange(steps, dtype=float)
    return ModelForecast(mean, mean, mean)


def broken_model(series, steps, time_budget_s):
    raise RuntimeError("boom")


@pytest.fixture
def fake_models(monkeypatch):
    """Replace both models by cheap stand-ins; returns a setter for either of them."""

    def use(**fits):
        for name, fit in fits.items():
            monkeypatch.setitem(fc.MODELS, name, fit)

    use(prophet=constant_model(8200), arima=constant_model(7800))
    return use


# --- ensemble -------------------------------------------------------------------------------


def test_ensemble_is_the_equal_average():
    assert ensemble_mean({"prophet": [8200.0], "arima": [7800.0]}).tolist() == [8000.0]


def test_ensemble_weights_are_normalised():
    mean = ensemble_mean({"prophet": [8200, 100], "arima": [7800, 200]}, {"prophet": 3, "arima": 1})
    assert mean.tolist() == [8100.0, 125.0]


def test_ensemble_bounds_are_the_averaged_model_bounds():
    fits = {
        "prophet": ModelForecast(np.array([100.0]), np.array([90.0]), np.array([110.0])),
        "arima": ModelForecast(np.array([140.0]), np.array([130.0]), np.array([150.0])),
    }
    both = combine(fits, {"prophet": 0.5, "arima": 0.5})
    assert both.mean.tolist() == [120.0]
    assert both.lower.tolist() == [110.0]
    assert both.upper.tolist() == [130.0]
    weighted = combine(fits, {"prophet": 3, "arima": 1})
    assert (weighted.mean.tolist(), weighted.lower.tolist(), weighted.upper.tolist()) == (
        [110.0], [100.0], [120.0]
    )


def test_inverse_error_weights():
    assert inverse_error_weights({"prophet": 0.1, "arima": 0.3}) == pytest.approx(
        {"prophet": 0.75, "arima": 0.25}
    )


def test_equal_weighting_forecast(fake_models):
    result = forecast_demand(weekly(seasonal_truth(104)[1]), 12, weighting="equal")
    assert result.method == "ensemble"
    assert result.weights == {"prophet": 0.5, "arima": 0.5}
    assert result.weekly == [8000.0] * 12
    assert result.total == 96_000.0
    assert result.model_totals["prophet"] == 8200.0 * 12
    members = {"prophet", "arima", "seasonal_naive", "snaive_growth", "ets", "ses"}
    assert set(result.components) == members  # every member is reported, whichever is used


# --- input guards ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "history, message",
    [
        (weekly([5, 6, -1, 7, 8, 9, 5, 6, 7, 8]), "negative"),
        (weekly([5, 6, np.nan, 7, 8, 9, 5, 6, 7, 8]), "NaN"),
        (pd.Series([5.0] * 10, index=pd.DatetimeIndex(["2024-01-01"] * 2).append(
            pd.date_range("2024-01-08", periods=8, freq="7D"))), "duplicate"),
        (weekly(range(10)).drop(weekly(range(10)).index[4]), "7 days apart"),
        (pd.Series([5.0] * 10, index=pd.date_range("2024-01-01", periods=10, freq="D")), "7 days"),
        ([5.0] * 10, "pandas Series"),
    ],
)
def test_bad_history_is_rejected_before_fitting(history, message, fake_models):
    fake_models(prophet=broken_model, arima=broken_model)
    with pytest.raises(ValueError, match=message):
        forecast_demand(history, 12)


def test_fewer_than_eight_weeks_is_insufficient_history():
    with pytest.raises(InsufficientHistory, match="^insufficient history") as raised:
        forecast_demand(weekly([5, 6, 7, 8, 9, 5, 6]), 12)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("season_start", [date(2024, 2, 27), date(2024, 2, 21), date(2024, 2, 28)])
def test_season_start_must_follow_history_on_its_grid(season_start, fake_models):
    history = weekly(range(1, 9), start=date(2024, 1, 1))  # last week starts Mon 2024-02-19
    with pytest.raises(ValueError, match="7-day grid"):
        forecast_demand(history, 4, season_start=season_start)


@pytest.mark.parametrize("horizon", [0, -1, 2.5])
def test_horizon_must_be_a_positive_integer(horizon):
    with pytest.raises(ValueError, match="horizon_weeks"):
        forecast_demand(weekly(range(1, 20)), horizon)


def test_unsorted_history_is_sorted():
    history = weekly(range(1, 11))
    assert fc.validated_history(history.iloc[::-1]).tolist() == list(range(1, 11))


# --- level forecasts and fallbacks ----------------------------------------------------------


@pytest.mark.parametrize("values", [[500.0] * 60, [500.0, 501.0, 499.0] * 20])
def test_constant_series_gets_a_level_forecast_not_zero(values, fake_models):
    fake_models(prophet=broken_model, arima=broken_model)  # must not even be tried
    result = forecast_demand(weekly(values), 8)
    assert result.method == "level"
    assert result.weekly == pytest.approx([500.0] * 8, rel=0.01)
    assert not result.warnings
    assert "prophet" not in result.components
    assert all(lo <= w <= hi for lo, w, hi in zip(result.lower, result.weekly, result.upper))


def test_all_zero_series_forecasts_zero():
    result = forecast_demand(weekly([0] * 20), 4)
    assert result.method == "level"
    assert result.weekly == [0.0] * 4


def test_one_model_fails_the_other_is_used_with_a_warning(fake_models):
    fake_models(prophet=broken_model)
    result = forecast_demand(weekly(seasonal_truth(80)[1]), 6, weighting="equal")
    assert result.method == "arima_only"
    assert result.weights == {"arima": 1.0}
    assert result.weekly == [7800.0] * 6
    assert any("prophet failed (RuntimeError: boom)" in note for note in result.warnings)
    assert "prophet" not in result.components


def test_both_models_fail_seasonal_naive_is_used_with_a_warning(fake_models):
    fake_models(prophet=broken_model, arima=broken_model)
    history = weekly(seasonal_truth(80)[1])
    result = forecast_demand(history, 6, weighting="equal")
    assert result.method == "seasonal_naive"
    assert result.weekly == history.iloc[80 - 52:80 - 52 + 6].tolist()
    assert any("seasonal naive" in note for note in result.warnings)


def test_a_model_returning_nan_counts_as_failed(fake_models):
    fake_models(arima=constant_model(float("nan")))
    result = forecast_demand(weekly(seasonal_truth(80)[1]), 4, weighting="equal")
    assert result.method == "prophet_only"


def test_arima_out_of_time_budget_falls_back(fake_models):
    fake_models(arima=fc.fit_arima)
    result = forecast_demand(weekly(seasonal_truth(80)[1]), 4, time_budget_s=0, weighting="equal")
    assert result.method == "prophet_only"
    assert any("TimeoutError" in note for note in result.warnings)


def test_short_history_still_forecasts_with_a_warning(fake_models):
    result = forecast_demand(weekly(seasonal_truth(30)[1]), 12)
    assert result.method == "ensemble"  # too short for the inner backtest: the seeds' default
    assert len(result.weekly) == 12
    assert any("30 weeks of history" in note for note in result.warnings)


# --- target dates ---------------------------------------------------------------------------


def test_every_model_forecasts_the_season_weeks_after_a_gap(fake_models):
    fake_models(prophet=step_model, arima=step_model)
    history = weekly(seasonal_truth(156)[1])  # last week 2024-12-23; next 2024-12-30
    result = forecast_demand(history, 12, season_start=date(2025, 2, 17), weighting="equal")
    assert result.week_starts[0] == date(2025, 2, 17)
    assert result.week_starts == [date(2025, 2, 17) + timedelta(weeks=k) for k in range(12)]
    assert result.weekly == [float(k) for k in range(7, 19)]  # 7 gap weeks forecast and dropped
    assert all(len(values) == 12 for values in result.components.values())
    year_before = [history[pd.Timestamp(d) - pd.Timedelta(weeks=52)] for d in result.week_starts]
    assert result.components["seasonal_naive"] == year_before


def test_seasonal_naive_more_than_a_year_ahead_uses_the_latest_same_week():
    history = weekly(np.arange(1, 61))
    forecast = seasonal_naive(history, 60).mean
    assert forecast[0] == history.iloc[60 - 52]
    assert forecast[51] == history.iloc[59]
    assert forecast[52] == history.iloc[60 - 52]  # 53 weeks ahead: 104 weeks back is not there


def test_default_season_start_is_the_week_after_history(fake_models):
    result = forecast_demand(weekly(range(1, 11)), 3)
    assert result.week_starts[0] == HISTORY_START + timedelta(weeks=10)


# --- backtest weighting and serialisation ---------------------------------------------------


def oracle_model(series, steps, time_budget_s):
    """Knows seasonal_truth's expected units: the member that is clearly right."""
    mean = seasonal_truth(len(series) + steps)[0][len(series):]
    return ModelForecast(mean, mean * 0.9, mean * 1.1)


def test_evidence_weighting_favours_the_member_that_was_right(fake_models):
    fake_models(prophet=oracle_model, arima=constant_model(1000))
    expected, observed = seasonal_truth(130 + 12)
    result = forecast_demand(weekly(observed[:130]), 12)
    assert result.method == "combination"
    assert max(result.weights, key=result.weights.get) == "prophet"
    assert result.weights["prophet"] > 0.5 and result.weights["arima"] < 0.02
    assert sum(result.weights.values()) == pytest.approx(1.0)
    record = result.backtest_error
    assert len(record["origins"]) == combination.EVIDENCE_ORIGINS
    assert record["models"]["combination"] < record["models"]["ensemble"]
    assert record["models"]["combination"] <= 1.10 * min(
        error for name, error in record["models"].items() if name in result.weights
    )
    assert set(result.components) >= {"prophet", "arima", "ets", "snaive_growth", "ses"}
    assert result.total == pytest.approx(expected[130:].sum(), rel=0.03)


def test_backtest_weighting_is_the_evidence_combination(fake_models):
    history = weekly(seasonal_truth(130)[1])
    assert forecast_demand(history, 12, weighting="backtest").method == "combination"


def test_evidence_weighting_needs_enough_history(fake_models):
    result = forecast_demand(weekly(seasonal_truth(60)[1]), 12)
    assert result.method == "ensemble"
    assert result.weights == {"prophet": 0.5, "arima": 0.5}
    assert any("equal ensemble" in note for note in result.warnings)


def test_result_round_trips_through_json(fake_models):
    result = forecast_demand(weekly(seasonal_truth(70)[1]), 4)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["week_starts"][0] == result.week_starts[0].isoformat()
    assert ForecastResult.from_dict(data) == result


def test_yearly_order_follows_the_shape():
    _, observed = seasonal_truth(156)
    assert 1 <= yearly_order(np.log1p(observed), trend=True) <= 4
    noise = np.random.default_rng(3).normal(1000, 30, 156)
    assert yearly_order(np.log1p(noise), trend=True) == 0
    assert yearly_order(np.log1p(observed[:40]), trend=False) == 0  # under a year


# --- real fits ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seasonal_fit():
    expected, observed = seasonal_truth(156 + 12)
    result = forecast_demand(weekly(observed[:156]), 12)
    return result, expected[156:]


@pytest.mark.slow
def test_real_fit_season_total_is_close_to_truth(seasonal_fit):
    result, truth = seasonal_fit
    assert result.method == "combination"
    assert result.total == pytest.approx(truth.sum(), rel=0.10)
    for name in ("prophet", "arima"):
        assert result.model_totals[name] == pytest.approx(truth.sum(), rel=0.10)


@pytest.mark.slow
def test_real_fit_intervals_are_ordered(seasonal_fit):
    result, _ = seasonal_fit
    assert all(0 <= lo <= w <= hi for lo, w, hi in zip(result.lower, result.weekly, result.upper))
    for name, bounds in result.component_bounds.items():
        weekly_mean = result.components[name]
        assert all(
            lo <= w <= hi for lo, w, hi in zip(bounds["lower"], weekly_mean, bounds["upper"])
        )
    assert result.upper[0] > result.lower[0]


@pytest.mark.slow
def test_real_fit_on_short_history():
    _, observed = seasonal_truth(30)
    result = forecast_demand(weekly(observed), 12)
    assert result.method == "ensemble"
    assert len(result.weekly) == 12 and min(result.lower) >= 0
    assert result.warnings
