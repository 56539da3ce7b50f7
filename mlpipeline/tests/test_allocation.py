import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mlpipeline.allocation import (
    allocate,
    cluster_shares,
    default_safety_stock,
    manufacturing_quantity,
    markdown_recommendation,
    plan_replenishment,
    replenishment_due,
    replenishment_need,
    split_by_shares,
    split_initial_holdback,
    store_factors,
    store_weekly_plan,
    variance_check,
)

CLUSTERS = ["fashion_forward", "mainstream", "value_conscious"]


def vector_chain() -> pd.DataFrame:
    """Cluster sales 10,000 / 8,750 / 6,250 (40/35/25%). In fashion_forward, Store_01 sold 548 of
    10,000 units (5.48%) and is larger than its 19 peers (attribute share 5.55%)."""
    rows = [{"store_id": "Store_01", "cluster": "fashion_forward", "historical_units": 548,
             "store_size_sqft": 12_350, "median_income": 60_000}]
    rows += [{"store_id": f"Store_{i:02d}", "cluster": "fashion_forward", "historical_units": 9_452 / 19,
              "store_size_sqft": 10_000, "median_income": 60_000} for i in range(2, 21)]
    rows += [{"store_id": f"Store_{i:02d}", "cluster": "mainstream", "historical_units": 8_750 / 15,
              "store_size_sqft": 9_000 + 100 * i, "median_income": 55_000} for i in range(21, 36)]
    rows += [{"store_id": f"Store_{i:02d}", "cluster": "value_conscious", "historical_units": 6_250 / 15,
              "store_size_sqft": 7_000, "median_income": 35_000 + 500 * i} for i in range(36, 51)]
    return pd.DataFrame(rows)


# --- SPEC §4 vectors ----------------------------------------------------------------------------


def test_cluster_split_vector_40_35_25_of_8000():
    shares = cluster_shares({"fashion_forward": 4_000, "mainstream": 3_500, "value_conscious": 2_500})
    assert shares == pytest.approx({"fashion_forward": 0.40, "mainstream": 0.35, "value_conscious": 0.25})
    assert split_by_shares(8_000, shares) == {"fashion_forward": 3_200, "mainstream": 2_800, "value_conscious": 2_000}


def test_store_factor_vector_store_01():
    factors = store_factors(vector_chain()).set_index("store_id")
    store = factors.loc["Store_01"]
    assert round(store["historical_share"], 4) == 0.0548
    assert round(store["attribute_share"], 4) == 0.0555
    assert store["factor"] == pytest.approx(0.7 * store["historical_share"] + 0.3 * store["attribute_share"])
    assert round(store["factor"], 4) == 0.0550
    assert factors.groupby("cluster")["factor"].sum().tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_allocation_vector_store_01_gets_176_of_3200():
    plan = allocate(8_000, [8_000 / 12] * 12, vector_chain(), safety_stock_pct=0.20, holdback_pct=0.45)
    assert [(c.cluster, c.planned_units) for c in plan.clusters] == [
        ("fashion_forward", 3_200), ("mainstream", 2_800), ("value_conscious", 2_000)]
    store = next(s for s in plan.stores if s.store_id == "Store_01")
    assert store.planned_units == 176
    assert (plan.manufacturing_qty, plan.initial_total, plan.holdback_total) == (9_600, 5_280, 4_320)


def test_manufacturing_vectors():
    assert manufacturing_quantity(8_000, 0.20) == 9_600
    assert manufacturing_quantity(8_000, 0.25) == 10_000
    assert manufacturing_quantity(8_000, default_safety_stock("weekly")) == 9_600
    assert manufacturing_quantity(8_000, default_safety_stock("none")) == 10_000


def test_manufacturing_rounds_half_up_and_bounds_safety_stock():
    assert manufacturing_quantity(1_005, 0.10) == 1_106  # 1,105.5 -> 1,106
    assert manufacturing_quantity(100, 0.10) == 110 and manufacturing_quantity(100, 0.30) == 130
    for bad in (0.09, 0.31, -0.2):
        with pytest.raises(ValueError, match="safety_stock_pct"):
            manufacturing_quantity(8_000, bad)


def test_default_safety_stock():
    assert default_safety_stock("weekly") == 0.20
    assert default_safety_stock("bi-weekly") == 0.20
    assert default_safety_stock("none") == 0.25
    with pytest.raises(ValueError):
        default_safety_stock("monthly")


def test_split_vectors():
    assert split_initial_holdback(9_600, 0.45) == (5_280, 4_320)
    assert split_initial_holdback(10_000, 0.0) == (10_000, 0)
    assert split_initial_holdback(10_000, 1.0) == (0, 10_000)
    assert split_initial_holdback(5, 0.5) == (3, 2)  # 2.5 rounds half up
    with pytest.raises(ValueError):
        split_initial_holdback(100, 1.5)


def test_replenishment_need_vector():
    assert replenishment_need(105 - 58, remaining_weeks=12 - 2, on_hand=2) == 3


def test_replenishment_need_edges():
    assert replenishment_need(30, 10, 3) == 0  # exactly covered
    assert replenishment_need(30, 10, 5) == 0  # overstocked
    assert replenishment_need(-4, 10, 0) == 0  # over-shipped already
    assert replenishment_need(30, 0, 0) == 0  # season over


def test_replenishment_due_by_strategy():
    assert [replenishment_due(w, "weekly") for w in (1, 2, 3)] == [True, True, True]
    assert [replenishment_due(w, "bi-weekly") for w in (1, 2, 3, 4)] == [False, True, False, True]
    assert not any(replenishment_due(w, "none") for w in range(1, 13))
    with pytest.raises(ValueError):
        replenishment_due(0, "weekly")


def test_plan_replenishment_orders_by_need_and_flags_partial():
    plan = plan_replenishment({"S003": 5, "S001": 8, "S002": 5, "S004": 0}, dc_available=15)
    assert [(s.store_id, s.quantity, s.partial) for s in plan.shipments] == [
        ("S001", 8, False), ("S002", 5, False), ("S003", 2, True)]
    assert plan.unmet == {"S003": 3}
    assert (plan.shipped_total, plan.dc_remaining) == (15, 0)


def test_plan_replenishment_with_empty_dc_ships_nothing():
    plan = plan_replenishment({"S001": 4}, dc_available=0)
    assert plan.shipments == [] and plan.unmet == {"S001": 4}


def test_variance_vector_3200_vs_2550_is_red():
    result = variance_check(3_200, 2_550)
    assert round(result.variance, 3) == 0.255
    assert (result.band, result.label, result.direction) == ("red", "re-forecast", "over")
    assert result.exceeded and not result.emergency


def test_variance_exactly_threshold_does_not_trigger():
    result = variance_check(3_060, 2_550)
    assert result.variance == pytest.approx(0.20)
    assert not result.exceeded
    assert (result.band, result.label) == ("amber", "elevated")
    assert not variance_check(1.2, 1.0).exceeded  # 0.2 even where float division is noisy


@pytest.mark.parametrize(("actual", "band", "label", "emergency", "overstock"), [
    (1_050, "green", "on track", False, False),
    (900, "amber", "elevated", False, False),
    (1_310, "red", "re-forecast", True, False),
    (690, "red", "re-forecast", False, True),  # far below plan: an over-stock review, never an order
    (700, "red", "re-forecast", False, False),  # exactly 30% below is not more than 30%
])
def test_variance_bands(actual, band, label, emergency, overstock):
    result = variance_check(actual, 1_000)
    assert (result.band, result.label, result.emergency, result.overstock) == (band, label, emergency, overstock)
    assert result.signed_variance == pytest.approx((actual - 1_000) / 1_000)


def test_variance_emergency_is_strictly_above_30_percent():
    assert not variance_check(1_300, 1_000).emergency


def test_variance_with_zero_baseline():
    assert variance_check(0, 0).variance == 0.0 and variance_check(0, 0).band == "green"
    sold = variance_check(40, 0)
    assert sold.variance == 1.0 and sold.exceeded and sold.emergency and sold.direction == "over"


@pytest.mark.parametrize(("sell_through", "markdown"), [
    (0.63, 0.0), (0.58, 0.05), (0.55, 0.10), (0.52, 0.15), (0.50, 0.20), (0.40, 0.40), (0.35, 0.40)])
def test_markdown_vectors(sell_through, markdown):
    result = markdown_recommendation(round(sell_through * 10_000), 10_000, target=0.60, elasticity=2.0)
    assert result.sell_through == sell_through
    assert result.markdown_pct == markdown
    assert result.expected_lift == pytest.approx(1.5 * markdown)
    assert result.on_track == (sell_through >= 0.60)


def test_markdown_elasticity_2_5_rounds_0_125_up_to_0_15():
    result = markdown_recommendation(5_500, 10_000, elasticity=2.5)
    assert result.raw_markdown == 0.125 and result.markdown_pct == 0.15
    assert "0.125" not in result.formula and "12.5%" in result.formula


def test_markdown_on_track_and_elasticity_bounds():
    assert markdown_recommendation(6_000, 10_000).markdown_pct == 0.0  # gap 0 -> on track
    assert "on track" in markdown_recommendation(6_300, 10_000).formula
    assert "capped at 40%" in markdown_recommendation(3_500, 10_000).formula
    for bad in (0.9, 3.1):
        with pytest.raises(ValueError, match="elasticity"):
            markdown_recommendation(5_500, 10_000, elasticity=bad)


def test_store_weekly_plan_is_share_of_category_curve():
    weekly = [600.0, 700.0, 700.0]
    plan = allocate(2_000, weekly, vector_chain(), safety_stock_pct=0.20, holdback_pct=0.45)
    store = plan.stores[0]
    assert store_weekly_plan(store.share, weekly) == pytest.approx([store.share * w for w in weekly])
    assert plan.store_weekly_plan(store.store_id) == pytest.approx([store.share * w for w in weekly])
    assert sum(sum(plan.store_weekly_plan(s.store_id)) for s in plan.stores) == pytest.approx(2_000)


def test_allocate_rejects_weekly_curve_that_does_not_add_up():
    with pytest.raises(ValueError, match="weekly forecast"):
        allocate(8_000, [100.0] * 12, vector_chain(), 0.20, 0.45)


def test_split_by_shares_ties_and_errors():
    assert split_by_shares(1, {"b": 1, "a": 1}) == {"b": 1, "a": 0}  # equal: first listed wins
    assert split_by_shares(2, {"a": 1, "b": 2, "c": 2}) == {"a": 0, "b": 1, "c": 1}  # larger share wins
    assert split_by_shares(0, {"a": 0}) == {"a": 0}
    with pytest.raises(ValueError):
        split_by_shares(5, {"a": 0, "b": 0})
    with pytest.raises(ValueError):
        split_by_shares(5, {"a": -1, "b": 2})


# --- properties ---------------------------------------------------------------------------------

shares_strategy = st.dictionaries(
    st.text(min_size=1, max_size=4),
    st.one_of(st.just(0.0), st.floats(min_value=0, max_value=1e6, allow_nan=False)),
    min_size=1, max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 10**6), shares=shares_strategy)
def test_split_by_shares_sums_exactly_and_never_negative(total, shares):
    assume(total == 0 or sum(shares.values()) > 0)
    units = split_by_shares(total, shares)
    assert sum(units.values()) == total
    assert all(u >= 0 for u in units.values())
    assert all(units[k] == 0 for k, s in shares.items() if s == 0)
    weight = sum(shares.values())
    if total:
        assert all(abs(units[k] - total * s / weight) < 1 + 1e-6 for k, s in shares.items())


@settings(max_examples=200, deadline=None)
@given(mfg=st.integers(0, 10**6), holdback=st.floats(0, 1))
def test_split_initial_holdback_sums_exactly(mfg, holdback):
    initial, reserve = split_initial_holdback(mfg, holdback)
    assert initial + reserve == mfg and initial >= 0 and reserve >= 0


store_rows = st.lists(
    st.tuples(
        st.sampled_from(CLUSTERS),
        st.one_of(st.just(0), st.integers(0, 100_000)),
        st.integers(1_000, 30_000),
        st.integers(10_000, 200_000),
    ),
    min_size=1, max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=store_rows,
    total=st.integers(0, 10**6),
    weeks=st.integers(1, 26),
    safety=st.sampled_from([0.10, 0.15, 0.20, 0.25, 0.30]),
    holdback=st.floats(0, 1),
)
def test_allocate_rows_sum_exactly_to_cluster_and_plan_totals(rows, total, weeks, safety, holdback):
    assume(any(units > 0 for _, units, _, _ in rows))
    stores = pd.DataFrame(
        [(f"S{i:03d}", c, u, size, income) for i, (c, u, size, income) in enumerate(rows)],
        columns=["store_id", "cluster", "historical_units", "store_size_sqft", "median_income"],
    )
    plan = allocate(total, [total / weeks] * weeks, stores, safety, holdback)
    assert plan.initial_total + plan.holdback_total == plan.manufacturing_qty
    for kind, plan_total in (("planned_units", plan.demand_units), ("initial_units", plan.initial_total),
                             ("holdback_units", plan.holdback_total)):
        assert sum(getattr(c, kind) for c in plan.clusters) == plan_total
        assert all(getattr(s, kind) >= 0 for s in plan.stores)
        for cluster in plan.clusters:
            members = [s for s in plan.stores if s.cluster == cluster.cluster]
            assert sum(getattr(s, kind) for s in members) == getattr(cluster, kind)
    assert sum(s.total_units for s in plan.stores) == plan.manufacturing_qty
    assert len(plan.stores) == len(rows)


@settings(max_examples=200, deadline=None)
@given(
    needs=st.dictionaries(st.from_regex(r"S\d{3}", fullmatch=True), st.integers(0, 500), max_size=50),
    dc=st.integers(0, 10_000),
)
def test_replenishment_never_exceeds_dc_stock(needs, dc):
    plan = plan_replenishment(needs, dc)
    assert plan.shipped_total == sum(s.quantity for s in plan.shipments) <= dc
    assert plan.dc_remaining == dc - plan.shipped_total
    assert all(0 < s.quantity <= s.need == needs[s.store_id] for s in plan.shipments)
    assert [s.need for s in plan.shipments] == sorted((s.need for s in plan.shipments), reverse=True)
    assert plan.shipped_total == min(dc, sum(needs.values()))
    assert sum(plan.unmet.values()) == sum(needs.values()) - plan.shipped_total
