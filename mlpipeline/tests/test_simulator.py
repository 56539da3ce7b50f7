import time

import numpy as np
import pandas as pd
import pytest

from mlpipeline.allocation import (
    allocate,
    markdown_recommendation,
    plan_replenishment,
    replenishment_due,
    replenishment_need,
    split_initial_holdback,
)
from mlpipeline.economics import Economics, LogNormalDemand, NormalDemand, buy_outcomes
from mlpipeline.simulator import (
    MAX_SCENARIOS,
    ZERO_NOISE,
    KnownDemand,
    Noise,
    Scenario,
    SeasonDraws,
    SeasonPlan,
    SeasonState,
    _run_all,
    _ScenarioRun,
    compare_rest_of_season,
    compare_scenarios,
    markdown_depth,
    replay_season,
    run_scenario,
    simulate_season,
    store_quantities,
)

ECON = Economics(price=10.0, cost=4.0, salvage=1.0)


def exact(total: float) -> LogNormalDemand:
    return LogNormalDemand(median=total, sigma=0.0)


def chain(n_stores: int = 50, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    clusters = np.array(["fashion_forward", "mainstream", "value_conscious"])[np.arange(n_stores) % 3]
    return pd.DataFrame({
        "store_id": [f"S{i:03d}" for i in range(n_stores)],
        "cluster": clusters,
        "historical_units": rng.uniform(200, 2_000, n_stores).round(),
        "store_size_sqft": rng.uniform(6_000, 15_000, n_stores).round(),
        "median_income": rng.uniform(35_000, 140_000, n_stores).round(),
    })


def engine_plan(total: float = 8_000, weeks: int = 12, stores: int = 50):
    weekly = total * (1 + 0.4 * np.sin(np.arange(weeks) / 2))
    weekly = weekly * total / weekly.sum()
    return allocate(total, weekly.tolist(), chain(stores), safety_stock_pct=0.20, holdback_pct=0.45)


# --- zero noise: the deterministic plan, by hand --------------------------------------------------


def test_zero_noise_without_replenishment_sells_min_of_demand_and_stock_per_store_week():
    plan = SeasonPlan([100, 200, 100], [0.6, 0.4])
    result = simulate_season(plan, exact(400), ECON, Scenario("lean", 300), paths=3, noise=ZERO_NOISE)
    # initial 180 / 120. Store A demand 60, 120, 60: sells 60, 120, then nothing (60 lost);
    # store B demand 40, 80, 40: sells 40, 80, then nothing (40 lost).
    assert result.expected_units_sold == pytest.approx(300)
    assert result.expected_lost_sales == pytest.approx(100)
    assert result.expected_leftover_units == pytest.approx(0)
    assert result.stockout_probability == pytest.approx(2 / 6)
    assert result.demand_exceeds_buy_probability == 1.0
    assert result.expected_revenue == pytest.approx(3_000)
    assert result.expected_gross_margin == pytest.approx(3_000 - 4 * 300)
    assert result.gross_margin_p10 == result.gross_margin_p90 == pytest.approx(1_800)
    assert np.allclose(result.margin, 1_800) and result.margin.shape == (3,)


def test_zero_noise_weekly_replenishment_ships_one_week_of_plan_less_stock_the_next_week():
    plan = SeasonPlan([100, 200, 100], [0.6, 0.4])
    scenario = Scenario("hold", 400, holdback_pct=0.5, replenishment_strategy="weekly")
    result = simulate_season(plan, exact(400), ECON, scenario, paths=2, noise=ZERO_NOISE)
    # initial 120 / 80, holdback 120 / 80 (allocated 240 / 160). After week 1 (sold 60 / 40):
    # need = ceil(max(0, (240 - 120) / 2 - 60)) = 0 and (160 - 80) / 2 - 40 = 0: nothing ships.
    # Week 2 demand 120 / 80 against 60 / 40 on hand: 60 + 40 lost. After week 2 the need is
    # 120 / 1 - 0 and 80 / 1 - 0: the DC ships 200, on the shelf in week 3 (demand 60 / 40).
    assert result.expected_units_sold == pytest.approx(300)
    assert result.expected_lost_sales == pytest.approx(100)
    assert result.expected_leftover_units == pytest.approx(100)
    assert result.stockout_probability == pytest.approx(2 / 6)
    assert result.expected_gross_margin == pytest.approx(10 * 300 + 1 * 100 - 4 * 400)


def test_a_known_season_replays_through_the_same_flows():
    plan = SeasonPlan([100, 200, 100], [0.6, 0.4])
    scenario = Scenario("hold", 400, holdback_pct=0.5, replenishment_strategy="weekly")
    known = np.array([[60, 40], [120, 80], [60, 40]])
    [replayed] = replay_season(plan, known, ECON, [scenario])
    drawn = simulate_season(plan, exact(400), ECON, scenario, paths=1, noise=ZERO_NOISE)
    assert replayed.summary() == pytest.approx(drawn.summary())
    with pytest.raises(ValueError, match="demand must be"):
        KnownDemand(plan, np.ones((2, 2)))


def test_zero_noise_reproduces_the_engine_plan():
    plan = engine_plan()
    season = SeasonPlan.from_allocation(plan)
    initial, holdback = store_quantities(season, plan.manufacturing_qty, plan.holdback_pct)
    assert initial.tolist() == [s.initial_units for s in plan.stores]
    assert holdback.tolist() == [s.holdback_units for s in plan.stores]
    assert initial.sum() == plan.initial_total == 5_280 and holdback.sum() == plan.holdback_total == 4_320
    scenario = Scenario("plan", plan.manufacturing_qty, plan.holdback_pct, "weekly")
    result = simulate_season(season, exact(plan.forecast_total), ECON, scenario, paths=2, noise=ZERO_NOISE)
    # every store is allocated 1.2 x its demand and shipped a week ahead: all demand is served
    assert result.expected_units_sold == pytest.approx(8_000)
    assert result.expected_lost_sales == pytest.approx(0, abs=1e-6)
    assert result.stockout_probability == 0
    assert result.expected_leftover_units == pytest.approx(1_600)
    assert result.expected_gross_margin == pytest.approx(10 * 8_000 + 1_600 - 4 * 9_600)


def test_store_quantities_round_like_the_engine_at_other_buys():
    plan = engine_plan(stores=37)
    season = SeasonPlan.from_allocation(plan)
    for qty, holdback_pct in ((7_001, 0.3), (12_345, 0.0), (9_999, 1.0)):
        initial, holdback = store_quantities(season, qty, holdback_pct)
        init_total, hold_total = split_initial_holdback(qty, holdback_pct)
        assert (initial.sum(), holdback.sum()) == (init_total, hold_total)
        assert (initial >= 0).all() and (holdback >= 0).all()


def engine_reference(season: SeasonPlan, draws: SeasonDraws, scenario: Scenario, path: int) -> dict:
    """One path moved store by store with the engine's own functions (allocation.py)."""
    horizon, ids = season.horizon, season.store_ids
    initial, holdback = store_quantities(season, scenario.manufacturing_qty, scenario.holdback_pct)
    allocated = {s: int(initial[i] + holdback[i]) for i, s in enumerate(ids)}
    on_hand = {s: float(initial[i]) for i, s in enumerate(ids)}
    shipped = dict(on_hand)
    dc = int(holdback.sum())
    sold_total = revenue = 0.0
    depth = lift = 0.0
    scale = 1.0
    for week in range(1, horizon + 1):
        demand = draws.week_demand(week - 1)[path]
        marked = scenario.markdown_checkpoint_week is not None and week > scenario.markdown_checkpoint_week
        for i, store in enumerate(ids):
            want = demand[i] * (1 + lift) if marked else demand[i]
            sold = min(want, on_hand[store])
            on_hand[store] -= sold
            sold_total += sold
            revenue += ECON.price * (1 - depth if marked else 1) * sold
        if week < horizon and replenishment_due(week, scenario.replenishment_strategy):
            needs = {s: replenishment_need(allocated[s] * scale - shipped[s], horizon - week, on_hand[s]) for s in ids}
            shipments = plan_replenishment(needs, dc)
            for shipment in shipments.shipments:  # on the shelf for next week's sales
                shipped[shipment.store_id] += shipment.quantity
                on_hand[shipment.store_id] += shipment.quantity
            dc = shipments.dc_remaining
        if week == scenario.markdown_checkpoint_week:
            md = markdown_recommendation(sold_total, scenario.manufacturing_qty, scenario.markdown_threshold,
                                         scenario.elasticity)
            depth, lift = md.markdown_pct, md.expected_lift
            scale = 1 + lift * sum(season.weekly_forecast[week:]) / sum(season.weekly_forecast)
    leftover = sum(on_hand.values()) + dc
    return {"sold": sold_total, "leftover": leftover,
            "margin": revenue + ECON.salvage * leftover - ECON.cost * scenario.manufacturing_qty}


@pytest.mark.parametrize("strategy, holdback_pct, qty", [("weekly", 0.45, 9_600), ("bi-weekly", 0.3, 8_400),
                                                         ("none", 0.0, 10_000), ("weekly", 0.6, 7_000)])
def test_noisy_paths_move_stock_exactly_as_the_engine_functions(strategy, holdback_pct, qty):
    plan = engine_plan(stores=12)
    season = SeasonPlan.from_allocation(plan)
    draws = SeasonDraws(season, LogNormalDemand(8_000, 0.15), paths=6, seed=11, noise=Noise(0.15, 0.3, 0.2))
    scenario = Scenario("s", qty, holdback_pct, strategy, markdown_checkpoint_week=6, markdown_threshold=0.6)
    result = run_scenario(draws, ECON, scenario)
    for path in range(draws.paths):
        expected = engine_reference(season, draws, scenario, path)
        assert result.margin[path] == pytest.approx(expected["margin"], rel=1e-9)


# --- markdown ---------------------------------------------------------------------------------------


def test_markdown_at_the_checkpoint_cuts_price_and_lifts_later_demand():
    plan = SeasonPlan([100, 100, 100, 100], [1.0])
    scenario = Scenario("md", 500, markdown_checkpoint_week=2, markdown_threshold=0.6, elasticity=2.0)
    result = simulate_season(plan, exact(400), ECON, scenario, paths=1, noise=ZERO_NOISE)
    # sell-through 200 / 500 = 0.40, gap 0.20 x 2.0 = 0.40 markdown, lift 1.5 x 0.40 = 0.60:
    # weeks 3-4 demand 160 each against 300 on hand at 6.00 each
    assert markdown_recommendation(200, 500, 0.6, 2.0).markdown_pct == 0.40
    assert result.expected_markdown_pct == pytest.approx(0.40)
    assert result.markdown_probability == 1.0
    assert result.expected_demand == pytest.approx(200 + 320)
    assert result.expected_units_sold == pytest.approx(500)
    assert result.expected_lost_sales == pytest.approx(20)
    assert result.expected_revenue == pytest.approx(200 * 10 + 300 * 6)
    assert result.expected_markdown_cost == pytest.approx(300 * 4)
    on_track = simulate_season(plan, exact(400), ECON, Scenario("ok", 300, markdown_checkpoint_week=2),
                               paths=1, noise=ZERO_NOISE)
    assert on_track.expected_markdown_pct == 0 and on_track.expected_markdown_cost == 0


def test_fixed_markdown_depth_applies_only_under_the_threshold():
    plan = SeasonPlan([100, 100, 100, 100], [1.0])
    deep = simulate_season(plan, exact(400), ECON, Scenario("d", 500, markdown_checkpoint_week=2, markdown_pct=0.1),
                           paths=1, noise=ZERO_NOISE)
    assert deep.expected_markdown_pct == pytest.approx(0.1)
    assert deep.expected_demand == pytest.approx(200 + 2 * 115)
    fine = simulate_season(plan, exact(400), ECON, Scenario("f", 300, markdown_checkpoint_week=2, markdown_pct=0.1),
                           paths=1, noise=ZERO_NOISE)
    assert fine.expected_markdown_pct == 0


@pytest.mark.parametrize("sold, mfg, target, elasticity", [
    (5_200, 9_600, 0.60, 3.0), (6_300, 10_000, 0.60, 2.0), (5_800, 10_000, 0.60, 2.0), (5_500, 10_000, 0.60, 2.5),
    (5_000, 10_000, 0.60, 2.0), (3_500, 10_000, 0.60, 2.0), (4_000, 10_000, 0.60, 2.0),
])
def test_vectorised_markdown_matches_the_exact_formula(sold, mfg, target, elasticity):
    expected = markdown_recommendation(sold, mfg, target, elasticity).markdown_pct
    assert markdown_depth(np.array([sold / mfg]), target, elasticity)[0] == pytest.approx(expected, abs=1e-12)


# --- the random part -------------------------------------------------------------------------------


def noisy_plan():
    return SeasonPlan.from_allocation(engine_plan())


def test_same_seed_same_numbers_and_another_seed_others():
    season = noisy_plan()
    scenario = Scenario("s", 9_600, 0.45, "weekly", 6, 0.6)
    demand = LogNormalDemand(8_000, 0.2)
    noise = Noise(0.1, 0.1, 0.1)
    first = simulate_season(season, demand, ECON, scenario, paths=300, seed=42, noise=noise)
    again = simulate_season(season, demand, ECON, scenario, paths=300, seed=42, noise=noise)
    other = simulate_season(season, demand, ECON, scenario, paths=300, seed=43, noise=noise)
    assert first.summary() == again.summary()
    assert np.array_equal(first.margin, again.margin)
    assert first.expected_gross_margin != other.expected_gross_margin


def test_more_buy_never_means_less_leftover():
    """Without a markdown: with one, a bigger buy can mark down deeper and sell more than it added."""
    season = noisy_plan()
    draws = SeasonDraws(season, LogNormalDemand(8_000, 0.2), paths=500, seed=3, noise=Noise(0.1, 0.15, 0.1))
    for strategy, holdback_pct in (("weekly", 0.45), ("none", 0.0), ("bi-weekly", 0.3)):
        leftover = [run_scenario(draws, ECON, Scenario(f"q{q}", q, holdback_pct, strategy)).expected_leftover_units
                    for q in range(6_000, 12_001, 500)]
        assert all(b >= a for a, b in zip(leftover, leftover[1:])), (strategy, leftover)


def test_one_store_one_week_matches_the_closed_form_newsvendor():
    plan = SeasonPlan([1.0], [1.0])
    demand = NormalDemand(1000, 200)
    result = simulate_season(plan, demand, ECON, Scenario("q", 1086), paths=200_000, seed=1, noise=ZERO_NOISE)
    closed = buy_outcomes(1086, demand, ECON)
    assert result.expected_gross_margin == pytest.approx(closed.expected_gross_margin, rel=5e-3)
    assert result.expected_leftover_units == pytest.approx(closed.expected_leftover_units, rel=2e-2)
    assert result.demand_exceeds_buy_probability == pytest.approx(closed.stockout_probability, abs=5e-3)


def test_compare_scenarios_on_common_draws_recommends_the_best_margin():
    season = noisy_plan()
    scenarios = [Scenario(f"ss{ss}", round(8_000 * (1 + ss / 100)), 0.45, "weekly", 6, 0.6) for ss in (10, 20, 30)]
    scenarios.append(Scenario("ss20 again", scenarios[1].manufacturing_qty, 0.45, "weekly", 6, 0.6))
    comparison = compare_scenarios(season, LogNormalDemand(8_000, 0.15), ECON, scenarios, paths=400, seed=9)
    by_name = {r.name: r for r in comparison.scenarios}
    assert np.array_equal(by_name["ss20"].margin, by_name["ss20 again"].margin)
    assert comparison.recommended == max(comparison.scenarios, key=lambda r: r.expected_gross_margin).name
    assert (comparison.paths, comparison.seed) == (400, 9)
    assert set(by_name["ss10"].summary()) >= {"expected_sell_through", "gross_margin_p10", "gross_margin_p90"}
    with pytest.raises(ValueError, match="1..8"):
        compare_scenarios(season, exact(8_000), ECON, [Scenario(f"{i}", 9_000) for i in range(MAX_SCENARIOS + 1)])
    with pytest.raises(ValueError, match="unique"):
        compare_scenarios(season, exact(8_000), ECON, [Scenario("a", 9_000), Scenario("a", 9_100)])


@pytest.mark.parametrize("scenario, message", [
    (Scenario("x", -1), "manufacturing_qty"),
    (Scenario("x", 100, replenishment_strategy="daily"), "replenishment strategy"),
    (Scenario("x", 100, markdown_checkpoint_week=13), "markdown_checkpoint_week"),
    (Scenario("x", 100, markdown_checkpoint_week=6, markdown_pct=0.5), "markdown_pct"),
    (Scenario("x", 100, elasticity=4.0), "elasticity"),
])
def test_invalid_scenarios_are_refused(scenario, message):
    with pytest.raises(ValueError, match=message):
        simulate_season(noisy_plan(), exact(8_000), ECON, scenario, paths=10)


def test_a_2000_store_season_runs():
    rng = np.random.default_rng(0)
    season = SeasonPlan(np.full(12, 50_000.0), rng.uniform(0.5, 2.0, 2_000),
                        store_ids=tuple(f"S{i:04d}" for i in range(2_000)))
    scenario = Scenario("big", 720_000, 0.45, "weekly", 6, 0.6)
    started = time.perf_counter()
    result = simulate_season(season, LogNormalDemand(600_000, 0.15), ECON, scenario, paths=200, seed=1)
    assert time.perf_counter() - started < 20
    assert result.margin.shape == (200,) and np.isfinite(result.margin).all()
    assert 0 < result.expected_units_sold <= 720_000


# --- the rest of the season, at the markdown approval -------------------------------------------------


def test_rest_of_season_from_a_hand_made_state():
    rest = SeasonPlan([100, 100], [0.5, 0.5])
    state = SeasonState(week=2, manufacturing_qty=500, on_hand=[150, 50], shipped=[250, 250], allocated=[250, 250],
                        dc_available=0, sold_to_date=300, revenue_to_date=3_000, original_plan_total=400)
    scenarios = [Scenario("none", 500), Scenario("20%", 500, markdown_pct=0.20)]
    comparison = compare_rest_of_season(rest, exact(200), ECON, state, scenarios, paths=2, noise=ZERO_NOISE)
    plain, marked = comparison.scenarios
    # no markdown: 50 a store a week; store B's 50 units last one week, week 4 loses 50
    assert plain.expected_units_sold == pytest.approx(300 + 100 + 50)
    assert plain.expected_lost_sales == pytest.approx(50)
    assert plain.expected_gross_margin == pytest.approx(3_000 + 10 * 150 + 1 * 50 - 4 * 500)
    # 20% off lifts demand 30%: 65 a store a week; A sells 130 of 150, B its 50
    assert marked.expected_units_sold == pytest.approx(300 + 130 + 50)
    assert marked.expected_revenue == pytest.approx(3_000 + 8 * 180)
    assert marked.expected_markdown_cost == pytest.approx(2 * 180)
    assert marked.expected_gross_margin == pytest.approx(3_000 + 8 * 180 + 1 * 20 - 4 * 500)
    assert comparison.recommended == "none"
    with pytest.raises(ValueError, match="no checkpoint"):
        compare_rest_of_season(rest, exact(200), ECON, state, [Scenario("x", 500, markdown_checkpoint_week=1)])
    with pytest.raises(ValueError, match="the buy is made"):
        compare_rest_of_season(rest, exact(200), ECON, state, [Scenario("x", 600)])


def test_rest_of_season_continues_the_full_season_exactly():
    """A full season with the markdown at week 6 equals weeks 1..6, then the rest from that state."""
    plan = engine_plan(stores=12)
    full = SeasonPlan(plan.weekly_forecast, [s.share for s in plan.stores])  # plan order, no id permutation
    draws = SeasonDraws(full, LogNormalDemand(8_000, 0.15), paths=5, seed=4, noise=Noise(0.1, 0.2, 0.2))
    demand = np.stack([draws.week_demand(t) for t in range(full.horizon)], axis=1)
    checkpoint, qty = 6, 9_600
    scenario = Scenario("md", qty, 0.45, "weekly", markdown_checkpoint_week=checkpoint, markdown_threshold=1.0,
                        markdown_pct=0.25)
    [whole] = _run_all(KnownDemand(full, demand), ECON, [scenario])
    head = _ScenarioRun(full, ECON, scenario, draws.paths, None)
    for week in range(1, checkpoint + 1):
        head.week(week, demand[:, week - 1])
    rest = SeasonPlan(full.weekly_forecast[checkpoint:], full.store_shares)
    margins = []
    for path in range(draws.paths):
        state = SeasonState(week=checkpoint, manufacturing_qty=qty, on_hand=head.on_hand[path],
                            shipped=head.shipped[path], allocated=head.allocated, dc_available=int(head.dc[path]),
                            sold_to_date=head.sold[path], revenue_to_date=head.revenue[path],
                            original_plan_total=full.forecast_total)
        [tail] = _run_all(KnownDemand(rest, demand[path, checkpoint:]), ECON,
                          [Scenario("md", qty, replenishment_strategy="weekly", markdown_pct=0.25)], start=state)
        margins.append(tail.expected_gross_margin)
    assert np.allclose(margins, whole.margin, rtol=1e-12)
