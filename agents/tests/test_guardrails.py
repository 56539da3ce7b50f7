"""The demand guardrail is relative to the category's own history (SPEC §8: a week at or below 0,
or above 10x the history's largest week, is impossible), never an absolute unit count. The
500-store chain that needs this runs through the API in planning/tests/test_chain_guardrails.py."""
import pytest

from agents import demand_tools, guardrails
from agents.season_tools import ToolError


def weekly_rows(units):
    return [{"week_start": f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}", "units": u} for i, u in enumerate(units)]


def test_ceiling_is_ten_times_the_largest_history_week():
    assert guardrails.weekly_ceiling(weekly_rows([100, 4_000, 250])) == 40_000
    assert guardrails.weekly_ceiling([]) is None


@pytest.mark.parametrize(("weeks", "ceiling", "allow_zero", "problem"), [
    ([366_813, 300_000], 3_400_000, False, None),  # a big chain's week is fine
    ([1_000, 40_000], 40_000, False, None),  # exactly 10x is allowed
    ([1_000, 40_001], 40_000, False, "week 2 forecasts 40,001 units, above 10 x"),
    ([1_000, 0], 40_000, False, "week 2 forecasts 0 units; weekly demand must be positive"),
    ([1_000, 0], 40_000, True, None),  # a re-forecast may expect a week without sales
    ([1_000, -3], 40_000, True, "week 2 forecasts -3 units"),
    ([9e9], None, False, None),  # no history, no ceiling
])
def test_demand_violations(weeks, ceiling, allow_zero, problem):
    found = guardrails.demand_violations(weeks, ceiling, allow_zero=allow_zero)
    assert (found[0].startswith(problem) if problem else found == [])


def test_forecast_far_above_the_history_is_refused():
    """A forecast tool result above the ceiling raises, naming the week and the history's peak."""
    with pytest.raises(ToolError, match=r"above 10 x the largest week .*\(800\)"):
        demand_tools._check_demand({"total": 10_000, "weekly": [{"units": 8_001}], "weekly_ceiling": 8_000})
