"""Schemas of the uploads' answers: history and store imports (with the data quality and the
clustering they led to) and a week's actuals (the run processing it, and the week's result)."""
from datetime import date
from uuid import UUID

from ninja import Field, Schema

from planning.api.schemas import MarkdownOut

# --- History and stores ---------------------------------------------------------------------------------


class UploadCategoryOut(Schema):
    category_id: str = Field(..., examples=["womens_dresses"])
    category_name: str = Field(..., examples=["Women's Dresses"])
    row_count: int = Field(..., description="Rows of the file for this category")
    created: bool = Field(..., description="True when this upload created the category")
    data_version: int


class DateRangeOut(Schema):
    start: date
    end: date


class OutlierWeekOut(Schema):
    week_start: date
    units: int
    neighbour_median: int = Field(..., description="Median units of the two weeks either side")
    z: float = Field(..., description="Robust z-score of the log ratio to the neighbours")


class CategoryQualityOut(Schema):
    category_id: str
    rows: int
    stores: int
    first_date: date
    last_date: date
    days: int
    missing_store_days: int = Field(..., description="Store-days without a row inside the range")
    coverage: float = Field(..., examples=[1.0])
    weeks: int
    zero_week_count: int
    zero_weeks: list[date]
    outlier_week_count: int
    outlier_weeks: list[OutlierWeekOut]


class DataQualityOut(Schema):
    status: str = Field(
        ..., examples=["ok"], description='"ok", or "review" when anything was found'
    )
    missing_store_days: int
    zero_weeks: int
    outlier_weeks: int
    categories: list[CategoryQualityOut]


class HistoryUploadOut(Schema):
    upload_id: int
    kind: str = Field(..., examples=["historical_sales"])
    filename: str
    rows_imported: int = Field(..., examples=[164400])
    rows_added: int = Field(..., examples=[164400])
    rows_replaced: int = Field(..., examples=[0], description="Rows that replaced stored ones")
    categories_detected: list[UploadCategoryOut]
    date_range: DateRangeOut
    stores: int = Field(..., examples=[50])
    data_quality: DataQualityOut
    seconds: float


class ClusterSummaryOut(Schema):
    cluster_id: str = Field(..., examples=["fashion_forward"])
    cluster_name: str = Field(..., examples=["Fashion forward"])
    fashion_tier: float
    store_count: int


class ClusteringOut(Schema):
    computed: bool
    reason: str | None = Field(None, description="Why the clusters were not recomputed")
    k: int | None = None
    silhouette_score: float | None = None
    clusters: list[ClusterSummaryOut]


class StoresUploadOut(Schema):
    upload_id: int
    kind: str = Field(..., examples=["stores"])
    filename: str
    rows_imported: int = Field(..., examples=[50])
    stores_added: int
    stores_updated: int
    stores_total: int
    clusters: ClusteringOut
    seconds: float


class StockPositionOut(Schema):
    """Units the rest of the season still needs vs all the stock it holds (mlpipeline.stock)."""
    needed: int = Field(..., description="Units the rest of the season is expected to sell")
    dc_available: int
    store_on_hand: int
    stock_held: int = Field(..., description="DC available + units on hand in stores")
    shortage: int = Field(..., description="needed - stock held when selling above plan: the emergency order")
    at_risk: int = Field(..., description="stock held - needed: units at risk of being left over")
    selling_above_plan: bool
    alert: str | None = Field(None, examples=["overstock_review"], description="emergency_order, overstock_review or null")


class StockAlertOut(StockPositionOut):
    """The week's stock position when it raised an alert."""
    variance: float
    direction: str


class ReforecastOut(Schema):
    """A re-forecast of the remaining weeks (agents.season_tools.reforecast_remaining_weeks): the
    season's level learnt from its weeks on the pre-season plan (mlpipeline.inseason)."""
    weeks_observed: int
    horizon_weeks: int
    original_total: float = Field(..., description="The baseline's season total before the update")
    plan_to_date: float = Field(..., description="The baseline's weeks 1..N")
    actual_to_date: float
    run_rate_ratio: float = Field(..., description="Actual / baseline to date")
    level: float = Field(..., description="The season's level: actual / pre-season plan, learnt week by week")
    level_lower: float = Field(..., description="80% band of the level")
    level_upper: float
    model_remaining_total: float | None = Field(None, description="The refit's remaining weeks (only its shape is used)")
    original_remaining_total: float = Field(..., description="The baseline's weeks N+1..H")
    updated_remaining: list[float]
    updated_remaining_total: float
    updated_remaining_lower: float = Field(..., description="80% band of the remaining weeks' total")
    updated_remaining_upper: float
    updated_remaining_weekly_lower: list[float] = Field(..., description="80% band of each remaining week")
    updated_remaining_weekly_upper: list[float]
    updated_total: float
    change: float = Field(..., description="updated_total - original_total")
    baseline_weekly: list[float] = Field(..., description="Actuals to date, then the updated weeks")
    method: str = Field(..., description="The re-forecast method (bayesian_level)")
    forecast_id: int | None = Field(None, description="The new baseline it saved")
    version: int | None = None
    refit_method: str | None = None
    refit_error: str | None = Field(None, description="Why the models could not be refitted, if so")


class ShipmentOut(Schema):
    store_id: str
    need: int
    quantity: int
    partial: bool


class ReplenishmentOut(Schema):
    """The week's DC shipments (or why there were none)."""
    week: int
    strategy: str | None = None
    shipped_total: int
    stores_shipped: int | None = None
    stores_short: int | None = None
    total_need: int | None = None
    dc_before: int | None = None
    dc_remaining: int
    plan_scale: float | None = Field(None, description="Current baseline / original forecast")
    shipments: list[ShipmentOut]
    skipped: str | None = Field(None, examples=["dc_empty"])


class RestOfSeasonOut(Schema):
    """The rest of the season as expected after the week, with its 80% band (mlpipeline.inseason)."""
    expected: float = Field(..., examples=[5120.0])
    lower: float
    upper: float


class WeekResultOut(Schema):
    """What processing a week did: the variance check, and the re-forecast, stock alert,
    shipments and markdown checkpoint that followed from it."""
    season_id: UUID
    week_number: int = Field(..., examples=[3])
    units: int = Field(..., description="Units sold in the week")
    forecast_id: int = Field(..., description="The baseline forecast the week was compared with")
    forecasted_cumulative: float = Field(..., examples=[2550.0])
    actual_cumulative: int = Field(..., examples=[3200])
    variance_pct: float = Field(..., examples=[0.255])
    signed_variance: float = Field(..., examples=[0.255])
    band: str = Field(..., examples=["red"])
    threshold: float = Field(..., examples=[0.2])
    threshold_exceeded: bool
    emergency: bool
    shortage_units: int | None = None
    stock_alert: str | None = Field(None, examples=["overstock_review"])
    units_at_risk: int | None = None
    action_taken: str = Field(..., examples=["re-forecast v2"])
    rest_of_season: RestOfSeasonOut | None = Field(None, description="Weeks N+1..H: expected units and 80% band")
    phase: str
    status: str
    pending_approval: str | None = None
    reforecast: ReforecastOut | None = Field(None, description="The re-forecast, when one ran")
    replenishment: ReplenishmentOut | None = Field(None, description="The DC shipments, when replenishment was due")
    markdown: MarkdownOut | None = Field(None, description="The checkpoint's markdown, at the checkpoint week")
    emergency_order: StockAlertOut | None = None
    overstock_review: StockAlertOut | None = None


class WeeklyUploadOut(Schema):
    """202: the actuals are stored and the week's run is queued; follow it at
    /api/workflows/{run_id} (its result: /api/workflows/{run_id}/results)."""
    upload_id: int
    kind: str = Field(..., examples=["weekly_actuals"])
    filename: str
    workflow_id: UUID = Field(..., description="The season")
    run_id: UUID = Field(..., description="The run processing the week")
    status: str = Field(..., examples=["pending"], description="The run's status when the upload was answered")
    week_number: int = Field(..., examples=[3])
    rows_imported: int = Field(..., examples=[50], description="Store rows recorded (one per store of the plan)")
    units: int = Field(..., examples=[21340])
    variance_check: WeekResultOut | None = Field(
        None, description="The week's result if it was already processed when the upload was answered, else null")


