"""Request and response schemas of the workflow, approval, extraction and debug endpoints."""
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict

from planning.api.schemas import DbId


class ExtractIn(Schema):
    user_input: str = Field(..., description="The planner's description of the season (1..1000 characters)")
    reference_date: date | None = Field(None, description="Today by default; relative dates count from it")


class SeasonParametersOut(Schema):
    forecast_horizon_weeks: int
    season_start_date: date
    season_end_date: date
    replenishment_strategy: str
    dc_holdback_percentage: float
    markdown_checkpoint_week: int | None
    markdown_threshold: float | None


class ExtractOut(Schema):
    extraction_id: UUID = Field(..., description="Name it when starting the season: the server bills the season "
                                                 "this extraction's LLM tokens")
    parameters: SeasonParametersOut
    confidence: Literal["high", "medium", "low"]
    reasoning: str
    extractor: Literal["rules", "llm"]
    missing: list[str]
    usage: dict | None = Field(None, description="The LLM tokens this extraction cost (recorded by the server)")


class ForecastWorkflowIn(Schema):
    model_config = ConfigDict(extra="forbid")

    category_id: str
    parameters: dict[str, Any] = Field(
        ..., description="The SeasonParameters fields (season_end_date optional: derived), plus optional "
                         "confidence, reasoning, extractor, user_input, missing, weighting (equal|backtest). "
                         "Any other key is refused (422).")
    extraction_id: UUID | None = Field(None, description="The extraction the parameters came from "
                                                         "(POST /api/parameters/extract): its record supplies "
                                                         "confidence, reasoning, extractor, user_input and missing, "
                                                         "and its LLM tokens are billed to this season")


class ReforecastIn(Schema):
    workflow_id: UUID | None = None
    forecast_id: DbId | None = None
    reason: str | None = Field(None, max_length=255)


class WorkflowCreatedOut(Schema):
    workflow_id: UUID
    status: str
    websocket_url: str


class PendingApprovalOut(Schema):
    action: str
    agent: str
    data: dict
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
    parameters: dict
    runner: str
    token_usage: dict
    last_seq: int
    error: str | None
    pending_approval: PendingApprovalOut | None
    owner: str | None
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    completed_at: datetime | None
    heartbeat_at: datetime | None


class EventsOut(Schema):
    workflow_id: UUID
    last_seq: int
    events: list[dict]


class ManufacturingApprovalIn(Schema):
    workflow_id: UUID
    action: Literal["modify", "accept"]
    safety_stock_pct: float | None = Field(None, ge=0.10, le=0.30,
                                           description="0.10..0.30; required for modify, default for accept: the proposed one")
    note: str | None = Field(None, max_length=2000)


class MarkdownApprovalIn(Schema):
    workflow_id: UUID
    action: Literal["modify", "accept"]
    elasticity_coefficient: float | None = Field(None, ge=1.0, le=3.0,
                                                 description="1.0..3.0; required for modify, default for accept: the recommended one")
    note: str | None = Field(None, max_length=2000)


class ApprovalOut(Schema):
    workflow_id: UUID
    action: str
    committed: bool
    replayed: bool
    status: str
    order: dict | None = None
    clusters: list[dict] | None = None
    dc_available: int | None = None
    accepted_at: datetime | None = None
    markdown: dict | None = None


class DebugDemandIn(Schema):
    category_id: str
    parameters: dict[str, Any]


class DebugInventoryIn(DebugDemandIn):
    safety_stock_pct: float | None = Field(None, ge=0.10, le=0.30)


class DebugPricingIn(Schema):
    workflow_id: UUID | None = Field(None, description="Use the season's sales to date and order")
    units_sold: float | None = Field(None, ge=0)
    manufacturing_qty: int | None = Field(None, gt=0)
    target_sell_through: float = Field(0.60, ge=0, le=1)
    elasticity_coefficient: float = Field(2.0, ge=1.0, le=3.0)
    parameters: dict[str, Any] | None = Field(None, description="To show the markdown checkpoint schedule")


class StepOut(Schema):
    step: str
    runner: str
    summary: str
    fallback_reason: str | None
    usage: dict
    progress: list[str]
    outputs: dict
