import pandas as pd
import pytest

from mlpipeline import forecasting as fc
from mlpipeline import series_backtest
from mlpipeline.forecasting import validated_history
from mlpipeline.series_catalog import generated_series, real_series
from mlpipeline.tests.test_forecasting import constant_model


def test_real_series_load_without_network_as_regular_weekly_history():
    cases = real_series()
    assert {case.kind for case in cases} == {"real"}
    assert len(cases) == 8
    for case in cases:
        assert len(validated_history(case.history)) >= 200  # regular 7-day weeks, no NaN
    co2 = next(case for case in cases if case.name == "co2_1990").history
    assert co2.std() / co2.mean() < 0.011  # the large-mean seasonal case the flat rule missed


def test_generated_series_have_their_known_structure():
    cases = {case.name: case.history for case in generated_series()}
    shift = cases["gen_level_shift_+40%"]
    assert shift.iloc[110:162].mean() / shift.iloc[58:110].mean() == pytest.approx(1.4, rel=0.1)
    assert (cases["gen_intermittent_1.5_a_week"] == 0).mean() > 0.1
    truth = next(case for case in generated_series() if case.name == "gen_near_flat_level").expected
    assert (truth == 500).all()


def test_synthetic_expected_units_follow_the_history():
    from mlpipeline.series_catalog import synthetic_series

    for case in synthetic_series():
        ratio = case.history.sum() / case.expected.sum()
        assert ratio == pytest.approx(1.0, abs=0.03)  # noise and promotions average out


@pytest.fixture
def cheap_models(monkeypatch):
    monkeypatch.setitem(fc.MODELS, "prophet", constant_model(1100))
    monkeypatch.setitem(fc.MODELS, "arima", fc.seasonal_naive)


def test_series_table_scores_every_method_on_the_same_weeks(cheap_models):
    case = next(c for c in generated_series() if c.name == "gen_promo_spikes_x2.5")
    table = series_backtest.run_series_backtest([case])
    row = table.iloc[0]
    assert row["seasonal_naive_ratio"] == 1.0
    assert row["arima_ratio"] == pytest.approx(1.0)  # arima stands in for the seasonal naive
    assert row["ensemble_wape"] > 0 and 0 <= row["combination_coverage"] <= 1
    assert row["combination_weeks"] == 36
    assert 0 < row["expected_ratio"] < 1  # the known truth beats last year's noisy weeks
    text = series_backtest.format_series_table(table)
    assert "| gen_promo_spikes_x2.5 | generated |" in text and "**mean ratio**" in text
    assert "pooled 80% coverage" in series_backtest.format_summary(table)


def test_series_targets():
    def row(name, kind, combination, arima=0.6, growth=0.7, inside=29):
        values = {"series": name, "kind": kind, "max_seconds": 1.0}
        for method in series_backtest.METHODS:
            values[f"{method}_wape"] = 0.1
            values[f"{method}_ratio"] = 1.0
            values[f"{method}_inside"], values[f"{method}_weeks"] = 0, 36
        values.update(combination_ratio=combination, combination_wape=combination / 10,
                      arima_ratio=arima, snaive_growth_ratio=growth, seasonal_naive_wape=0.1,
                      combination_inside=inside)
        return values

    good = pd.DataFrame([row("a", "real", 0.4), row("b", "peer", 0.5)])
    assert series_backtest.target_failures(good) == []
    bad = pd.DataFrame([row("a", "real", 0.7, inside=20), row("b", "peer", 0.5, arima=0.5)])
    failures = " ".join(series_backtest.target_failures(bad))
    assert "0.600 > 0.5" in failures and "arima" in failures and "coverage" in failures
