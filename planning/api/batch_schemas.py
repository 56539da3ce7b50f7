"""Request and response schemas of the batch endpoints (issue #17: plan every category)."""
from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from planning.api.schemas import StrictIn
from planning.api.season_schemas import SeasonParametersIn, SeasonParametersOut


class BatchIn(StrictIn):
    category_ids: list[str] | Literal["all"] = Field(
        ..., examples=[["womens_dresses", "mens_shirts"], "all"],
        description='The categories to plan, each once (1..200), or "all" (every category)')
    parameters: SeasonParametersIn


class BatchWorkflowOut(Schema):
    category_id: str
    workflow_id: UUID = Field(..., description="The category's season (follow it as any workflow)")


class BatchCreatedOut(Schema):
    batch_id: UUID
    status: str = Field(..., examples=["running"])
    workflows: list[BatchWorkflowOut]


class BatchSeasonOut(BatchWorkflowOut):
    category_name: str
    status: str = Field(..., description="The status of the season's current run")
    phase: str
    step: str
    current_agent: str | None
    progress_pct: int
    pending_approval: str | None
    error: str | None


class BatchOut(Schema):
    batch_id: UUID
    status: Literal["running", "ready", "failed"] = Field(
        ..., description="running while any season's run is pending or running; then failed if any failed, "
                         "else ready (every season at its approval or beyond)")
    progress_pct: int = Field(..., description="Mean progress of the seasons' current runs")
    finished: int = Field(..., description="Seasons whose current run is no longer pending or running")
    total: int
    counts: dict[str, int] = Field(..., description="Seasons per run status")
    all_categories: bool
    parameters: SeasonParametersOut
    created_by: str | None
    created_at: datetime
    workflows: list[BatchSeasonOut]
