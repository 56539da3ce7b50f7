"""What every page's template may read: the business limits of the inputs (mlpipeline.limits),
so the pages' min/max attributes cannot disagree with the API and the math."""
from mlpipeline import limits as business_limits

_LIMITS = {
    "min_horizon_weeks": business_limits.MIN_HORIZON_WEEKS,
    "max_horizon_weeks": business_limits.MAX_HORIZON_WEEKS,
    # the manufacturing panel takes the safety stock in percent
    "min_safety_stock_percent": round(business_limits.SAFETY_STOCK_RANGE[0] * 100),
    "max_safety_stock_percent": round(business_limits.SAFETY_STOCK_RANGE[1] * 100),
    "min_elasticity": business_limits.ELASTICITY_RANGE[0],
    "max_elasticity": business_limits.ELASTICITY_RANGE[1],
}


def limits(request):
    return {"limits": _LIMITS}
