"""The stock position in season (SPEC §4 vectors): the shortage counts all the stock the season
still holds, only a season selling above plan can be short, far below plan is an over-stock
review."""
import pytest

from mlpipeline.stock import EMERGENCY_ORDER, OVERSTOCK_REVIEW, alert_message, stock_position


def test_spec_vector_without_store_stock():
    position = stock_position(10_000, 3_200, 4_320, store_on_hand=0, signed_variance=0.35)
    assert (position.needed, position.stock_held, position.shortage, position.at_risk) == (6_800, 4_320, 2_480, 0)
    assert position.alert == EMERGENCY_ORDER


def test_spec_vector_with_store_stock():
    position = stock_position(10_000, 3_200, 4_320, store_on_hand=2_080, signed_variance=0.35)
    assert (position.stock_held, position.shortage) == (6_400, 400)


def test_a_season_selling_below_plan_is_never_short():
    position = stock_position(10_000, 3_200, 0, store_on_hand=0, signed_variance=-0.05)
    assert position.needed == 6_800 and position.shortage == 0 and position.alert is None


def test_peer_severe_underperform_week_one_is_an_overstock_review():
    """The issue's case: 75% below plan, the old rule asked for 51,347 more units."""
    position = stock_position(208_995 + 2_000, 2_000, 157_648, store_on_hand=190_000, signed_variance=-0.75)
    assert position.shortage == 0 and position.alert == OVERSTOCK_REVIEW
    assert position.at_risk == 157_648 + 190_000 - 208_995
    message = alert_message(position, 1, -0.75)
    assert message.startswith("Over-stock review after week 1: selling 75% below plan")
    assert "138,653 units at risk of being left over" in message and "No order" in message


@pytest.mark.parametrize(("signed", "alert"), [(0.30, None), (0.31, EMERGENCY_ORDER), (-0.30, None),
                                               (-0.31, OVERSTOCK_REVIEW)])
def test_alerts_start_strictly_beyond_30_percent(signed, alert):
    short = stock_position(10_000, 3_200, 1_000, signed_variance=signed) if signed > 0 else None
    long = stock_position(5_000, 3_200, 9_000, signed_variance=signed) if signed < 0 else None
    assert (short or long).alert == alert


def test_above_plan_but_covered_raises_no_order():
    position = stock_position(10_000, 3_200, 4_000, store_on_hand=3_000, signed_variance=0.5)
    assert position.shortage == 0 and position.at_risk == 200 and position.alert is None
    assert alert_message(position, 2, 0.5) is None


def test_emergency_message_names_all_the_stock():
    position = stock_position(10_000, 3_200, 4_320, store_on_hand=2_080, signed_variance=0.4)
    assert alert_message(position, 3, 0.4) == (
        "Emergency order alert after week 3: selling 40% above plan, the rest of the season needs 6,800 units "
        "but the season holds 6,400 units (DC 4,320 + stores 2,080); shortage 400 units")


def test_needed_rounds_up_and_never_goes_negative():
    assert stock_position(1_000.2, 500, 0, signed_variance=0.5).needed == 501
    assert stock_position(400, 500, 10, signed_variance=-0.5).needed == 0
    with pytest.raises(ValueError, match="store_on_hand"):
        stock_position(1_000, 0, 0, store_on_hand=-1)
