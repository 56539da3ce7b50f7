"""Request and response schemas of the workflow, approval, extraction and debug endpoints."""
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict, StrictInt, model_validator

from mlpipeline.limits import DEFAULT_ELASTICITY
from mlpipeline.limits import ELASTICITY_RANGE as ELASTICITY
from mlpipeline.limits import SAFETY_STOCK_RANGE as SAFETY_STOCK
from planning.api.schemas import ClusterAllocationOut, DbId, MarkdownOut, MarkdownPreviewOut, OrderOut, StrictIn
from planning.api.season_schemas import SeasonParametersIn, SeasonParametersOut


class StepUsageOut(Schema):
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


class TokenUsageOut(StepUsageOut):
    by_step: dict[str, StepUsageOut] = Field(default_factory=dict, description="Per agent step, and the extraction")


class ExtractIn(StrictIn):
    user_input: str = Field(..., description="The planner's description of the season (1..1000 characters)")
    reference_date: date | None = Field(None, description="Today by default; relative dates count from it")


class ForecastWorkflowIn(StrictIn):
    category_id: str
    parameters: SeasonParametersIn
    extraction_id: UUID | None = Field(None, description="The extraction the parameters came from "
                                                         "(POST /api/parameters/extract): its record supplies "
                                                         "confidence, reasoning, extractor, user_input and missing, "
                                                         "and its LLM tokens are billed to this season")


class ReforecastIn(StrictIn):
    workflow_id: UUID | None = None
    forecast_id: DbId | None = None
    reason: str | None = Field(None, max_length=255)


class WorkflowCreatedOut(Schema):
    workflow_id: UUID
    status: str
    websocket_url: str


class BuyMoneyOut(Schema):
    """What a buy is worth (SPEC §13; planning.services.manufacturing.money_view)."""
    unit_price: float | None = Field(None, examples=[49.0],
                                     description="The planner's, else the history's revenue / units")
    unit_cost: float | None = Field(None, examples=[22.05], description="The planner's, else 0.45 x price")
    salvage_value: float | None = Field(None, examples=[9.8],
                                        description="Per leftover unit; the planner's, else 0.20 x price")
    service_level: float | None = Field(None, examples=[0.69],
                                        description="Critical ratio (price - cost) / (price - salvage)")
    economics_defaults: list[str] | None = Field(None, description="Which of the three are defaults, not the planner's")
    newsvendor_buy_quantity: int | None = Field(None, description="The buy that maximises expected margin")
    stockout_probability: float | None = Field(None, description="P(season demand > the proposed buy)")
    expected_units_sold: float | None = None
    expected_leftover_units: float | None = None
    expected_gross_margin: float | None = Field(None, description="Revenue + salvage - cost of the proposed buy")
    demand_p10: float | None = Field(None, description="Season demand: 10% quantile")
    demand_median: float | None = None
    demand_p90: float | None = None
    money_note: str | None = Field(None, description="Why the money fields are empty, if they are")


class ManufacturingApprovalDataOut(BuyMoneyOut):
    """What the manufacturing approval shows (WebSocket human_input_required data)."""
    forecast_total: float
    demand_units: int
    replenishment_strategy: str
    safety_stock_pct: float
    default_safety_stock_pct: float
    safety_stock_range: list[float]
    manufacturing_qty: int = Field(..., examples=[9600])
    holdback_pct: float
    initial_allocation: int = Field(..., examples=[5280])
    holdback: int = Field(..., examples=[4320])
    clusters: list[ClusterAllocationOut]
    reasoning: str


class MarkdownApprovalDataOut(MarkdownOut):
    elasticity_range: list[float]


class PendingApprovalOut(Schema):
    action: str = Field(..., examples=["approve_manufacturing_order"])
    agent: str
    data: ManufacturingApprovalDataOut | MarkdownApprovalDataOut
    options: list[str]


class WorkflowOut(Schema):
    workflow_id: UUID
    type: str
    season_id: UUID | None
    category_id: str
    status: str
    phase: str
    step: str
    current_agent: str | None
    progress_pct: int
    current_week: int
    parameters: SeasonParametersOut
    runner: str
    token_usage: TokenUsageOut
    last_seq: int
    error: str | None
    pending_approval: PendingApprovalOut | None
    owner: str | None
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    completed_at: datetime | None
    heartbeat_at: datetime | None


class EventOut(BaseModel):
    """One WebSocket message (SPEC §7); each type adds its own fields (agent, message, progress_pct,
    duration_seconds, result, action, data, options, error_message, ...), kept as they are (a
    plain pydantic model: ninja's Schema would drop them)."""
    model_config = ConfigDict(extra="allow")

    type: str = Field(..., examples=["agent_progress"])
    seq: int
    workflow_id: UUID
    timestamp: datetime


class EventsOut(Schema):
    workflow_id: UUID
    last_seq: int
    events: list[EventOut]


class ScenarioChoiceIn(StrictIn):
    comparison_id: DbId | None = Field(None, description="A saved comparison of this season, of the approval's kind")
    scenario: str | None = Field(None, min_length=1, max_length=64, description="A scenario name of that comparison")

    @model_validator(mode="after")
    def _paired(self):
        if (self.comparison_id is None) != (self.scenario is None):
            raise ValueError("comparison_id and scenario go together")
        return self


class ManufacturingApprovalIn(ScenarioChoiceIn):
    """One of safety_stock_pct, manufacturing_qty or a scenario (comparison_id + scenario);
    required for modify, default for accept: the proposed order."""
    workflow_id: UUID
    action: Literal["modify", "accept"]
    safety_stock_pct: float | None = Field(None, ge=SAFETY_STOCK[0], le=SAFETY_STOCK[1],
                                           description="0.10..0.30; required for modify, default for accept: the proposed one")
    manufacturing_qty: StrictInt | None = Field(None, ge=0, description="An explicit buy, 0.5x..2x forecast demand")
    note: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _one_buy(self):
        given = [self.safety_stock_pct is not None, self.manufacturing_qty is not None, self.comparison_id is not None]
        if sum(given) > 1:
            raise ValueError("give one of safety_stock_pct, manufacturing_qty or a scenario")
        return self


class MarkdownApprovalIn(ScenarioChoiceIn):
    """An elasticity_coefficient or a scenario (comparison_id + scenario), not both."""
    workflow_id: UUID
    action: Literal["modify", "accept"]
    elasticity_coefficient: float | None = Field(None, ge=ELASTICITY[0], le=ELASTICITY[1],
                                                 description="1.0..3.0; required for modify, default for accept: the recommended one")
    note: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _one_choice(self):
        if self.elasticity_coefficient is not None and self.comparison_id is not None:
            raise ValueError("give an elasticity_coefficient or a scenario, not both")
        return self


class ApprovalOut(Schema):
    workflow_id: UUID
    action: str
    committed: bool
    replayed: bool
    status: str
    order: OrderOut | None = None
    clusters: list[ClusterAllocationOut] | None = None
    dc_available: int | None = None
    accepted_at: datetime | None = None
    markdown: MarkdownOut | MarkdownPreviewOut | None = Field(
        None, description="The decision (accept), or the recomputed markdown (modify)")
    money: BuyMoneyOut | None = Field(None, description="What the previewed or accepted buy is worth")


class DebugDemandIn(StrictIn):
    category_id: str
    parameters: SeasonParametersIn


class DebugInventoryIn(DebugDemandIn):
    safety_stock_pct: float | None = Field(None, ge=SAFETY_STOCK[0], le=SAFETY_STOCK[1])


class DebugPricingIn(StrictIn):
    workflow_id: UUID | None = Field(None, description="Use the season's sales to date and order")
    units_sold: float | None = Field(None, ge=0)
    manufacturing_qty: int | None = Field(None, gt=0)
    target_sell_through: float = Field(0.60, ge=0, le=1)
    elasticity_coefficient: float = Field(DEFAULT_ELASTICITY, ge=ELASTICITY[0], le=ELASTICITY[1])
    parameters: SeasonParametersIn | None = Field(None, description="To show the markdown checkpoint schedule")


class StepOut(Schema):
    step: str
    runner: str
    summary: str
    fallback_reason: str | None
    usage: StepUsageOut
    progress: list[str]
    outputs: dict[str, dict[str, Any] | None] = Field(..., description="Each tool's output by name, as the tool returned it")
