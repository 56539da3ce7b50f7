"""The season page's store tables as page fragments: each table's context (its page of rows, the
sort links of its headers, its filter form, prev/next) and its GET endpoint, which answers htmx
with the table alone. Without htmx the season tables' endpoints redirect to the season page with
the same query, and the store drill-down renders as a page of its own, so every link and form
works without JavaScript. The queries are planning.selectors.store_tables."""
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Max, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from agents.season_tools import check_variance
from planning.models import Allocation, Replenishment, Season, StoreCluster, VarianceCheck
from planning.selectors import store_tables as tables


@dataclass(frozen=True)
class Link:
    href: str  # the full page (no JavaScript)
    hx: str  # the table's fragment (htmx)


def cluster_choices():
    return list(StoreCluster.objects.values_list("id", "name"))


class TableView:
    """What a table's template needs around its rows, the links keeping the page's other query
    parameters (the other tables' state) in the full-page links."""

    def __init__(self, page, *, params, page_url, part_url, dom_id, clusters, rows=None, labels=None):
        self.page, self.spec, self.state = page, page.spec, page.state
        self.rows = page.rows if rows is None else rows
        self.total, self.pages, self.start, self.end = page.total, page.pages, page.start, page.end
        self.params, self.page_url, self.part_url = params, page_url, part_url
        self.dom_id, self.clusters, self.sizes = dom_id, clusters, tables.PAGE_SIZES
        self.labels = labels or {}

    def own(self, state):
        """This table's query parameters for ``state``, defaults left out."""
        defaults = tables.read_state(self.spec, {})
        pairs = [("q", state.q), ("cluster", state.cluster)]
        if state.sort_param != defaults.sort_param:
            pairs.append(("sort", state.sort_param))
        if state.size != defaults.size:
            pairs.append(("size", state.size))
        if state.page != 1:
            pairs.append(("page", state.page))
        return [(self.spec.param(name), value) for name, value in pairs if value]

    def others(self):
        mine = self.spec.prefix + "_"
        items = self.params.lists() if hasattr(self.params, "lists") else ((k, [v]) for k, v in self.params.items())
        return [(k, v) for k, values in items if not k.startswith(mine) for v in values]

    def link(self, state):
        own = self.own(state)
        return Link(href=_url(self.page_url, self.others() + own) + f"#{self.dom_id}",
                    hx=_url(self.part_url, own))

    @property
    def headers(self):
        cells = []
        for column in self.spec.columns:
            sorted_here = column.order_by is not None and column.key == self.state.sort
            cell = {"label": self.labels.get(column.key, column.label), "numeric": column.numeric, "sortable": column.order_by is not None,
                    "aria_sort": ("descending" if self.state.descending else "ascending") if sorted_here else None}
            if column.order_by is not None:
                descending = not self.state.descending if sorted_here else column.numeric
                cell["link"] = self.link(replace(self.state, sort=column.key, descending=descending, page=1))
            cells.append(cell)
        return cells

    @property
    def sort_label(self):
        column = self.spec.column(self.state.sort)
        return f"{column.label.lower()}, {'descending' if self.state.descending else 'ascending'}"

    @property
    def previous(self):
        return self.link(replace(self.state, page=self.state.page - 1)) if self.state.page > 1 else None

    @property
    def next(self):
        return self.link(replace(self.state, page=self.state.page + 1)) if self.state.page < self.pages else None

    @property
    def hidden_inputs(self):
        """The filter form's hidden fields: the sort, and for the full page the other tables' state."""
        own = [(self.spec.param("sort"), self.state.sort_param)]
        return own + self.others()

    @property
    def state_inputs(self):
        """This table's state, included by the panels' reload (hx-include) so it keeps the page."""
        return self.own(self.state)

    @property
    def names(self):
        return {field: self.spec.param(field) for field in ("q", "cluster", "size")}


def _url(base, pairs):
    return f"{base}?{urlencode(pairs)}" if pairs else base


def _state(spec, params, clusters):
    return tables.read_state(spec, params, clusters={key for key, _ in clusters})


# --- the tables' contexts ---------------------------------------------------------------------

def allocation_table(season, allocation, params, clusters):
    """The allocation's stores table, or None before there is an allocation."""
    if allocation is None:
        return None
    page = tables.allocation_stores(allocation, _state(tables.ALLOCATION_STORES, params, clusters))
    return TableView(page, params=params, clusters=clusters, dom_id="season-stores",
                     page_url=reverse("season", args=[season.pk]),
                     part_url=reverse("season-stores-table", args=[season.pk]))


def shipments_summary(season):
    """(latest week with shipments or None, units shipped in the season), in one query."""
    found = Replenishment.objects.filter(season=season).aggregate(week=Max("week"), total=Sum("quantity"))
    return found["week"], int(found["total"] or 0)


def shipments_table(season, week, params, clusters):
    """The shipments planned after ``week`` (the latest week), or None when there are none."""
    if week is None:
        return None
    page = tables.shipments(season, week, _state(tables.SHIPMENTS, params, clusters))
    return TableView(page, params=params, clusters=clusters, dom_id="season-shipments",
                     page_url=reverse("season", args=[season.pk]),
                     part_url=reverse("season-shipments-table", args=[season.pk]))


def store_variance_table(season, week, params, clusters):
    """Each store's sales through ``week`` against its share of the baseline that week's check used
    (share = the store's planned units / the plan's demand), largest variance first by default;
    the band and signed variance of the rows shown come from planning's variance check. None when
    the week has not been checked."""
    check = VarianceCheck.objects.select_related("forecast").filter(season=season, week=week).first()
    allocation = Allocation.objects.filter(season=season).first()
    if check is None or allocation is None or not allocation.demand_units:
        return None
    plan_per_unit = sum(check.forecast.weekly_units()[:week]) / allocation.demand_units
    state = _state(tables.STORE_VARIANCE, params, clusters)
    page = tables.store_variance(season, allocation, week, plan_per_unit, state)
    rows = [{**row, **check_variance(row["sold_to_date"], row["plan_to_date"], check.threshold)}
            for row in page.rows]
    url = reverse("store-variance", args=[season.pk, week])
    return TableView(page, params=params, clusters=clusters, dom_id=f"store-drilldown-{week}",
                     page_url=url, part_url=url, rows=rows, labels={"week": f"Week {week} sold"})


# --- the endpoints -----------------------------------------------------------------------------

def _season(season_id):
    return get_object_or_404(Season, pk=season_id)


def _to_page(request, season, anchor):
    """Without htmx a table's link is the season page with the same query."""
    return redirect(_url(reverse("season", args=[season.pk]), list(request.GET.items())) + f"#{anchor}")


@login_required
@require_GET
def season_stores_table(request, season_id):
    """The allocation's stores table (fragment)."""
    season = _season(season_id)
    if not request.htmx:
        return _to_page(request, season, "season-stores")
    allocation = Allocation.objects.filter(season=season).first()
    table = allocation_table(season, allocation, request.GET, cluster_choices())
    return render(request, "planning/partials/store_allocation_table.html", {"season": season, "table": table})


@login_required
@require_GET
def season_shipments_table(request, season_id):
    """The latest week's shipments table (fragment)."""
    season = _season(season_id)
    if not request.htmx:
        return _to_page(request, season, "season-shipments")
    week, _ = shipments_summary(season)
    table = shipments_table(season, week, request.GET, cluster_choices())
    return render(request, "planning/partials/shipments_table.html",
                  {"season": season, "table": table, "queue_week": week})


@login_required
@require_GET
def store_variance(request, season_id, week):
    """Store drill-down of one week's variance: a fragment for htmx, else a page of its own."""
    season = _season(season_id)
    context = {"season": season, "week": week,
               "table": store_variance_table(season, week, request.GET, cluster_choices())}
    template = "planning/partials/store_variance.html" if request.htmx else "planning/store_variance.html"
    return render(request, template, context)
