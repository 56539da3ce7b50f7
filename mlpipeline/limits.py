"""The planner's business limits (SPEC §3, §4), defined once: the math checks them, and the API
schemas, the agents' guardrails, the models' constraints and the pages' inputs import them."""

MIN_HORIZON_WEEKS = 1
MAX_HORIZON_WEEKS = 52
SAFETY_STOCK_RANGE = (0.10, 0.30)  # the share added to forecast demand in the manufacturing order
BUY_RANGE = (0.5, 2.0)  # an explicit manufacturing quantity, as a multiple of forecast demand (SPEC §13)
ELASTICITY_RANGE = (1.0, 3.0)  # markdown = gap x elasticity
DEFAULT_ELASTICITY = 2.0
MAX_MARKDOWN = 0.40
MAX_UNIT_MONEY = 1_000_000.0  # a season's unit price, cost or salvage value (SPEC §13), in the season's currency
