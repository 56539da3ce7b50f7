"""Response schemas of POST /api/parameters/extract (SPEC §3, §13): the extracted parameters, the
season's economics among them when the text stated them, and which of those it stated."""
from datetime import date
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from mlpipeline.economics import COST_SHARE, SALVAGE_SHARE
from planning.api.workflow_schemas import StepUsageOut

EconomicsName = Literal["unit_price", "unit_cost", "salvage_value"]


class ExtractedParametersOut(Schema):
    forecast_horizon_weeks: int
    season_start_date: date
    season_end_date: date
    replenishment_strategy: str
    dc_holdback_percentage: float
    markdown_checkpoint_week: int | None
    markdown_threshold: float | None
    unit_price: float | None = Field(None, examples=[49.0], description="Money per unit as stated (the number, "
                                     "whatever the currency); null: the default, the category's revenue / units "
                                     "over the last 52 weeks of history")
    unit_cost: float | None = Field(None, examples=[21.0], description=f"As stated; null: {COST_SHARE:g} x the unit price")
    salvage_value: float | None = Field(None, examples=[5.0], description="Per unit left at the season's end, as "
                                        f"stated; null: {SALVAGE_SHARE:g} x the unit price")


class ExtractOut(Schema):
    extraction_id: UUID = Field(..., description="Name it when starting the season: the server bills the season "
                                                 "this extraction's LLM tokens")
    parameters: ExtractedParametersOut
    confidence: Literal["high", "medium", "low"]
    reasoning: str
    extractor: Literal["rules", "llm"]
    missing: list[str] = Field(..., description="Which of the 7 planning fields fell back to defaults")
    economics_stated: list[EconomicsName] = Field(
        default_factory=list, description="Which of unit_price, unit_cost, salvage_value the text stated; the "
                                          "others are null and take their defaults when the season starts")
    usage: StepUsageOut | None = Field(None, description="The LLM tokens this extraction cost (recorded by the server)")
