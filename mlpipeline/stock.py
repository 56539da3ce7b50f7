"""The season's stock position in season (SPEC §2, §4): what the rest of the season still needs
against all the stock the season still holds, and the alert it raises.

An emergency order is only for a season selling above plan: its shortage is the units still
needed for the remaining weeks beyond the DC *and* the stores' stock. A season selling well below
plan is never short; more than 30% below plan raises an over-stock review instead (units at risk
of being left over). One rule, used by the in-season loop, both agent runners, the events, the
season page and the report.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from mlpipeline.allocation import EMERGENCY_VARIANCE

EMERGENCY_ORDER = "emergency_order"
OVERSTOCK_REVIEW = "overstock_review"


@dataclass(frozen=True)
class StockPosition:
    needed: int  # units the remaining weeks are expected to sell: ceil(updated total - sold to date)
    dc_available: int
    store_on_hand: int
    stock_held: int  # DC available + units on hand in stores
    shortage: int  # needed beyond the stock held, when selling above plan (else 0): the emergency order
    at_risk: int  # stock held beyond what is needed: units at risk of being left over
    selling_above_plan: bool
    alert: str | None  # EMERGENCY_ORDER, OVERSTOCK_REVIEW or None


def stock_position(
    updated_season_total: float,
    sold_to_date: float,
    dc_available: int,
    store_on_hand: int = 0,
    signed_variance: float = 0.0,
) -> StockPosition:
    """needed = ceil(max(0, updated season total - sold to date)); stock held = DC + stores.
    ``signed_variance`` is (actual - plan) / plan to date, > 0 when selling above plan.

    Re-forecast 10,000 with 3,200 sold, 4,320 at the DC and no store stock, selling above plan ->
    6,800 needed -> shortage 2,480; with 2,080 on hand in stores -> shortage 400.
    Alert: more than 30% above plan with a shortage -> emergency order; more than 30% below plan
    with stock beyond the need -> over-stock review, never an order.
    """
    values = {"updated_season_total": updated_season_total, "sold_to_date": sold_to_date,
              "dc_available": dc_available, "store_on_hand": store_on_hand}
    for name, value in values.items():
        if not value >= 0:  # also refuses NaN
            raise ValueError(f"{name} must be >= 0, got {value}")
    needed = max(0, math.ceil(Fraction(str(updated_season_total)) - Fraction(str(sold_to_date))))
    dc, stores = int(dc_available), int(store_on_hand)
    held = dc + stores
    signed = Fraction(str(signed_variance))
    above = signed > 0
    shortage = max(0, needed - held) if above else 0
    at_risk = max(0, held - needed)
    alert = None
    if signed > EMERGENCY_VARIANCE and shortage > 0:
        alert = EMERGENCY_ORDER
    elif signed < -EMERGENCY_VARIANCE and at_risk > 0:
        alert = OVERSTOCK_REVIEW
    return StockPosition(needed=needed, dc_available=dc, store_on_hand=stores, stock_held=held, shortage=shortage,
                         at_risk=at_risk, selling_above_plan=above, alert=alert)


def alert_message(position: StockPosition, week: int, signed_variance: float) -> str | None:
    """The planner-facing sentence for the position's alert (None without an alert)."""
    held = (f"{position.stock_held:,} units (DC {position.dc_available:,} + stores {position.store_on_hand:,})")
    if position.alert == EMERGENCY_ORDER:
        return (f"Emergency order alert after week {week}: selling {signed_variance:.0%} above plan, the rest of "
                f"the season needs {position.needed:,} units but the season holds {held}; "
                f"shortage {position.shortage:,} units")
    if position.alert == OVERSTOCK_REVIEW:
        return (f"Over-stock review after week {week}: selling {-signed_variance:.0%} below plan, the rest of the "
                f"season needs {position.needed:,} units but the season holds {held}; "
                f"{position.at_risk:,} units at risk of being left over. No order: consider holding "
                "replenishment or an earlier markdown")
    return None
