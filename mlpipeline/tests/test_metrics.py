import pandas as pd
import pytest

from mlpipeline.metrics import (
    TriggerCheck,
    bias,
    leftover_units,
    mape,
    markdown_cost,
    season_report,
    sell_through,
    stockouts,
    trigger_accuracy,
    wape,
)

ACTUAL = [100.0, 0.0, 200.0, 100.0]
FORECAST = [110.0, 10.0, 180.0, 100.0]


def test_mape_skips_weeks_without_sales():
    assert mape(ACTUAL, FORECAST) == pytest.approx((0.10 + 0.10 + 0.0) / 3)
    assert mape([0, 0], [5, 5]) is None


def test_wape_and_bias():
    assert wape(ACTUAL, FORECAST) == pytest.approx((10 + 10 + 20 + 0) / 400)
    assert bias(ACTUAL, FORECAST) == pytest.approx((400 - 400) / 400)
    assert bias([100, 100], [120, 130]) == pytest.approx(0.25)  # forecast too high
    assert wape([0], [3]) is None and bias([0], [3]) is None
    with pytest.raises(ValueError):
        wape([1, 2], [1])


def test_sell_through_leftover_and_markdown_cost():
    assert sell_through(5_500, 10_000) == 0.55 and sell_through(5, 0) is None
    assert leftover_units(9_600, 8_000) == 1_600 and leftover_units(100, 120) == 0
    assert markdown_cost(1_000, 0.20, full_price=50.0) == pytest.approx(10_000)
    assert markdown_cost(1_000, 0.20) == pytest.approx(200)


def store_weeks() -> pd.DataFrame:
    return pd.DataFrame({
        "store_id": ["S001", "S001", "S002", "S002"],
        "cluster": ["fashion_forward", "fashion_forward", "mainstream", "mainstream"],
        "week": [1, 2, 1, 2],
        "units_sold": [10, 6, 8, 8],
        "demand": [10, 9, 8, 7],
        "on_hand": [5, 0, 0, 3],
    })


def test_stockouts_need_zero_stock_and_unmet_demand():
    summary = stockouts(store_weeks())
    assert summary.count == 1  # S002 week 1 sold out but met its demand
    assert summary.store_weeks == [("S001", 2)] and summary.unmet_units == 3


def test_trigger_accuracy_compares_decisions_with_hindsight():
    checks = [
        TriggerCheck(week=1, triggered=False, baseline_season_total=8_000),  # 8,000 -> 10,000: missed
        TriggerCheck(week=2, triggered=True, baseline_season_total=8_000),  # right to fire
        TriggerCheck(week=3, triggered=True, baseline_season_total=9_800),  # within 20%: false trigger
        TriggerCheck(week=4, triggered=False, baseline_season_total=9_800),  # right to hold
    ]
    result = trigger_accuracy(checks, actual_season_total=10_000)
    assert (result.true_triggers, result.false_triggers, result.missed_triggers, result.correct_holds) == (1, 1, 1, 1)
    assert result.accuracy == 0.5 and result.checks == 4
    assert trigger_accuracy([], 10_000).accuracy is None


def test_season_report_assembles_everything():
    report = season_report(
        ACTUAL, FORECAST, manufactured=480, store_weeks=store_weeks(), markdown_pct=0.10,
        marked_down_units=100, trigger_checks=[TriggerCheck(2, False, 400)],
    )
    assert report.accuracy.wape == pytest.approx(0.10)
    assert [w.week for w in report.weeks] == [1, 2, 3, 4]
    assert report.weeks[1].abs_pct_error is None and report.weeks[0].error == 10
    assert report.units_sold == 400 and report.sell_through == pytest.approx(400 / 480)
    assert report.leftover_units == 80
    assert report.stockouts.count == 1
    assert report.markdown_cost == pytest.approx(10)
    assert report.trigger_accuracy.accuracy == 1.0
    assert report.by_cluster["fashion_forward"].bias == pytest.approx((19 - 16) / 16)
    assert report.by_cluster["mainstream"].wape == pytest.approx(1 / 16)


def test_season_report_without_optional_inputs():
    report = season_report(ACTUAL, FORECAST, manufactured=400)
    assert report.stockouts is None and report.trigger_accuracy is None and report.by_cluster == {}
    assert report.markdown_cost == 0 and report.leftover_units == 0
