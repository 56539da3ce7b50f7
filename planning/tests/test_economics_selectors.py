"""A season's money (planning.selectors.economics): its economics with SPEC §13's defaults, its
demand distribution, the simulator's plan from the stored allocation, and a buy's worth."""
import pytest

from mlpipeline.simulator import ZERO_NOISE, Scenario, simulate_season, store_quantities
from planning.models import Season
from planning.selectors import economics as money
from planning.tests.season_fixtures import *  # noqa: F403  (fixtures)
from planning.tests.season_fixtures import priced

pytestmark = pytest.mark.django_db


def test_the_price_defaults_to_the_history_and_cost_and_salvage_to_its_shares(planned_season):
    assert money.season_economics(planned_season) is None  # no revenue in the history, no price set
    priced(planned_season.category_id)
    found = money.season_economics(planned_season)
    assert found.economics.price == pytest.approx(40.0)
    assert (found.economics.cost, found.economics.salvage) == (pytest.approx(18.0), pytest.approx(8.0))
    assert found.defaults == ("unit_price", "unit_cost", "salvage_value")
    assert found.as_dict()["service_level"] == pytest.approx((40 - 18) / (40 - 8), abs=1e-4)


def test_the_planners_numbers_win_over_the_defaults(planned_season):
    priced(planned_season.category_id)
    Season.objects.filter(pk=planned_season.pk).update(
        parameters={**planned_season.parameters, "unit_price": 49.0, "unit_cost": 21.0})
    planned_season.refresh_from_db()
    found = money.season_economics(planned_season)
    assert (found.economics.price, found.economics.cost) == (49.0, 21.0)
    assert found.economics.salvage == pytest.approx(0.2 * 49) and found.defaults == ("salvage_value",)


def test_season_demand_is_centred_on_the_forecast_with_a_width_from_the_history(planned_season):
    demand = money.season_demand(planned_season, 8000.0)
    assert demand.ppf(0.5) == pytest.approx(8000.0)
    assert demand.errors_used > 0 and 0.05 <= demand.sigma < 0.5


def test_the_simulator_plan_reproduces_the_stored_store_quantities(planned_season):
    allocation = planned_season.allocation
    forecast = allocation.forecast
    plan = money.simulator_plan(allocation, forecast.weekly_units())
    initial, holdback = store_quantities(plan, allocation.manufacturing_qty, allocation.holdback_pct)
    rows = list(allocation.stores.order_by("store_id").values_list("initial_qty", "holdback_qty"))
    # The same rounding on the shares as stored (6 decimals): a near-tie may go to the other store.
    assert max(abs(a - r[0]) for a, r in zip(initial, rows)) <= 1
    assert max(abs(a - r[1]) for a, r in zip(holdback, rows)) <= 1
    assert initial.sum() == allocation.initial_qty and holdback.sum() == allocation.holdback_qty
    assert sum(abs(a - r[0]) for a, r in zip(initial, rows)) <= 4
    assert plan.store_shares.sum() == pytest.approx(1.0)
    priced(planned_season.category_id)
    econ = money.season_economics(planned_season).economics
    result = simulate_season(plan, money.season_demand(planned_season, forecast.total_units), econ,
                             Scenario("plan", allocation.manufacturing_qty, allocation.holdback_pct, "none"),
                             paths=100, seed=1, noise=ZERO_NOISE)
    assert result.expected_units_sold <= allocation.manufacturing_qty
