"""The planning domain: stores and their clusters, sales history, and a season's life from the
pre-season forecast through weekly actuals, replenishment and markdown to the season report.

A ``Season`` is the plan (category, parameters, phase, the approval it waits for); a ``Run`` is one
execution on it (the pre-season run, one week's processing, a manual re-forecast) with its status,
step, progress, heartbeat, error, runner and token usage. Everything in-season (actuals, variance
checks, shipments, markdowns, approvals, events) hangs off the season; events name their run.
"""
import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from mlpipeline.limits import (
    BUY_RANGE,
    ELASTICITY_RANGE,
    MAX_HORIZON_WEEKS,
    MAX_MARKDOWN,
    MIN_HORIZON_WEEKS,
    SAFETY_STOCK_RANGE,
)
from planning import sales_rollups


class Category(models.Model):
    id = models.SlugField(primary_key=True, max_length=64, help_text='e.g. "womens_dresses"')
    name = models.CharField(max_length=120, unique=True)
    # Bumped by every history import so cached forecasts of the old data are never reused.
    data_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class StoreCluster(models.Model):
    class Key(models.TextChoices):
        FASHION_FORWARD = "fashion_forward", "Fashion forward"
        MAINSTREAM = "mainstream", "Mainstream"
        VALUE_CONSCIOUS = "value_conscious", "Value conscious"

    id = models.CharField(primary_key=True, max_length=32, choices=Key.choices)
    name = models.CharField(max_length=64)
    fashion_tier = models.FloatField(help_text="Mean fashion-tier code of the member stores (1..3)")
    store_count = models.PositiveIntegerField(default=0)
    silhouette_score = models.FloatField(
        null=True, blank=True, help_text="Silhouette of the clustering that produced this cluster"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-fashion_tier"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fashion_tier__gte=1) & Q(fashion_tier__lte=3),
                name="cluster_fashion_tier_range",
            ),
        ]

    def __str__(self):
        return self.name


class Store(models.Model):
    class LocationTier(models.TextChoices):
        A = "A"
        B = "B"
        C = "C"

    class FashionTier(models.TextChoices):
        PREMIUM = "PREMIUM", "Premium"
        MAINSTREAM = "MAINSTREAM", "Mainstream"
        VALUE = "VALUE", "Value"

    class Format(models.TextChoices):
        MALL = "MALL", "Mall"
        STANDALONE = "STANDALONE", "Standalone"
        SHOPPING_CENTER = "SHOPPING_CENTER", "Shopping center"
        OUTLET = "OUTLET", "Outlet"

    class Region(models.TextChoices):
        NORTHEAST = "NORTHEAST", "Northeast"
        SOUTHEAST = "SOUTHEAST", "Southeast"
        MIDWEST = "MIDWEST", "Midwest"
        WEST = "WEST", "West"

    store_id = models.CharField(
        primary_key=True,
        max_length=16,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Letters, digits, _ and - only.")],
    )
    name = models.CharField(max_length=120)
    cluster = models.ForeignKey(
        StoreCluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="stores"
    )
    store_size_sqft = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    location_tier = models.CharField(max_length=1, choices=LocationTier.choices)
    fashion_tier = models.CharField(max_length=10, choices=FashionTier.choices)
    store_format = models.CharField(max_length=15, choices=Format.choices)
    region = models.CharField(max_length=9, choices=Region.choices)
    median_income = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    avg_weekly_sales_12mo = models.FloatField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["store_id"]
        constraints = [
            models.CheckConstraint(condition=Q(store_size_sqft__gt=0), name="store_size_positive"),
            models.CheckConstraint(condition=Q(median_income__gt=0), name="store_income_positive"),
            models.CheckConstraint(
                condition=Q(avg_weekly_sales_12mo__gte=0), name="store_avg_sales_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(location_tier__in=["A", "B", "C"]), name="store_location_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(fashion_tier__in=["PREMIUM", "MAINSTREAM", "VALUE"]),
                name="store_fashion_tier_valid",
            ),
            models.CheckConstraint(
                condition=Q(store_format__in=["MALL", "STANDALONE", "SHOPPING_CENTER", "OUTLET"]),
                name="store_format_valid",
            ),
            models.CheckConstraint(
                condition=Q(region__in=["NORTHEAST", "SOUTHEAST", "MIDWEST", "WEST"]),
                name="store_region_valid",
            ),
        ]

    def __str__(self):
        return f"{self.store_id} {self.name}"


class SalesQuerySet(models.QuerySet):
    """HistoricalSale's bulk writes through the ORM (``bulk_create``, ``bulk_update``, ``update``,
    ``delete``) sum the rollups of every category they touched again, in the same transaction, so
    the rollups stay equal to the rows whoever writes them (tests, scripts, the admin). The history
    import writes with its own SQL and refreshes only the days it wrote (sales_rollups)."""

    def _categories(self):
        return set(self.order_by().values_list("category_id", flat=True).distinct())

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            sales_rollups.refresh_categories({obj.category_id for obj in objs})
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            touched = self.filter(pk__in=[obj.pk for obj in objs])._categories()
            updated = super().bulk_update(objs, fields, *args, **kwargs)
            sales_rollups.refresh_categories(touched | {obj.category_id for obj in objs})
        return updated

    def update(self, **kwargs):
        with transaction.atomic(using=self.db):
            touched = self._categories()
            updated = super().update(**kwargs)
            if "category" in kwargs or "category_id" in kwargs:
                touched = sales_rollups.all_categories()
            sales_rollups.refresh_categories(touched)
        return updated

    def delete(self):
        with transaction.atomic(using=self.db):
            touched = self._categories()
            deleted = super().delete()
            sales_rollups.refresh_categories(touched)
        return deleted

    delete.alters_data = True
    delete.queryset_only = True


class HistoricalSale(models.Model):
    """One store's units (and revenue, when known) of a category on a day: the base rows. Forecasts,
    allocation and the history's price read the rollups below instead (``CategoryDaySales``,
    ``StoreYearSales``); every write keeps them equal (the import set-based for the days it wrote,
    ORM writes through ``SalesQuerySet`` and ``save``/``delete``). Deleting a Store cascades here
    without them: re-import or save a row of the category to sum it again."""

    objects = SalesQuerySet.as_manager()

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sales")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sales")
    date = models.DateField()
    units = models.PositiveIntegerField()
    revenue = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "category", "date"], name="sale_unique_day"),
            models.CheckConstraint(condition=Q(units__gte=0), name="sale_units_non_negative"),
        ]
        indexes = [
            # The weekly category aggregation scans one category's dates.
            models.Index(fields=["category", "date"], name="sale_category_date"),
        ]

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            sales_rollups.refresh_categories([self.category_id])

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            deleted = super().delete(*args, **kwargs)
            sales_rollups.refresh_categories([self.category_id])
        return deleted


class CategoryDaySales(models.Model):
    """A category's sales of one day summed over its stores: the rollup the forecasts and the
    history's price read (about 1,100 rows per category for three years, whatever the number of
    stores, instead of 2,000 stores x 1,100 days of HistoricalSale).

    Why days and not weeks: a season buckets its history into 7-day weeks aligned to its own start
    weekday (``mlpipeline.weekly.weekly_series(daily, start)``), so a Monday-week rollup would
    change the forecast of a Saturday start, and seven rollups (one per alignment) cost as much as
    this one many times over. Day totals give every alignment and every cut-off (``date < start``)
    exactly the numbers the base rows gave (units are integers; revenue sums in another order,
    within float rounding). ``store_rows`` counts the base rows; ``priced_units``, ``revenue`` and
    ``priced_rows`` cover only the rows that carry a revenue (the price of SPEC §13 is revenue /
    units of those rows).

    Maintained inside the import's transaction (planning.sales_rollups), never at request time.
    """

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="day_sales")
    date = models.DateField()
    units = models.BigIntegerField()
    store_rows = models.PositiveIntegerField()
    priced_units = models.BigIntegerField(help_text="Units of the rows that carry a revenue")
    revenue = models.FloatField(help_text="Revenue of the rows that carry one (0 without any)")
    priced_rows = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category", "date"], name="day_sales_unique_day")]


class StoreYearSales(models.Model):
    """Each store's units of a category over the 52 weeks (364 days) ending on the category's last
    day of history (``window_end``): the store shares and factors of the allocation, 2,000 rows to
    read instead of 2,000 x 364 base rows to sum. A season that starts inside the history (its
    52 weeks end earlier) finds no rows for its window end and sums the base rows
    (planning.services.forecasting.store_history_units). Summed again by every import of the
    category (its last day may move)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="store_year_sales")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    window_end = models.DateField()
    units = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category", "store"], name="store_year_sales_unique")]


class DataUpload(models.Model):
    """One accepted upload, kept for the data page and for auditing."""

    class Kind(models.TextChoices):
        HISTORICAL_SALES = "historical_sales"
        STORES = "stores"
        WEEKLY_ACTUALS = "weekly_actuals"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    filename = models.CharField(max_length=255, blank=True)
    rows = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]


class Batch(models.Model):
    """Seasons of several categories started together with the same parameters (issue #17: POST
    /api/workflows/forecast-batch, the seasons page's "Plan all categories"): who, when, with what;
    its seasons are ``seasons`` (each an ordinary season with its own run, approval and page)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    parameters = models.JSONField(default=dict, help_text="The seasons' parameters, as checked")
    all_categories = models.BooleanField(default=False, help_text='Asked for "all" categories')
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self):
        return f"Batch {self.id}"


class Season(models.Model):
    """The plan of one category's season: its parameters, its phase, the approval it waits for
    and the week it has reached. The committed order is its ``allocation``, the current baseline
    its latest ``forecasts`` version. Its id is the one planners and API clients follow from the
    first forecast to the end of the season (the API calls it the season's ``workflow_id``)."""

    class Phase(models.TextChoices):
        PRE_SEASON = "pre_season"
        IN_SEASON = "in_season"
        SEASON_COMPLETE = "season_complete"

    class PendingApproval(models.TextChoices):
        NONE = ""
        MANUFACTURING = "approve_manufacturing_order"
        MARKDOWN = "approve_markdown"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="seasons")
    # The 7 SeasonParameters fields plus confidence, reasoning, extractor and the raw input.
    parameters = models.JSONField(default=dict)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.PRE_SEASON)
    pending_approval = models.CharField(max_length=32, choices=PendingApproval.choices, blank=True, default="")
    # What the planner is shown for the pending approval (the proposal, its options' ranges).
    approval_data = models.JSONField(default=dict, blank=True)
    current_week = models.PositiveSmallIntegerField(default=0, help_text="Last season week with uploaded actuals")
    # The run that drives the season now: the pre-season run, then each week's (manual
    # re-forecasts run beside it and never become current).
    current_run = models.ForeignKey("Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_seq = models.PositiveIntegerField(default=0, help_text="Sequence number of the season's last event")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="seasons"
    )
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="seasons",
                              help_text="The batch that started it, if any")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["category", "-created_at"], name="season_category_created")]

    def __str__(self):
        return f"Season {self.category_id} {self.id}"

    @property
    def horizon_weeks(self):
        return int(self.parameters.get("forecast_horizon_weeks", 12))

    @property
    def status(self):
        """The status of the run driving the season (see ``current_run``)."""
        return self.current_run.status if self.current_run_id else Run.Status.PENDING

    def refresh_from_db(self, *args, **kwargs):
        """Reload the current run too: its status is the season's (Django keeps a cached related
        object whose id did not change)."""
        super().refresh_from_db(*args, **kwargs)
        self._state.fields_cache.pop("current_run", None)


class Run(models.Model):
    """One execution on a season: the pre-season run (demand -> inventory -> [approval] -> pricing),
    one week's processing (variance -> re-forecast -> stock alert -> replenishment -> markdown
    checkpoint -> [approval] -> apply markdown), or a manual re-forecast. A run paused for an
    approval is resumed by the accept. The pre-season run shares its season's id."""

    class Kind(models.TextChoices):
        PRE_SEASON = "pre_season"
        WEEK = "week"
        REFORECAST = "reforecast"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        AWAITING_APPROVAL = "awaiting_approval"
        COMPLETED = "completed"
        FAILED = "failed"

    ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    week = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The season week a week run processes")
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # Where the run resumes: the next step to run (planning.services.pipeline).
    step = models.CharField(max_length=32)
    current_agent = models.CharField(max_length=32, blank=True)
    progress_pct = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    error = models.TextField(blank=True)
    runner = models.CharField(max_length=16, default="deterministic")
    token_usage = models.JSONField(default=dict, blank=True)
    # Outputs of the run's finished steps by step name (the agents' "previous").
    outputs = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Refreshed by the job running this run")
    # How many times recovery re-ran the current step after the job running it died.
    recovery_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress_pct__lte=100), name="run_progress_pct"),
            models.CheckConstraint(condition=Q(kind="week", week__isnull=False) | ~Q(kind="week"),
                                   name="run_week_has_week"),
            models.UniqueConstraint(fields=["season"], condition=Q(kind="pre_season"), name="run_one_pre_season"),
        ]
        indexes = [models.Index(fields=["status"], name="run_status")]

    def __str__(self):
        label = f"week {self.week}" if self.kind == self.Kind.WEEK else self.get_kind_display()
        return f"{label} run {self.id} of {self.season_id}"


class Extraction(models.Model):
    """One parameter extraction (API or page) as the server ran it: what it read and the LLM
    tokens it cost. Token usage is recorded here by the server alone; a season started from the
    extraction refers to it by id and is billed its tokens, once (one extraction, one season)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="extractions"
    )
    user_input = models.TextField()
    reference_date = models.DateField()
    extractor = models.CharField(max_length=8)
    confidence = models.CharField(max_length=8)
    reasoning = models.TextField(blank=True)
    missing = models.JSONField(default=list, blank=True)
    parameters = models.JSONField()
    token_usage = models.JSONField(default=dict, blank=True)
    season = models.OneToOneField(
        Season, null=True, blank=True, on_delete=models.SET_NULL, related_name="extraction",
        help_text="The season started from this extraction",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Extraction {self.id} ({self.extractor}, {self.confidence})"


class SeasonEvent(models.Model):
    """Every message sent on a season's WebSocket, persisted in order for replay; each names the run
    it came from."""

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="events")
    run = models.ForeignKey("Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["season", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["season", "seq"], name="event_unique_season_seq"),
        ]

    def as_message(self):
        return {
            "type": self.type,
            "seq": self.seq,
            "workflow_id": str(self.season_id),
            "run_id": str(self.run_id) if self.run_id else None,
            "timestamp": self.created_at.isoformat().replace("+00:00", "Z"),
            **self.payload,
        }


class Forecast(models.Model):
    """A weekly category forecast for a season: the original, or a re-forecast of later weeks."""

    class Kind(models.TextChoices):
        ORIGINAL = "original"
        REFORECAST = "reforecast"
        MARKDOWN = "markdown", "Markdown adjusted"

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="forecasts")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="forecasts", help_text="The run that produced it")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="forecasts")
    version = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ORIGINAL)
    from_week = models.PositiveSmallIntegerField(
        default=1, help_text="First season week this version re-estimated"
    )
    season_start_date = models.DateField()
    horizon_weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_HORIZON_WEEKS), MaxValueValidator(MAX_HORIZON_WEEKS)]
    )
    # [{"week": 1, "week_start": "2025-03-01", "units": 812.3, "lower": ..., "upper": ...}, ...]
    weekly = models.JSONField()
    total_units = models.FloatField(validators=[MinValueValidator(0)])
    model_totals = models.JSONField(default=dict)
    weights = models.JSONField(default=dict)
    method = models.CharField(max_length=32)
    backtest_error = models.JSONField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # [{"cluster_id": "mainstream", "share": 0.35, "units": 2800}, ...]
    cluster_distribution = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["season", "version"], name="forecast_unique_version"),
            models.CheckConstraint(condition=Q(total_units__gte=0), name="forecast_total_non_negative"),
        ]
        indexes = [models.Index(fields=["category", "-created_at"], name="forecast_category")]

    def weekly_units(self):
        return [float(w["units"]) for w in self.weekly]


class FitCache(models.Model):
    """Fitted forecast results keyed by (category, data version, parameters), so a modify-approval
    or a page view never refits and a changed history always does."""

    key = models.CharField(max_length=64, unique=True)
    category = models.ForeignKey(Category, on_delete=models.CASCADE)
    result = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)


class Allocation(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed"
        ACCEPTED = "accepted"

    season = models.OneToOneField(Season, on_delete=models.CASCADE, related_name="allocation")
    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="allocations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    demand_units = models.PositiveIntegerField()
    class Basis(models.TextChoices):
        SAFETY_STOCK = "safety_stock"  # demand x (1 + safety stock), the stock within SAFETY_STOCK_RANGE
        QUANTITY = "quantity"  # the planner's own manufacturing quantity within BUY_RANGE x demand

    buy_basis = models.CharField(max_length=12, choices=Basis.choices, default=Basis.SAFETY_STOCK)
    safety_stock_pct = models.FloatField(
        validators=[MinValueValidator(BUY_RANGE[0] - 1), MaxValueValidator(BUY_RANGE[1] - 1)],
        help_text="The safety stock; for a planner's own quantity, the one it amounts to (qty / demand - 1)",
    )
    manufacturing_qty = models.PositiveIntegerField()
    holdback_pct = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    initial_qty = models.PositiveIntegerField()
    holdback_qty = models.PositiveIntegerField()
    dc_available = models.PositiveIntegerField(help_text="Holdback units still at the DC")
    # [{"cluster_id", "share", "units", "initial_qty", "holdback_qty", "store_count"}, ...]
    cluster_totals = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(initial_qty=F("manufacturing_qty") - F("holdback_qty")),
                name="allocation_split_sums",
            ),
            models.CheckConstraint(
                condition=Q(dc_available__lte=F("holdback_qty")), name="allocation_dc_within_holdback"
            ),
            models.CheckConstraint(
                condition=(Q(buy_basis="safety_stock", safety_stock_pct__gte=SAFETY_STOCK_RANGE[0],
                             safety_stock_pct__lte=SAFETY_STOCK_RANGE[1])
                           | Q(buy_basis="quantity", safety_stock_pct__gte=BUY_RANGE[0] - 1 - 1e-9,
                               safety_stock_pct__lte=BUY_RANGE[1] - 1 + 1e-9)),
                name="allocation_buy_range",
            ),
            models.CheckConstraint(
                condition=Q(holdback_pct__gte=0) & Q(holdback_pct__lte=1),
                name="allocation_holdback_range",
            ),
        ]


class StoreAllocation(models.Model):
    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="stores")
    store = models.ForeignKey(Store, on_delete=models.PROTECT)
    cluster = models.ForeignKey(StoreCluster, null=True, on_delete=models.SET_NULL)
    factor = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    planned_units = models.PositiveIntegerField()
    initial_qty = models.PositiveIntegerField()
    holdback_qty = models.PositiveIntegerField()

    class Meta:
        ordering = ["store_id"]
        constraints = [
            models.UniqueConstraint(fields=["allocation", "store"], name="store_allocation_unique"),
            models.CheckConstraint(
                condition=Q(factor__gte=0) & Q(factor__lte=1), name="store_allocation_factor_range"
            ),
        ]


class WeeklyActual(models.Model):
    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="actuals")
    week = models.PositiveSmallIntegerField(validators=[MinValueValidator(MIN_HORIZON_WEEKS), MaxValueValidator(MAX_HORIZON_WEEKS)])
    store = models.ForeignKey(Store, on_delete=models.PROTECT)
    units = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["week", "store_id"]
        constraints = [
            models.UniqueConstraint(fields=["season", "week", "store"], name="actual_unique_season_week"),
            models.CheckConstraint(condition=Q(units__gte=0), name="actual_units_non_negative"),
            models.CheckConstraint(condition=Q(week__gte=1) & Q(week__lte=52), name="actual_week_range"),
        ]


class VarianceCheck(models.Model):
    class Band(models.TextChoices):
        GREEN = "green", "On track"
        AMBER = "amber", "Elevated"
        RED = "red", "Re-forecast"

    class StockAlert(models.TextChoices):
        """What the week's stock position raised (mlpipeline.stock): an order only above plan."""
        NONE = "", "None"
        EMERGENCY_ORDER = "emergency_order", "Emergency order"
        OVERSTOCK_REVIEW = "overstock_review", "Over-stock review"

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="variance_checks")
    week = models.PositiveSmallIntegerField()
    forecast = models.ForeignKey(
        Forecast, on_delete=models.CASCADE, help_text="The baseline the check compared against"
    )
    forecast_cum = models.FloatField()
    actual_cum = models.PositiveIntegerField()
    variance = models.FloatField(validators=[MinValueValidator(0)])
    signed_variance = models.FloatField()
    band = models.CharField(max_length=5, choices=Band.choices)
    threshold = models.FloatField()
    exceeded = models.BooleanField()
    emergency = models.BooleanField(default=False, help_text="An emergency order was raised (selling above plan)")
    shortage_units = models.IntegerField(null=True, blank=True)
    stock_alert = models.CharField(max_length=16, choices=StockAlert.choices, blank=True, default="")
    units_at_risk = models.IntegerField(null=True, blank=True, help_text="Over-stock review: units likely left over")
    action_taken = models.CharField(max_length=64, blank=True)
    # The rest of the season as expected after this week, with its 80% band (mlpipeline.inseason:
    # the season's level learnt from its own weeks, on the original plan's shape).
    expected_remaining = models.FloatField(null=True, blank=True)
    expected_remaining_lower = models.FloatField(null=True, blank=True)
    expected_remaining_upper = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["week"]
        constraints = [
            models.UniqueConstraint(fields=["season", "week"], name="variance_unique_week"),
            models.CheckConstraint(condition=Q(variance__gte=0), name="variance_non_negative"),
        ]


class Replenishment(models.Model):
    """One shipment from the DC to a store after week N's actuals."""

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="replenishments")
    week = models.PositiveSmallIntegerField()
    store = models.ForeignKey(Store, on_delete=models.PROTECT)
    need_units = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    partial = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["week", "-need_units", "store_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["season", "week", "store"], name="replenishment_unique_week"
            ),
            models.CheckConstraint(
                condition=Q(quantity__lte=F("need_units")), name="replenishment_within_need"
            ),
        ]
        indexes = [models.Index(fields=["season", "week"], name="replenishment_week")]


class MarkdownDecision(models.Model):
    class Status(models.TextChoices):
        RECOMMENDED = "recommended"
        ACCEPTED = "accepted"

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="markdowns")
    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="markdowns")
    week = models.PositiveSmallIntegerField()
    units_sold = models.PositiveIntegerField()
    manufacturing_qty = models.PositiveIntegerField()
    sell_through = models.FloatField(validators=[MinValueValidator(0)])
    target = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    gap = models.FloatField()
    elasticity = models.FloatField(validators=[MinValueValidator(ELASTICITY_RANGE[0]), MaxValueValidator(ELASTICITY_RANGE[1])])
    markdown_pct = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(MAX_MARKDOWN)])
    expected_lift = models.FloatField(validators=[MinValueValidator(0)])
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECOMMENDED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["week"]
        constraints = [
            # At most one markdown per season (SPEC §2.5).
            models.UniqueConstraint(fields=["season"], name="markdown_one_per_season"),
            models.CheckConstraint(
                condition=Q(markdown_pct__gte=0) & Q(markdown_pct__lte=MAX_MARKDOWN),
                name="markdown_pct_range",
            ),
            models.CheckConstraint(
                condition=Q(elasticity__gte=ELASTICITY_RANGE[0]) & Q(elasticity__lte=ELASTICITY_RANGE[1]),
                name="markdown_elasticity_range",
            ),
        ]


class Approval(models.Model):
    """Who did what at an approval point, with the values they saw or chose."""

    class Kind(models.TextChoices):
        MANUFACTURING = "manufacturing"
        MARKDOWN = "markdown"

    class Action(models.TextChoices):
        MODIFY = "modify"
        ACCEPT = "accept"

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="approvals")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    action = models.CharField(max_length=8, choices=Action.choices)
    values = models.JSONField(default=dict)
    note = models.TextField(blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class ScenarioComparison(models.Model):
    """One saved scenario comparison (SPEC §13): what-ifs of a season on the same simulated
    seasons, at the manufacturing approval (the buy) or at the markdown approval (the markdown
    depth for the rest of the season). Keeps the request, each scenario's SPEC fields with a
    compact margin distribution for the chart (quantiles and a histogram on shared bins, not the
    paths), the recommended scenario and the state it was computed at."""

    class Kind(models.TextChoices):
        MANUFACTURING = "manufacturing"
        MARKDOWN = "markdown"

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="scenario_comparisons")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    paths = models.PositiveIntegerField()
    seed = models.PositiveBigIntegerField(default=0)
    # The scenarios as requested (the planner's fields only; defaults are filled in ``results``).
    scenarios = models.JSONField(default=list)
    # [{name, the SPEC fields, settings: {...}, margin_quantiles: [...], margin_histogram: [...]}, ...]
    results = models.JSONField(default=list)
    margin_bin_edges = models.JSONField(default=list, blank=True, help_text="Shared bins of margin_histogram")
    recommended = models.CharField(max_length=64)
    # The state it was computed at: the forecast version in force, the weeks done, the money.
    forecast = models.ForeignKey(Forecast, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    forecast_version = models.PositiveSmallIntegerField()
    week = models.PositiveSmallIntegerField(default=0, help_text="Weeks of actuals behind it (0: pre-season)")
    economics = models.JSONField(default=dict)
    demand = models.JSONField(default=dict, help_text="The simulated demand: median, sigma, errors_used")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["season", "-created_at"], name="scenario_season_created")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["manufacturing", "markdown"]), name="scenario_kind_valid"),
            models.CheckConstraint(condition=Q(paths__gte=1), name="scenario_paths_positive"),
        ]

    def __str__(self):
        return f"Scenario comparison {self.pk} ({self.kind}) of {self.season_id}"


class ApiToken(models.Model):
    """A per-user API token. Only its SHA-256 is stored; the token is shown once at creation."""

    PREFIX = "sp_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(max_length=12, editable=False, help_text="For recognising a token")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.key_prefix}… ({self.user})"

    @staticmethod
    def hash(raw):
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def set_new_key(self):
        """Give this (unsaved) token a fresh key and return the raw key, which is not stored."""
        raw = self.PREFIX + secrets.token_urlsafe(32)
        self.key_hash = self.hash(raw)
        self.key_prefix = raw[: len(self.PREFIX) + 6]
        return raw

    @classmethod
    def issue(cls, user, name=""):
        """Create a token for ``user``; returns (token, raw key)."""
        token = cls(user=user, name=name)
        raw = token.set_new_key()
        token.save()
        return token, raw

    @property
    def is_active(self):
        return self.revoked_at is None
