"""The season page's store tables, read a page at a time: filtered (store id or name, cluster),
sorted (a whitelisted column, either way) and paged (bounded) in the database, so a season of
2,000 stores renders one page of rows per table, never all of them.

A table is a ``TableSpec`` (its query-parameter prefix and its columns); ``read_state`` turns the
request's parameters into a ``TableState`` (bad values fall back to the defaults, never an error)
and ``page_of`` applies it to a queryset. The three querysets of the season page follow."""
import math
from dataclasses import dataclass, replace

from django.db.models import Case, DecimalField, F, FilteredRelation, FloatField, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Abs, Cast, Coalesce, Round

from planning.models import Replenishment, StoreAllocation

PAGE_SIZES = (25, 50)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 50
MAX_TEXT_LENGTH = 64


@dataclass(frozen=True)
class Column:
    key: str  # the value of ``<prefix>_sort``
    label: str
    order_by: str | None = None  # a field or annotation of the rows; None: not sortable
    numeric: bool = False


@dataclass(frozen=True)
class TableSpec:
    prefix: str  # query parameters <prefix>_q, _cluster, _sort, _page, _size
    noun: str  # what a row is, plural ("stores", "shipments")
    columns: tuple[Column, ...]
    default_sort: str  # a column key, "-" first for descending
    cluster_field: str = "cluster_id"

    def param(self, name):
        return f"{self.prefix}_{name}"

    def column(self, key):
        return next((c for c in self.columns if c.key == key and c.order_by), None)


@dataclass(frozen=True)
class TableState:
    sort: str
    descending: bool
    q: str = ""
    cluster: str = ""
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @property
    def sort_param(self):
        return f"-{self.sort}" if self.descending else self.sort


@dataclass(frozen=True)
class TablePage:
    spec: TableSpec
    state: TableState  # with the page actually shown (bounded to the last page)
    rows: list
    total: int
    pages: int

    @property
    def start(self):
        return (self.state.page - 1) * self.state.size + 1 if self.total else 0

    @property
    def end(self):
        return min(self.state.page * self.state.size, self.total)


def _positive_int(value, default):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number >= 1 else default


def read_state(spec, params, *, clusters=()):
    """The table's filter, sort and page from ``params`` (a QueryDict or dict). An unknown sort
    column or cluster is ignored, a page that is not a positive number is page 1, a page size that
    is not a positive number is the default and a larger one is capped."""
    default = spec.default_sort.lstrip("-")
    sort = str(params.get(spec.param("sort")) or "")
    descending = sort.startswith("-")
    if not spec.column(sort.lstrip("-")):
        sort, descending = default, spec.default_sort.startswith("-")
    cluster = str(params.get(spec.param("cluster")) or "")
    return TableState(
        sort=sort.lstrip("-"),
        descending=descending,
        q=" ".join(str(params.get(spec.param("q")) or "").split())[:MAX_TEXT_LENGTH],
        cluster=cluster if cluster in clusters else "",
        page=min(_positive_int(params.get(spec.param("page")), 1), 10**9),
        size=min(_positive_int(params.get(spec.param("size")), DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE),
    )


def filtered(spec, queryset, state):
    if state.q:
        queryset = queryset.filter(Q(store__store_id__icontains=state.q) | Q(store__name__icontains=state.q))
    if state.cluster:
        queryset = queryset.filter(**{spec.cluster_field: state.cluster})
    return queryset


def page_of(spec, queryset, state, *, annotate=None):
    """One page of ``queryset`` under ``state``: filtered, counted, sorted (ties by store id) and
    sliced in the database. ``annotate(queryset)`` adds what the rows show beyond their fields
    (after the count, which does not need it). A page past the end shows the last page."""
    rows = filtered(spec, queryset, state)
    total = rows.count()
    pages = max(1, math.ceil(total / state.size))
    state = replace(state, page=min(state.page, pages))
    if annotate is not None:
        rows = annotate(rows)
    key = F(spec.column(state.sort).order_by)
    order = key.desc(nulls_last=True) if state.descending else key.asc(nulls_first=True)
    offset = (state.page - 1) * state.size
    rows = list(rows.order_by(order, "store_id")[offset:offset + state.size])
    return TablePage(spec=spec, state=state, rows=rows, total=total, pages=pages)


# --- the season page's tables ------------------------------------------------------------------

ALLOCATION_STORES = TableSpec(
    prefix="stores", noun="stores", default_sort="store",
    columns=(
        Column("store", "Store", "store_id"),
        Column("cluster", "Cluster", "cluster__name"),
        Column("factor", "Factor", "factor", numeric=True),
        Column("planned", "Planned", "planned_units", numeric=True),
        Column("initial", "Initial", "initial_qty", numeric=True),
        Column("holdback", "Holdback", "holdback_qty", numeric=True),
    ),
)

SHIPMENTS = TableSpec(
    prefix="shipments", noun="shipments", default_sort="-need", cluster_field="store__cluster_id",
    columns=(
        Column("store", "Store", "store_id"),
        Column("cluster", "Cluster", "store__cluster__name"),
        Column("need", "Need", "need_units", numeric=True),
        Column("shipped", "Shipped", "quantity", numeric=True),
        Column("note", "Note", "partial"),
    ),
)

STORE_VARIANCE = TableSpec(
    prefix="variance", noun="stores", default_sort="-variance",
    columns=(
        Column("store", "Store", "store_id"),
        Column("cluster", "Cluster", "cluster__name"),
        Column("week", "Week sold", "week_units", numeric=True),
        Column("plan", "Plan to date", "planned_units", numeric=True),
        Column("sold", "Sold to date", "sold_to_date", numeric=True),
        Column("variance", "Variance", "variance_order", numeric=True),
        Column("band", "Band"),
    ),
)


def allocation_stores(allocation, state):
    """The allocation's store rows: store, cluster, factor, planned, initial and holdback units."""
    rows = StoreAllocation.objects.filter(allocation=allocation).values(
        "store_id", "store__name", "cluster_id", "cluster__name",
        "factor", "planned_units", "initial_qty", "holdback_qty")
    return page_of(ALLOCATION_STORES, rows, state)


def shipments(season, week, state):
    """The shipments planned after ``week`` (need, quantity shipped, partial)."""
    rows = Replenishment.objects.filter(season=season, week=week).values(
        "store_id", "store__name", "store__cluster__name", "need_units", "quantity", "partial")
    return page_of(SHIPMENTS, rows, state)


def store_variance(season, allocation, week, plan_per_unit, state):
    """Each store's sales through ``week`` against its plan to date, which is its planned units x
    ``plan_per_unit`` (the baseline's units to date / the plan's demand). Rows carry week_units,
    sold_to_date, plan_to_date and ``variance`` = |sold - plan| / plan (the actuals when the plan is
    zero, as planning's variance check does), computed in the database so any column sorts."""

    def annotate(rows):
        plan = F("planned_units") * Value(float(plan_per_unit), output_field=FloatField())
        return rows.annotate(
            # weeks 1..week as a list, not a range, so an index on (season, week, store) is sought
            # per week and store instead of scanned per store
            sold=FilteredRelation("store__weeklyactual",
                                  condition=Q(store__weeklyactual__season=season,
                                              store__weeklyactual__week__in=list(range(1, week + 1)))),
        ).annotate(
            sold_to_date=Coalesce(Sum("sold__units"), 0, output_field=IntegerField()),
            week_units=Coalesce(Sum("sold__units", filter=Q(sold__week=week)), 0, output_field=IntegerField()),
            plan_to_date=plan,
        ).annotate(
            variance=Case(
                When(Q(planned_units__gt=0) & Q(plan_to_date__gt=0),
                     then=Abs(F("sold_to_date") - F("plan_to_date")) / F("plan_to_date")),
                When(sold_to_date__gt=0, then=Value(1.0)),
                default=Value(0.0), output_field=FloatField(),
            ),
        ).annotate(
            # the order: variance to 9 places, so stores whose variances are equal but for the
            # floating-point rounding of their sums sort by store id on every database
            variance_order=Round(Cast("variance", DecimalField(max_digits=30, decimal_places=12)), 9),
        )

    rows = StoreAllocation.objects.filter(allocation=allocation).values(
        "store_id", "store__name", "cluster__name", "planned_units")
    return page_of(STORE_VARIANCE, rows, state, annotate=annotate)
