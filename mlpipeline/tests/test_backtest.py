import numpy as np
import pandas as pd
import pytest

from mlpipeline import backtest
from mlpipeline import forecasting as fc
from mlpipeline.backtest import COLUMNS, format_table, run_backtest, target_failures
from mlpipeline.forecasting import ModelForecast


def daily_sales(categories=("womens_dresses", "accessories"), stores=("S001", "S002")):
    """Three years of daily sales with a yearly cycle and Poisson noise."""
    dates = pd.date_range("2022-01-01", "2024-12-31", freq="D")
    rng = np.random.default_rng(11)
    rows = []
    for category in categories:
        for store in stores:
            mean = 40 * (1 + 0.4 * np.sin(2 * np.pi * dates.day_of_year.to_numpy() / 365.25))
            rows.append(pd.DataFrame({
                "date": dates, "store_id": store, "category": category,
                "quantity_sold": rng.poisson(mean), "revenue": np.nan,
            }))
    return pd.concat(rows, ignore_index=True)


def last_year_model(series, steps, time_budget_s):
    return fc.seasonal_naive(series, steps)


def broken_model(series, steps, time_budget_s):
    raise RuntimeError("boom")


def flat_model(series, steps, time_budget_s):
    mean = np.full(steps, float(series.mean()))
    return ModelForecast(mean, mean * 0.8, mean * 1.2)


@pytest.fixture
def cheap_models(monkeypatch):
    monkeypatch.setitem(fc.MODELS, "prophet", last_year_model)
    monkeypatch.setitem(fc.MODELS, "arima", flat_model)


def test_one_row_per_category_and_model(cheap_models):
    table = run_backtest(daily_sales(), horizon=4, origins=3)
    assert list(table.columns) == COLUMNS
    assert list(zip(table["category"], table["model"])) == [
        (category, model)
        for category in ("accessories", "womens_dresses")
        for model in backtest.REPORTED_MODELS
    ]
    members = table[table["model"] != "combination"]
    assert (members["origins"] == 3).all() and (members["failures"] == 0).all()
    # the first origin has a year of history: too little for the inner backtest
    assert (table.loc[table["model"] == "combination", "origins"] == 2).all()
    assert table["coverage"].between(0, 1).all()
    # prophet stands in for the seasonal naive here: identical scores
    rows = table[table["category"] == "accessories"].set_index("model")
    assert rows.loc["prophet", "wape"] == pytest.approx(rows.loc["seasonal_naive", "wape"])
    models_mean = (rows.loc["prophet", "wape"] + rows.loc["arima", "wape"]) / 2
    assert rows.loc["ensemble", "wape"] < models_mean


def test_failed_model_is_counted_not_scored(cheap_models, monkeypatch):
    monkeypatch.setitem(fc.MODELS, "prophet", broken_model)
    table = run_backtest(daily_sales(categories=("accessories",)), horizon=4, origins=2)
    prophet = table.set_index("model").loc["prophet"]
    assert prophet["failures"] == 2 and prophet["origins"] == 0
    assert np.isnan(prophet["wape"])
    rows = table.set_index("model")
    assert rows.loc["ensemble", "failures"] == 2  # needs both members
    assert rows.loc["combination", "origins"] == 1 and rows.loc["arima", "origins"] == 2


def test_too_short_history_is_an_error(cheap_models):
    frame = daily_sales(categories=("accessories",))
    with pytest.raises(ValueError, match="too short"):
        run_backtest(frame[frame["date"] < "2022-10-01"], horizon=12)


def table_with(ensemble: float, naive: float, prophet: float, arima: float) -> pd.DataFrame:
    rows = [["accessories", name, value, 0.0, 0.0, 0.8, 0.0, 0.1, 4, 0]
            for name, value in (("prophet", prophet), ("arima", arima),
                                ("ensemble", ensemble), ("seasonal_naive", naive))]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_targets():
    assert target_failures(table_with(ensemble=0.05, naive=0.06, prophet=0.06, arima=0.05)) == []
    assert target_failures(table_with(ensemble=0.066, naive=0.06, prophet=0.07, arima=0.07)) == []
    worse = target_failures(table_with(ensemble=0.067, naive=0.06, prophet=0.07, arima=0.07))
    assert len(worse) == 1 and "seasonal naive" in worse[0]
    no_gain = target_failures(table_with(ensemble=0.05, naive=0.06, prophet=0.05, arima=0.05))
    assert len(no_gain) == 1 and "mean of prophet and arima" in no_gain[0]


def test_format_table():
    text = format_table(table_with(ensemble=0.0512, naive=0.06, prophet=0.06, arima=0.05))
    lines = text.splitlines()
    assert lines[0].startswith("| category | model | WAPE | MAPE | bias |")
    assert len(lines) == 2 + 4
    assert "| accessories | ensemble | 5.12% |" in text


def test_command_line_on_a_csv(cheap_models, tmp_path, capsys):
    path = tmp_path / "sales.csv"
    frame = daily_sales(categories=("accessories",))
    as_written = frame.assign(category="Accessories", date=frame["date"].dt.strftime("%Y-%m-%d"))
    as_written.to_csv(path, index=False)
    code = backtest.main(["--csv", str(path), "--horizon", "4", "--origins", "2"])
    out = capsys.readouterr().out
    assert "| accessories | ensemble |" in out
    assert code == (1 if "TARGET MISSED" in out else 0)


@pytest.mark.slow
def test_real_models_beat_the_baseline_target_on_seasonal_data():
    table = run_backtest(daily_sales(categories=("accessories",)), horizon=12, origins=2)
    members = table[table["model"] != "combination"]  # a year of history is too little for it
    assert (members["failures"] == 0).all()
    assert target_failures(table) == []
