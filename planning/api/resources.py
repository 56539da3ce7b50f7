"""Read endpoints (any signed-in role): categories, stores and clusters, forecasts, a season's
allocation, markdown and variance checks. Allocation, markdown and variance are looked up by a
forecast id and answer for that forecast's season."""
import hashlib
from collections import defaultdict
from uuid import UUID

from django.core.cache import cache
from django.db.models import F, IntegerField, OuterRef, Subquery
from ninja import Router
from ninja.pagination import paginate

from planning.api.schemas import (
    AllocationOut,
    BoundedPagination,
    CategoryOut,
    ClusterOut,
    DbId,
    ErrorOut,
    ForecastOut,
    ForecastSummaryOut,
    MarkdownOut,
    SeasonWeek,
    StoreOut,
    VarianceOut,
)
from planning.errors import NotFound
from planning.models import (
    Allocation,
    Category,
    Forecast,
    HistoricalSale,
    MarkdownDecision,
    Season,
    Store,
    StoreCluster,
    VarianceCheck,
)
from planning.selectors import seasons as season_reads
from planning.services import allocation as plans

router = Router(tags=["resources"])

NOT_FOUND = {404: ErrorOut}
# Store rows read as dicts, in the API's names.
STORE_FIELDS = dict(store_name=F("name"))
STORE_COLUMNS = StoreOut.model_fields.keys() - STORE_FIELDS.keys()


class _RowCount(Subquery):
    """COUNT(*) of a subquery without GROUP BY, which SQLite answers from the index quickly."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


def _not_found(forecast_id: int, missing: str):
    """404 naming what is missing: the forecast itself, or ``missing`` for a known forecast."""
    if not Forecast.objects.filter(pk=forecast_id).exists():
        return NotFound(f"Unknown forecast {forecast_id}.")
    return NotFound(missing)


def season_of_forecast(forecast_id: int) -> Season:
    season = Season.objects.filter(forecasts=forecast_id).first()
    if season is None:
        raise NotFound(f"Unknown forecast {forecast_id}.")
    return season


@router.get("/categories", response=list[CategoryOut])
def categories(request):
    """Categories with their stored history: row count and date range.

    Counting a category's history scans its rows, and the counts change only when an import
    bumps ``Category.data_version``; so the list is cached under the current versions."""
    versions = ",".join(f"{pk}:{v}" for pk, v in Category.objects.values_list("pk", "data_version"))
    key = "api:categories:" + hashlib.sha256(versions.encode()).hexdigest()
    summary = cache.get(key)
    if summary is None:
        sales = HistoricalSale.objects.filter(category=OuterRef("pk")).order_by()
        summary = list(
            Category.objects.annotate(
                rows=_RowCount(sales.values("pk")),
                first_date=Subquery(sales.order_by("date").values("date")[:1]),
                last_date=Subquery(sales.order_by("-date").values("date")[:1]),
            )
            .order_by("name")
            .values("data_version", "first_date", "last_date", category_id=F("id"), category_name=F("name"),
                    row_count=F("rows"))
        )
        cache.set(key, summary, timeout=300)
    return summary


@router.get("/stores", response=list[StoreOut])
@paginate(BoundedPagination)
def stores(request, cluster: str | None = None):
    """Stores, optionally of one cluster (`?cluster=mainstream`), by store id."""
    queryset = Store.objects.order_by("store_id")
    if cluster:
        queryset = queryset.filter(cluster_id=cluster)
    return queryset.values(*STORE_COLUMNS, **STORE_FIELDS)


@router.get("/stores/clusters", response=list[ClusterOut])
def clusters(request):
    """Store clusters, highest fashion tier first, each with its stores."""
    members = defaultdict(list)
    for store in Store.objects.order_by("store_id").values(*STORE_COLUMNS, **STORE_FIELDS):
        members[store["cluster_id"]].append(store)
    return [
        {**cluster, "stores": members[cluster["cluster_id"]]}
        for cluster in StoreCluster.objects.order_by("-fashion_tier").values(
            "fashion_tier", "store_count", "silhouette_score", cluster_id=F("id"), cluster_name=F("name"))
    ]


@router.get("/forecasts", response=list[ForecastSummaryOut])
@paginate(BoundedPagination)
def forecasts(request, category: str | None = None, season: UUID | None = None):
    """Forecasts, newest first; filter by category id and by season (workflow id)."""
    queryset = Forecast.objects.defer("weekly", "cluster_distribution", "backtest_error").order_by(
        "-created_at", "-id"
    )
    if category:
        queryset = queryset.filter(category_id=category)
    if season:
        queryset = queryset.filter(season_id=season)
    return plans.forecast_summaries(queryset)


@router.get("/forecasts/{forecast_id}", response={200: ForecastOut, **NOT_FOUND})
def forecast(request, forecast_id: DbId):
    """A forecast: weekly curve with 80% bounds, cluster split, model totals, method, warnings."""
    found = Forecast.objects.select_related("category").filter(pk=forecast_id).first()
    if found is None:
        raise NotFound(f"Unknown forecast {forecast_id}.")
    return plans.forecast_dict(found)


@router.get("/allocations/{forecast_id}", response={200: AllocationOut, **NOT_FOUND})
def allocation(request, forecast_id: DbId):
    """The season's allocation: manufacturing order, initial/holdback split, every store row."""
    found = Allocation.objects.select_related("season", "accepted_by").filter(season__forecasts=forecast_id).first()
    if found is None:
        raise _not_found(
            forecast_id, f"The season of forecast {forecast_id} has no allocation yet."
        )
    return plans.allocation_dict(found)


@router.get("/markdowns/{forecast_id}", response={200: MarkdownOut, **NOT_FOUND})
def markdown(request, forecast_id: DbId):
    """The season's markdown decision; 404 until the markdown checkpoint has run."""
    decision = MarkdownDecision.objects.filter(season__forecasts=forecast_id).first()
    if decision is None:
        raise _not_found(
            forecast_id, "No markdown yet: the season's markdown checkpoint has not run."
        )
    return season_reads.markdown_dict(decision)


@router.get("/variance/{forecast_id}/week/{week_number}", response={200: VarianceOut, **NOT_FOUND})
def variance(request, forecast_id: DbId, week_number: SeasonWeek):
    """The variance check of week N: cumulative forecast and actual, variance, band, action."""
    check = VarianceCheck.objects.filter(season__forecasts=forecast_id, week=week_number).first()
    if check is None:
        raise _not_found(forecast_id,
                         f"Week {week_number} has no variance check (no actuals uploaded for it yet).")
    return check
