"""Request and response schemas of the scenario comparison (SPEC §13). Every number is typed
strictly (a string or a boolean is a 422, never coerced) and finite (NaN and infinity are 422);
an unknown key is a 422 as everywhere in the API."""
from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from mlpipeline.allocation import REPLENISHMENT_STRATEGIES
from mlpipeline.limits import MAX_HORIZON_WEEKS, MAX_MARKDOWN, SAFETY_STOCK_RANGE
from mlpipeline.simulator import MAX_SCENARIOS
from planning.api.schemas import StrictIn
from planning.services.scenarios import DEFAULT_PATHS, MAX_SEED, NAME_MAX, PATHS_RANGE

Strategy = Literal[REPLENISHMENT_STRATEGIES]


def _share(low, high, description):
    return Field(None, ge=low, le=high, strict=True, allow_inf_nan=False, description=description)


class ScenarioIn(StrictIn):
    name: str = Field(..., min_length=1, max_length=NAME_MAX, strict=True, examples=["buy 20%"])
    safety_stock_pct: float | None = _share(*SAFETY_STOCK_RANGE, "The buy = forecast demand x (1 + this), "
                                                                "0.10..0.30 (manufacturing approval)")
    manufacturing_qty: int | None = Field(None, ge=0, strict=True, description=(
        "An explicit buy instead, 0.5x..2x forecast demand (manufacturing approval)"))
    dc_holdback_percentage: float | None = _share(0, 1, "Default: the season's")
    replenishment_strategy: Strategy | None = Field(None, description="Default: the season's")
    markdown_checkpoint_week: int | None = Field(None, ge=1, le=MAX_HORIZON_WEEKS, strict=True, description=(
        "Default: the season's; null: no markdown step"))
    markdown_threshold: float | None = _share(0, 1, "Default: the season's (0.60)")
    markdown_pct: float | None = _share(0, MAX_MARKDOWN, (
        "Manufacturing approval: a fixed depth when under the threshold (null: the §4 formula). Markdown "
        "approval: the depth from the next week, 0 = no markdown (null: the recommended one)"))


class CompareIn(StrictIn):
    workflow_id: UUID
    scenarios: list[ScenarioIn] = Field(..., min_length=1, max_length=MAX_SCENARIOS)
    paths: int = Field(DEFAULT_PATHS, ge=PATHS_RANGE[0], le=PATHS_RANGE[1], strict=True,
                       description="Simulated seasons, 100..20,000")
    seed: int = Field(0, ge=0, le=MAX_SEED, strict=True, description="Same seed, same numbers")


class ScenarioSettingsOut(Schema):
    """What the scenario ran with: the planner's values, else the season's."""
    safety_stock_pct: float | None
    manufacturing_qty: int
    dc_holdback_percentage: float
    replenishment_strategy: str
    markdown_checkpoint_week: int | None
    markdown_threshold: float
    markdown_pct: float | None


class ScenarioResultOut(Schema):
    name: str
    manufacturing_qty: int = Field(..., examples=[9600])
    expected_units_sold: float
    expected_sell_through: float
    stockout_probability: float = Field(..., description="Share of store-weeks that ran out with demand unmet")
    expected_lost_sales: float
    expected_leftover_units: float
    expected_markdown_cost: float
    expected_revenue: float
    expected_gross_margin: float
    gross_margin_p10: float
    gross_margin_p90: float
    expected_demand: float
    demand_exceeds_buy_probability: float
    markdown_probability: float
    expected_markdown_pct: float
    expected_salvage_value: float
    rank: int = Field(..., description="1 = the highest expected gross margin")
    settings: ScenarioSettingsOut
    margin_quantiles: list[float] = Field(..., description="Gross margin at the 0th, 5th, ..., 100th percentile")
    margin_histogram: list[int] = Field(..., description="Simulated seasons per margin bin (margin_bin_edges)")


class ComparisonEconomicsOut(Schema):
    unit_price: float
    unit_cost: float
    salvage_value: float
    service_level: float
    economics_defaults: list[str]


class ComparisonDemandOut(Schema):
    median: float
    sigma: float
    errors_used: int
    mean: float
    p10: float
    p90: float
    source: str = Field(..., description="history (season-total errors) or in-season band")


class ComparisonOut(Schema):
    comparison_id: int
    workflow_id: UUID
    kind: Literal["manufacturing", "markdown"]
    paths: int
    seed: int
    week: int = Field(..., description="Weeks of actuals behind it (0: before the season)")
    forecast_id: int | None
    forecast_version: int
    economics: ComparisonEconomicsOut
    demand: ComparisonDemandOut
    scenarios: list[ScenarioResultOut]
    recommended: str = Field(..., description="The scenario with the highest expected gross margin")
    margin_bin_edges: list[float]
    request: list[ScenarioIn] = Field(..., description="The scenarios as requested")
    created_by: str | None
    created_at: datetime
