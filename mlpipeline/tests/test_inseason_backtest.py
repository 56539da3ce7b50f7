"""The in-season backtest's scoring (mlpipeline.inseason_backtest) on hand-made seasons."""
from types import SimpleNamespace

import numpy as np
import pytest

from mlpipeline import inseason_backtest as backtest

PLAN = [1000.0] * 12
HISTORY = (1000 * (1 + 0.05 * np.sin(np.arange(80)))).tolist()


def plan(weekly=PLAN, width=0.1):
    return SimpleNamespace(weekly=weekly, lower=[w * (1 - width) for w in weekly],
                           upper=[w * (1 + width) for w in weekly])


def test_a_right_plan_scores_zero_for_the_plan_and_the_ratio_rule():
    row = backtest.replay("steady", "synthetic", plan(), PLAN, HISTORY)
    assert row["plan"] == 0 and row["ratio"] == 0 and row["product"] < 0.01
    assert row["var_triggers"] == 0 and row["passes"] and len(row["covered"]) == 11


def test_a_level_shift_is_learnt_and_triggers_the_variance_rule_once():
    actual = [1000.0] * 3 + [600.0] * 9
    row = backtest.replay("shift", "synthetic", plan(), actual, HISTORY)
    assert row["plan"] > 0.5 and row["product"] < row["ratio"] < row["plan"]
    assert row["var_triggers"] == 1 and row["gated_variance"] < row["plan"]


def test_within_slack_is_10_percent_or_0_02_of_the_better_rule():
    assert backtest.within_slack(0.055, plan=0.05, ratio=0.2)  # +0.005 of a small error: the 0.02 applies
    assert backtest.within_slack(0.07, plan=0.05, ratio=0.2)  # exactly + 0.02
    assert not backtest.within_slack(0.0701, plan=0.05, ratio=0.2)
    assert backtest.within_slack(0.33, plan=0.5, ratio=0.3) and not backtest.within_slack(0.331, plan=0.5, ratio=0.3)


def test_the_criterion_is_read_per_scenario_row_and_reported():
    rows = [backtest.replay(f"s{k}", "synthetic", plan(), [1000.0 * (1 + 0.1 * (-1) ** (k + w)) for w in range(12)],
                            HISTORY, kind="noisy") for k in range(2)]
    assert backtest.row_passes(rows) == backtest.within_slack(
        *(float(np.mean([r[key] for r in rows])) for key in ("product", "plan", "ratio")))
    lines = backtest.report(rows)
    assert any(line.startswith("noisy") and line.split()[1] == "2" for line in lines)
    assert any(line.startswith("- every peer and synthetic scenario") for line in lines)


def test_unknown_sets_are_refused_and_peer_needs_its_data():
    with pytest.raises(ValueError, match="unknown set"):
        backtest.run(["weekly"], None)
    assert backtest.run(["peer"], None) == []
