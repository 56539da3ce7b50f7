"""Schemas of a season's parameters, its results (the committed plan) and its report: what
POST /api/workflows/forecast takes and GET /api/workflows/{id}/results and /report answer."""
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from agents.parameters import (
    DEFAULT_HOLDBACK,
    DEFAULT_HORIZON_WEEKS,
    DEFAULT_REPLENISHMENT,
    MAX_HORIZON_WEEKS,
    MIN_HORIZON_WEEKS,
    ReplenishmentStrategy,
)
from mlpipeline.economics import COST_SHARE, SALVAGE_SHARE
from mlpipeline.limits import MAX_UNIT_MONEY
from planning.api.schemas import AllocationOut, ClusterShareOut, ForecastOut, MarkdownOut, OrderOut, StrictIn
from planning.api.upload_schemas import ReforecastOut, StockPositionOut, WeekResultOut

ParameterName = Literal["forecast_horizon_weeks", "season_start_date", "replenishment_strategy",
                        "dc_holdback_percentage", "markdown_checkpoint_week", "markdown_threshold",
                        "season_end_date"]


def _money(default, **bounds):
    """An optional money-per-unit field: a JSON number (not a string or a boolean), finite, at
    most MAX_UNIT_MONEY; null or left out means the default."""
    return Field(None, strict=True, allow_inf_nan=False, le=MAX_UNIT_MONEY, **bounds,
                 description=f"Money per unit in the season's currency (the number only); null: {default}. "
                             "0 <= salvage_value < unit_cost < unit_price")


class SeasonParametersIn(StrictIn):
    """The 7 SeasonParameters of SPEC §3 (season_end_date is derived; a given one must agree), the
    season's optional economics (SPEC §13) and optional descriptive metadata. Any other key is
    refused (422)."""

    forecast_horizon_weeks: int = Field(DEFAULT_HORIZON_WEEKS, ge=MIN_HORIZON_WEEKS, le=MAX_HORIZON_WEEKS,
                                        description="Weeks in the season, 1..52")
    season_start_date: date = Field(..., examples=["2025-03-01"], description="Week 1 starts that day")
    season_end_date: date | None = Field(None, examples=["2025-05-23"],
                                         description="Derived: start + 7 x horizon - 1 day; optional")
    replenishment_strategy: ReplenishmentStrategy = Field(DEFAULT_REPLENISHMENT,
                                                          description="none, weekly or bi-weekly")
    dc_holdback_percentage: float = Field(DEFAULT_HOLDBACK, ge=0, le=1, description="Share held at the DC, 0..1")
    markdown_checkpoint_week: int | None = Field(None, ge=MIN_HORIZON_WEEKS, le=MAX_HORIZON_WEEKS,
                                                 description="1..horizon, or null for no markdown step")
    markdown_threshold: float | None = Field(None, ge=0, le=1,
                                             description="Target sell-through 0..1 (0.60 when a checkpoint is set)")
    unit_price: float | None = _money("the category's revenue / units over the last 52 weeks of history", gt=0)
    unit_cost: float | None = _money(f"{COST_SHARE:g} x the unit price", gt=0)
    salvage_value: float | None = _money(f"{SALVAGE_SHARE:g} x the unit price, per unit left at the end", ge=0)
    confidence: Literal["high", "medium", "low"] | None = None
    reasoning: str | None = Field(None, max_length=10_000)
    extractor: Literal["rules", "llm"] | None = None
    user_input: str | None = Field(None, max_length=1000, description="The planner's own words")
    missing: list[ParameterName] | None = Field(None, description="Fields that fell back to defaults")
    weighting: Literal["equal", "backtest"] | None = Field(
        None, description="equal: Prophet + ARIMA 50/50 (default); backtest: weights by rolling-origin evidence")


class SeasonParametersOut(Schema):
    """A season's stored parameters: the 7 fields (validated when the season was created), the
    economics the planner set (null: the default applies) and what it was started from."""

    forecast_horizon_weeks: int | None = None
    season_start_date: date | None = None
    season_end_date: date | None = None
    replenishment_strategy: str | None = None
    dc_holdback_percentage: float | None = None
    markdown_checkpoint_week: int | None = None
    markdown_threshold: float | None = None
    unit_price: float | None = Field(None, description="As the planner set it; null: the default (SPEC §13)")
    unit_cost: float | None = None
    salvage_value: float | None = None
    confidence: str | None = None
    reasoning: str | None = None
    extractor: str | None = None
    user_input: str | None = None
    missing: list[str] | None = None
    weighting: str | None = None
    reason: str | None = Field(None, description="A re-forecast's reason")


class ClusteringResultOut(Schema):
    source: str | None = Field(None, description="stores (from the store import) or computed (now)")
    silhouette: float | None = None
    distribution: list[ClusterShareOut]


class MarkdownScheduleOut(Schema):
    scheduled: bool
    checkpoint_week: int | None = None
    week_start: date | None = Field(None, description="First day of the checkpoint week")
    review_after: date | None = Field(None, description="The checkpoint runs once this day's actuals are in")
    target_sell_through: float | None = None
    reasoning: str | None = None


class ResultsOut(Schema):
    """The committed plan of a season (forecast workflow) or the outcome of a re-forecast."""

    workflow_id: UUID
    type: str = Field(..., examples=["forecast"])
    status: str
    phase: str | None = None
    season_id: UUID | None = Field(None, description="A re-forecast's season")
    parameters: SeasonParametersOut | None = None
    forecast: ForecastOut | None = Field(None, description="The original forecast (a re-forecast: the one it made)")
    current_forecast: ForecastOut | None = Field(None, description="The baseline in force now")
    clusters: ClusteringResultOut | None = None
    allocation: AllocationOut | None = None
    markdown_schedule: MarkdownScheduleOut | None = None
    markdown: MarkdownOut | None = None
    summaries: dict[str, str | None] | None = Field(None, description="Each pre-season step's explanation")
    reforecast: "ReforecastStepOut | None" = Field(None, description="A re-forecast's outputs: refit, update, stock position")
    week: WeekResultOut | None = Field(None, description="A week run's result: variance, re-forecast, shipments, markdown")


class RefitOut(BaseModel):
    """The models refitted on history plus actuals, for the remaining weeks (the forecast tool's
    output; its other fields pass through)."""
    model_config = ConfigDict(extra="allow")

    season_start: date = Field(..., description="First remaining week")
    horizon_weeks: int
    total: float
    method: str
    model_totals: dict[str, float]


class ReforecastStepOut(Schema):
    reforecast: ReforecastOut
    coverage: StockPositionOut = Field(..., description="Units still needed vs the stock the season holds")
    refit_error: str | None = None
    refit: RefitOut | None = None


class AccuracyOut(Schema):
    mape: float | None
    wape: float | None
    bias: float | None


class WeekAccuracyOut(Schema):
    week: int
    actual: float
    forecast: float
    error: float = Field(..., description="forecast - actual")
    abs_pct_error: float | None


class StockoutsOut(Schema):
    count: int = Field(..., description="Store-weeks out of stock with demand unmet")
    unmet_units: float
    store_weeks: list[tuple[str, int]]


class TriggerAccuracyOut(Schema):
    accuracy: float | None
    true_triggers: int
    false_triggers: int
    missed_triggers: int
    correct_holds: int
    checks: int


class ReportMarkdownOut(Schema):
    decision: MarkdownOut | None
    markdown_pct: float = Field(..., description="The markdown applied (0 when none was)")
    expected_lift: float
    units_after_markdown: float
    avg_weekly_before: float | None
    avg_weekly_after: float | None
    cost: float


class ReportForecastOut(Schema):
    forecast_id: int
    version: int
    kind: str
    from_week: int
    total_season_demand: float
    reason: str
    created_at: datetime


class ReportWeekOut(Schema):
    week_number: int
    variance_pct: float
    signed_variance: float
    band: str
    threshold_exceeded: bool
    emergency: bool
    shortage_units: int | None
    stock_alert: str | None
    units_at_risk: int | None
    action_taken: str
    baseline_version: int


class ReportReplenishmentOut(Schema):
    shipped_total: int
    shipments: int
    partial: int
    dc_remaining: int


class MarkdownValuesOut(Schema):
    """A markdown as an approval recorded it."""
    week_number: int
    units_sold: int
    manufacturing_qty: int
    sell_through_pct: float
    target_sell_through: float
    gap: float
    elasticity_coefficient: float
    recommended_markdown_pct: float
    expected_lift: float


class ReportApprovalOut(Schema):
    kind: str = Field(..., examples=["manufacturing"], description="manufacturing or markdown")
    action: str
    values: OrderOut | MarkdownValuesOut = Field(..., description="The order or markdown the approval saw")
    note: str
    user: str | None
    at: datetime


class ReportRuntimeOut(Schema):
    pre_season_agent_seconds: float | None
    pre_season_wall_seconds: float | None
    runner: str


class WorkflowUsageOut(Schema):
    workflow_id: UUID
    requests: int
    input_tokens: int
    output_tokens: int
    total_tokens: int


class UsageOut(Schema):
    requests: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    model: str
    cost_usd: float | None
    by_workflow: list[WorkflowUsageOut]


class ReportOut(Schema):
    """The season report (SPEC §9.4), mid-season on the weeks uploaded so far."""

    season_id: UUID
    category_id: str
    phase: str
    weeks_reported: int
    horizon_weeks: int
    accuracy: AccuracyOut = Field(..., description="Against the original forecast")
    weeks: list[WeekAccuracyOut]
    by_cluster: dict[str, AccuracyOut]
    manufactured: int
    units_sold: float
    sell_through: float | None
    leftover_units: int
    stockouts: StockoutsOut | None
    markdown_pct: float
    markdown_cost: float
    trigger_accuracy: TriggerAccuracyOut | None
    original_forecast_total: float
    original_forecast_to_date: float
    current_forecast_total: float
    markdown: ReportMarkdownOut
    reforecasts: list[ReportForecastOut]
    variance: list[ReportWeekOut]
    replenishment: ReportReplenishmentOut
    approvals: list[ReportApprovalOut]
    runtime: ReportRuntimeOut
    llm: UsageOut


ResultsOut.model_rebuild()
