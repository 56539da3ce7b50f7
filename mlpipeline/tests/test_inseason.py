"""Behaviour of the in-season re-forecast (mlpipeline.inseason) on made-up seasons; no model fit."""
import math

import numpy as np
import pytest

from mlpipeline.inseason import (
    HistoryNoise,
    history_noise,
    inseason_path,
    inseason_reforecast,
    level_trigger,
)
from mlpipeline.inseason_scenarios import (
    FAMILY,
    make_scenario,
    multiplier_path,
    scenario_family,
)

PLAN = [1000.0, 1200, 1500, 1800, 2000, 2100, 2100, 2000, 1900, 1800, 1700, 1600]
LOWER = [0.9 * p for p in PLAN]
UPPER = [1.1 * p for p in PLAN]
NOISE = HistoryNoise(sigma=0.03, outlier_prob=0.1, outlier_sigma=0.15, weeks=156)


def noisy(multiplier, sd, seed=0):
    z = np.random.default_rng(seed).standard_normal(len(PLAN))
    return list(np.round(np.array(PLAN) * np.asarray(multiplier) * np.exp(sd * z)))


def levels(actual, weeks, noise=NOISE):
    path = inseason_path(PLAN, actual, plan_lower=LOWER, plan_upper=UPPER, noise=noise, weeks=weeks)
    return [result.level for result in path]


def test_zero_noise_steady_season_gives_the_plan():
    for n in (1, 4, 11):
        result = inseason_reforecast(PLAN, PLAN[:n], plan_lower=LOWER, plan_upper=UPPER, noise=NOISE)
        assert result.level == pytest.approx(1.0, abs=0.01)
        assert result.remaining_total == pytest.approx(sum(PLAN[n:]), rel=0.01)
        assert result.remaining_total_median == pytest.approx(sum(PLAN[n:]), rel=0.01)
        assert result.remaining_weekly == pytest.approx(PLAN[n:], rel=0.01)
        assert result.updated_total == pytest.approx(sum(PLAN), rel=0.01)


def test_no_actuals_is_the_plan_with_the_prior_interval():
    result = inseason_reforecast(PLAN, [], plan_lower=LOWER, plan_upper=UPPER, noise=NOISE)
    assert result.weeks_observed == 0
    assert result.remaining_total == pytest.approx(sum(PLAN), rel=0.01)
    assert result.remaining_total_lower < sum(PLAN) < result.remaining_total_upper


def test_level_shift_to_half_from_week_one_converges_within_a_few_weeks():
    actual = noisy([0.5] * 12, 0.03)
    path = levels(actual[:6], range(1, 7))
    assert path[0] < 0.75  # the first week already moves the level most of the way
    assert all(level == pytest.approx(0.5, rel=0.06) for level in path[2:])


def test_shift_in_mid_season_converges():
    actual = noisy(multiplier_path("shift", 12, 0.6, 5), 0.03, seed=1)
    path = levels(actual[:9], range(1, 10))
    assert path[3] == pytest.approx(1.0, rel=0.06)
    assert all(level == pytest.approx(0.6, rel=0.08) for level in path[6:])


def test_one_week_spike_moves_the_level_much_less_than_the_spike():
    actual = noisy(multiplier_path("spike", 12, 2.5, 5), 0.03, seed=2)
    path = levels(actual[:8], range(1, 9))
    before = path[3]
    assert path[4] - before < 0.2 * (2.5 - 1.0)  # the spike week itself
    assert path[7] == pytest.approx(before, rel=0.05)  # and it is forgotten once weeks are normal


def test_collapse_to_a_quarter_converges():
    actual = noisy(multiplier_path("collapse", 12, 0.25, 2), 0.05, seed=3)
    path = levels(actual[:8], range(1, 9))
    assert all(level == pytest.approx(0.25, rel=0.12) for level in path[3:])


def test_interval_widens_with_noise_and_narrows_with_evidence():
    quiet = inseason_reforecast(PLAN, noisy([1.0] * 12, 0.02)[:4], plan_lower=LOWER,
                                plan_upper=UPPER, noise=NOISE)
    loud_noise = HistoryNoise(sigma=0.15, outlier_prob=0.1, outlier_sigma=0.5, weeks=156)
    loud = inseason_reforecast(PLAN, noisy([1.0] * 12, 0.15)[:4], plan_lower=LOWER,
                               plan_upper=UPPER, noise=loud_noise)

    def width(result):
        return (result.remaining_total_upper - result.remaining_total_lower) / result.remaining_total

    assert width(loud) > 1.5 * width(quiet)
    path = inseason_path(PLAN, noisy([1.0] * 12, 0.05)[:10], plan_lower=LOWER, plan_upper=UPPER,
                         noise=NOISE, weeks=[1, 3, 10])
    spans = [r.level_upper - r.level_lower for r in path]
    assert spans[0] > spans[1] > spans[2]


def test_more_sales_never_lower_the_forecast_and_bounds_hold_the_point():
    actual = noisy([1.0] * 12, 0.05, seed=4)[:5]
    totals = []
    for scale in (0.6, 0.9, 1.0, 1.1, 1.5):
        result = inseason_reforecast(PLAN, [a * scale for a in actual], plan_lower=LOWER,
                                     plan_upper=UPPER, noise=NOISE)
        assert result.remaining_total_lower <= result.remaining_total <= result.remaining_total_upper
        assert all(lo <= point <= hi for lo, point, hi in zip(
            result.remaining_lower, result.remaining_weekly, result.remaining_upper))
        assert result.level_lower <= result.level <= result.level_upper
        assert len(result.baseline_weekly) == len(PLAN)
        assert result.updated_total == pytest.approx(sum(actual) * scale + result.remaining_total)
        totals.append(result.remaining_total)
    assert totals == sorted(totals)


def test_path_matches_single_calls_and_is_deterministic():
    actual = noisy(multiplier_path("shift", 12, 1.5, 4), 0.05, seed=5)[:7]
    path = inseason_path(PLAN, actual, noise=NOISE, weeks=[3, 7])
    for result, n in zip(path, (3, 7)):
        single = inseason_reforecast(PLAN, actual[:n], noise=NOISE)
        assert single.remaining_total == pytest.approx(result.remaining_total)
        assert single.remaining_total_upper == pytest.approx(result.remaining_total_upper)


def test_refit_shape_changes_the_weeks_not_the_level():
    actual = PLAN[:6]
    refit = [3 * p for p in PLAN[6:]]
    refit[0] *= 2
    plain = inseason_reforecast(PLAN, actual, noise=NOISE)
    blended = inseason_reforecast(PLAN, actual, noise=NOISE, refit_remaining=refit)
    assert blended.remaining_total == pytest.approx(plain.remaining_total, rel=0.01)
    assert blended.remaining_weekly[0] > plain.remaining_weekly[0]


def test_a_week_with_no_sales_and_a_zero_plan_week_are_handled():
    plan = [0.0, 100, 100, 100, 100, 100]
    result = inseason_reforecast(plan, [5, 0, 100, 100])
    assert math.isfinite(result.remaining_total) and result.remaining_total > 0
    assert result.notes  # no history noise and no interval were given


def test_history_noise_recovers_the_weekly_noise():
    weeks = np.arange(156)
    smooth = 1000 * np.exp(0.5 * np.sin(2 * np.pi * weeks / 52) + 0.002 * weeks)
    series = smooth * np.exp(0.05 * np.random.default_rng(7).standard_normal(156))
    estimate = history_noise(series)
    assert estimate.sigma == pytest.approx(0.05, rel=0.3)
    assert estimate.weeks == 156


def test_level_trigger_fires_on_a_shift_not_on_a_spike():
    def triggers(actual):
        path = inseason_path(PLAN, actual[:11], noise=NOISE, weeks=range(1, 12))
        baseline, count = list(PLAN), 0
        for n, result in zip(range(1, 12), path):
            if level_trigger(result, baseline[n:]):
                count += 1
                baseline = result.baseline_weekly
        return count

    assert triggers(noisy([1.0] * 12, 0.03, seed=8)) == 0
    assert triggers(noisy(multiplier_path("spike", 12, 2.0, 5), 0.03, seed=8)) <= 1
    assert triggers(noisy(multiplier_path("shift", 12, 0.6, 5), 0.03, seed=8)) >= 1


@pytest.mark.parametrize("call", [
    lambda: inseason_reforecast(PLAN, [-1]),
    lambda: inseason_reforecast(PLAN, [float("nan")]),
    lambda: inseason_reforecast(PLAN, PLAN + [1]),
    lambda: inseason_reforecast([], []),
    lambda: inseason_reforecast([0, 0, 0], [1]),
    lambda: inseason_reforecast(PLAN, [1], plan_lower=LOWER),
    lambda: inseason_reforecast(PLAN, [1], plan_lower=LOWER[:3], plan_upper=UPPER),
    lambda: inseason_reforecast(PLAN, [1], plan_lower=UPPER, plan_upper=UPPER),
    lambda: inseason_reforecast(PLAN, [1], plan_sigma=-0.1),
    lambda: inseason_reforecast(PLAN, [1], refit_remaining=[1, 2]),
    lambda: inseason_reforecast(PLAN, [1], refit_shape_weight=1.5),
    lambda: inseason_path(PLAN, [1, 2], weeks=[3]),
    lambda: history_noise([1, 2, 3]),
    lambda: level_trigger(inseason_reforecast(PLAN, PLAN[:2]), PLAN[2:], width=0.7),
    lambda: multiplier_path("wobble", 12, 1.0, 1),
    lambda: make_scenario(PLAN, "spike", size=2.0, at_week=13),
    lambda: make_scenario(PLAN, "steady", size=1.0, noise_sd=-1),
])
def test_invalid_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_scenarios_are_seeded_and_follow_their_multiplier():
    first = list(scenario_family(PLAN, seed=3))
    again = list(scenario_family(PLAN, seed=3))
    assert [s.actual_weekly for s in first] == [s.actual_weekly for s in again]
    assert len(first) == len(FAMILY)
    clean = make_scenario(PLAN, "trend_break", size=-0.1, at_week=5)
    assert clean.multiplier[:4] == [1.0] * 4
    assert clean.multiplier[4] == pytest.approx(0.9)
    assert clean.actual_weekly[5] == round(PLAN[5] * 0.81)
    collapse = multiplier_path("collapse", 12, 0.25, 2)
    assert collapse[0] == 1.0 and set(collapse[1:]) == {0.25}
