"""Shared API schemas (errors, strict input, pagination, bounded ids) and those of the resource
endpoints (categories, stores, forecasts, allocations, markdowns, variance), with examples for the
OpenAPI docs at /api/docs. The uploads' answers: planning.api.upload_schemas."""
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import BaseModel, ConfigDict

from mlpipeline.limits import MAX_HORIZON_WEEKS, MIN_HORIZON_WEEKS
from planning.services import allocation as plans

# Integers that reach a database query are bounded by what SQLite and PostgreSQL's bigint hold,
# so an absurd id or offset is a 422, never an overflow inside the database driver.
MAX_DB_INT = 2**63 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
SeasonWeek = Annotated[int, Field(ge=MIN_HORIZON_WEEKS, le=MAX_HORIZON_WEEKS)]
EventSeq = Annotated[int, Field(ge=0, le=MAX_DB_INT)]


class StrictIn(Schema):
    """A request body: a key the endpoint does not know is a 422, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class BoundedPagination(LimitOffsetPagination):
    """limit 1..1000 and offset within the database's integer range."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000)
        offset: int = Field(0, ge=0, le=MAX_DB_INT)


class RowErrorOut(Schema):
    """One problem: a CSV cell (row, column, expected, got) or a request field (field)."""

    row: int | None = Field(
        None, description="CSV row (the header is row 1); null for the whole file"
    )
    column: str = ""
    expected: str = ""
    got: Any = ""
    field: str = Field("", description="The request field, for invalid input (e.g. safety_stock_pct)")
    message: str


class ErrorOut(Schema):
    detail: str = Field(..., examples=["2 problems found. Nothing was imported."])
    errors: list[RowErrorOut] | None = Field(
        None,
        examples=[[{"row": 7, "column": "quantity_sold", "expected": "a whole number >= 0",
                    "got": "-3", "message": "Quantity -3 is negative."}]],
    )


def errors(*codes):
    """``response=`` entries documenting the error body for each status code."""
    return {code: ErrorOut for code in codes}


# --- Resources -------------------------------------------------------------------------------


class CategoryOut(Schema):
    category_id: str = Field(..., examples=["womens_dresses"])
    category_name: str = Field(..., examples=["Women's Dresses"])
    data_version: int = Field(..., description="Bumped by every history upload of the category")
    row_count: int = Field(..., examples=[54800], description="Stored daily store rows")
    first_date: date | None = Field(None, examples=["2022-01-01"])
    last_date: date | None = Field(None, examples=["2024-12-31"])


class RowSchema(BaseModel):
    """A schema for long row lists (stores, store allocations), read from dicts or attributes by
    pydantic-core itself: ninja's Schema reads every field through a Python getter, which cost
    more than the query for a 50-store allocation. No ``resolve_*`` methods here; annotate the
    query instead."""

    model_config = ConfigDict(from_attributes=True)


class StoreOut(RowSchema):
    store_id: str = Field(..., examples=["S001"])
    store_name: str = Field(..., examples=["Store S001"])
    cluster_id: str | None = Field(None, examples=["fashion_forward"])
    store_size_sqft: int = Field(..., examples=[12500])
    location_tier: str = Field(..., examples=["A"])
    fashion_tier: str = Field(..., examples=["PREMIUM"])
    store_format: str = Field(..., examples=["MALL"])
    region: str = Field(..., examples=["SOUTHEAST"])
    median_income: int = Field(..., examples=[142000])
    avg_weekly_sales_12mo: float = Field(..., examples=[924.0])


class ClusterOut(Schema):
    cluster_id: str = Field(..., examples=["fashion_forward"])
    cluster_name: str = Field(..., examples=["Fashion forward"])
    fashion_tier: float = Field(..., examples=[3.0], description="Mean fashion-tier code (1..3)")
    store_count: int = Field(..., examples=[15])
    silhouette_score: float | None = Field(None, examples=[0.39])
    stores: list[StoreOut]


class ForecastWeekOut(Schema):
    week: int = Field(..., examples=[1])
    week_start: date = Field(..., examples=["2025-03-01"])
    units: float = Field(..., examples=[812.3])
    lower: float | None = Field(None, examples=[701.0], description="80% interval")
    upper: float | None = Field(None, examples=[925.5], description="80% interval")
    actual: bool = Field(False, description="True for weeks a re-forecast took from the actuals")


class ClusterShareOut(Schema):
    cluster_id: str = Field(..., examples=["mainstream"])
    share: float = Field(..., examples=[0.35])
    units: float = Field(..., examples=[2800])


class ForecastSummaryOut(Schema):
    forecast_id: int = Field(..., examples=[12])
    season_id: UUID = Field(..., description="The season (forecast workflow) it belongs to")
    workflow_id: UUID = Field(..., description="The workflow run that produced it")
    category_id: str = Field(..., examples=["womens_dresses"])
    category_name: str = Field(..., examples=["Women's Dresses"])
    season: str = Field(..., examples=["Spring/Summer 2025"],
                        description="Fashion season of the start date: Spring/Summer (Feb-Jul) or Fall/Winter (Aug-Jan)")
    version: int = Field(..., examples=[1])
    kind: str = Field(..., examples=["original"], description="original, reforecast or markdown")
    from_week: int = Field(..., examples=[1])
    season_start_date: date = Field(..., examples=["2025-03-01"])
    horizon_weeks: int = Field(..., examples=[12])
    total_season_demand: float = Field(..., examples=[8000.0], description="Units over the season's weeks")
    forecasting_method: str = Field(..., examples=["ensemble"])
    created_at: datetime

    @staticmethod
    def resolve_season(row):
        return plans.fashion_season(row["season_start_date"])


class ForecastOut(ForecastSummaryOut):
    weekly_demand_curve: list[ForecastWeekOut]
    prophet_forecast: float | None = Field(None, examples=[8200.0], description="Prophet's season total")
    arima_forecast: float | None = Field(None, examples=[7800.0], description="ARIMA's season total")
    model_totals: dict[str, float] = Field(..., examples=[{"prophet": 8200.0, "arima": 7800.0}],
                                           description="Season total of every model fitted (the ensemble's members and baselines)")
    weights: dict[str, float] = Field(..., examples=[{"prophet": 0.5, "arima": 0.5}])
    backtest_error: Any = None
    warnings: list[Any]
    cluster_distribution: list[ClusterShareOut]
    reason: str


class OrderOut(Schema):
    """A manufacturing order as the approval shows it."""
    demand: float = Field(..., examples=[8000.0], description="Forecast season demand")
    demand_units: int = Field(..., examples=[8000])
    safety_stock_pct: float = Field(..., examples=[0.2], description="For a planner's own quantity: qty / demand - 1")
    manufacturing_qty: int = Field(..., examples=[9600])
    buy_basis: str = Field("safety_stock", examples=["safety_stock"],
                           description="safety_stock (demand x (1 + safety stock)) or quantity (the planner's own)")
    holdback_pct: float = Field(..., examples=[0.45])
    initial_allocation: int = Field(..., examples=[5280], description="Units shipped to stores at week 0")
    holdback: int = Field(..., examples=[4320], description="Units held back at the DC")


class StoreAllocationOut(RowSchema):
    store_id: str = Field(..., examples=["S001"])
    store_name: str = Field(..., examples=["Store S001"])
    cluster_id: str | None = Field(None, examples=["fashion_forward"])
    factor: float = Field(..., examples=[0.055])
    planned_units: int = Field(..., examples=[176])
    initial_allocation: int = Field(..., examples=[97], description="Units shipped to the store at week 0")
    holdback_allocation: int = Field(..., examples=[79], description="The store's share of the DC holdback")


class ClusterAllocationOut(RowSchema):
    cluster_id: str = Field(..., examples=["fashion_forward"])
    share: float | None = Field(None, examples=[0.4])
    store_count: int | None = Field(None, examples=[15])
    units: int | None = Field(None, examples=[3200], description="Forecast units of the cluster")
    initial_allocation: int | None = Field(None, examples=[1760])
    holdback_allocation: int | None = Field(None, examples=[1440])


class AllocationOut(Schema):
    season_id: UUID
    forecast_id: int = Field(..., description="The forecast the allocation was computed from")
    category_id: str
    status: str = Field(..., examples=["accepted"], description="proposed or accepted")
    demand_units: int = Field(..., examples=[8000])
    safety_stock_percentage: float = Field(..., examples=[0.2])
    buy_basis: str = Field(..., examples=["safety_stock"], description="safety_stock or quantity (the planner's own)")
    manufacturing_qty: int = Field(..., examples=[9600])
    holdback_pct: float = Field(..., examples=[0.45])
    initial_allocation_total: int = Field(..., examples=[5280], description="Units shipped to stores at week 0")
    holdback_total: int = Field(..., examples=[4320], description="Units held back at the DC")
    dc_available: int = Field(..., examples=[4320], description="Holdback units still at the DC")
    cluster_allocations: list[ClusterAllocationOut]
    created_at: datetime
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    store_allocations: list[StoreAllocationOut]


class MarkdownPreviewOut(Schema):
    """A markdown recommendation: sell-through against the target and the markdown it gives."""
    week_number: int = Field(..., examples=[6], description="The checkpoint week")
    units_sold: int = Field(..., examples=[5500])
    manufacturing_qty: int = Field(..., examples=[10000])
    sell_through_pct: float = Field(..., examples=[0.55], description="Units sold / manufacturing quantity (0..1)")
    target_sell_through: float = Field(..., examples=[0.6])
    gap: float = Field(..., examples=[0.05])
    elasticity_coefficient: float = Field(..., examples=[2.0])
    recommended_markdown_pct: float = Field(..., examples=[0.1], description="0..0.40 in steps of 0.05")
    expected_lift: float = Field(..., examples=[0.15])
    scenario: dict | None = Field(None, description="The compared scenario the depth comes from, if it does")
    reasoning: str = Field(..., examples=["sell-through 55.0% vs target 60%: gap 5.0% x elasticity 2.0 = 10.0%, "
                                          "rounded half up to the nearest 5% -> markdown 10%"])


class MarkdownOut(MarkdownPreviewOut):
    """The season's markdown decision."""
    markdown_id: int
    season_id: UUID
    forecast_id: int
    status: str = Field(..., examples=["recommended"], description="recommended or accepted")
    decided_by: str | None = None
    decided_at: datetime | None = None
    created_at: datetime


class VarianceOut(Schema):
    season_id: UUID
    week_number: int = Field(..., examples=[4])
    forecast_id: int = Field(..., description="The baseline forecast the week was compared with")
    forecasted_cumulative: float = Field(..., examples=[2550.0], description="Baseline units, weeks 1..N")
    actual_cumulative: int = Field(..., examples=[3200], description="Units sold, weeks 1..N")
    variance_pct: float = Field(..., examples=[0.255], description="|actual - forecast| / forecast (0.255 = 25.5%)")
    signed_variance: float = Field(..., examples=[0.255], description="> 0: selling above forecast")
    direction: str = Field(..., examples=["over"], description="over, under or on plan")
    band: str = Field(..., examples=["red"], description="green < 0.10 <= amber <= 0.20 < red")
    band_label: str = Field(..., examples=["Re-forecast"])
    threshold: float = Field(..., examples=[0.2])
    threshold_exceeded: bool = Field(..., examples=[True])
    emergency: bool = Field(..., description="Selling more than 0.30 above plan with a shortage: emergency-order alert")
    shortage_units: int | None = Field(None, examples=[2480], description=(
        "Emergency order: units still needed beyond all the stock the season holds (DC + stores)"))
    stock_alert: str | None = Field(None, examples=["emergency_order"], description=(
        "emergency_order (above plan, short), overstock_review (more than 0.30 below plan) or null"))
    units_at_risk: int | None = Field(None, examples=[12000], description=(
        "Over-stock review: units the season holds beyond what the rest of the season needs"))
    action_taken: str = Field(..., examples=["reforecast"])
    created_at: datetime

    @staticmethod
    def resolve_week_number(check):
        return check.week

    @staticmethod
    def resolve_stock_alert(check):
        return check.stock_alert or None

    @staticmethod
    def resolve_forecasted_cumulative(check):
        return check.forecast_cum

    @staticmethod
    def resolve_variance_pct(check):
        return check.variance

    @staticmethod
    def resolve_actual_cumulative(check):
        return check.actual_cum

    @staticmethod
    def resolve_direction(check):
        if check.signed_variance > 0:
            return "over"
        return "under" if check.signed_variance < 0 else "on plan"

    @staticmethod
    def resolve_band_label(check):
        return check.get_band_display()

    @staticmethod
    def resolve_threshold_exceeded(check):
        return check.exceeded

