"""Reads of a season in progress: its weekly actuals, the baseline a week is judged against, the
stores' stock, and its markdown decision in the API's field names."""
from collections import defaultdict

from django.conf import settings
from django.db.models import Sum

from agents.season_tools import recommend_markdown
from planning.errors import NotFound
from planning.models import Replenishment, Run, Season, WeeklyActual


def iso(moment):
    """JSON-safe timestamps: results also end up in JSONFields (events, upload summaries)."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def variance_threshold():
    return settings.VARIANCE_THRESHOLD


def season_of(season_or_id):
    """The season of a Season, a Run, or either's id; 404 for an unknown id."""
    if isinstance(season_or_id, Season):
        return season_or_id
    if isinstance(season_or_id, Run):
        return season_or_id.season
    season = Season.objects.filter(pk=season_or_id).first()
    if season is None:
        run = Run.objects.select_related("season").filter(pk=season_or_id).first()
        if run is None:
            raise NotFound(f"Unknown season {season_or_id}.")
        season = run.season
    return season


def weekly_actuals(season, through=None):
    """Category units of weeks 1..through (default: every uploaded week)."""
    through = season.current_week if through is None else through
    totals = dict(WeeklyActual.objects.filter(season=season, week__lte=through).values("week")
                  .annotate(units=Sum("units")).values_list("week", "units"))
    return [float(totals.get(n, 0)) for n in range(1, through + 1)]


def baseline_for_week(season, week):
    """The baseline the check of ``week`` compares against: the latest version in force before
    the week was processed (versions made by processing week N start at N+1)."""
    return season.forecasts.filter(from_week__lte=week).order_by("-version").first()


def on_hand(stock):
    """Units on hand in all stores, from ``store_stock``."""
    return sum(s["on_hand"] for s in stock.values())


def store_stock(season, allocation, through):
    """On hand per store after week ``through``'s sales (before that week's shipments), and the
    units shipped to each store so far (initial + replenishments of weeks < through)."""
    sold = defaultdict(dict)
    for store_id, week, units in WeeklyActual.objects.filter(season=season, week__lte=through).values_list(
            "store_id", "week", "units"):
        sold[store_id][week] = units
    shipped_in = defaultdict(dict)
    for store_id, week, quantity in Replenishment.objects.filter(season=season, week__lt=through).values_list(
            "store_id", "week", "quantity"):
        shipped_in[store_id][week] = quantity
    stock = {}
    for row in allocation.stores.all():
        on_hand, shipped = row.initial_qty, row.initial_qty
        for week in range(1, through + 1):
            on_hand = max(0, on_hand - sold[row.store_id].get(week, 0))
            if week < through:
                arriving = shipped_in[row.store_id].get(week, 0)
                on_hand += arriving
                shipped += arriving
        stock[row.store_id] = {"on_hand": on_hand, "shipped": shipped,
                               "allocated": row.initial_qty + row.holdback_qty}
    return stock


def markdown_dict(decision):
    """GET /api/markdowns/{forecast_id}, and the markdown in approvals and the report."""
    if decision is None:
        return None
    return {
        "markdown_id": decision.pk, "season_id": str(decision.season_id), "forecast_id": decision.forecast_id,
        **markdown_view(recommend_markdown(decision.units_sold, decision.manufacturing_qty, decision.target,
                                           decision.elasticity), decision.week),
        "status": decision.status,
        # The stored decision is the record (an accepted one may predate a rule change).
        "sell_through_pct": decision.sell_through, "gap": decision.gap,
        "recommended_markdown_pct": decision.markdown_pct, "expected_lift": decision.expected_lift,
        "decided_by": decision.decided_by.get_username() if decision.decided_by_id else None,
        "decided_at": iso(decision.decided_at), "created_at": iso(decision.created_at),
    }


def markdown_view(result, week):
    """A markdown recommendation (recommend_markdown's output) in the API's field names."""
    return {"week_number": week, "units_sold": result["units_sold"], "manufacturing_qty": result["manufacturing_qty"],
            "sell_through_pct": result["sell_through"], "target_sell_through": result["target"], "gap": result["gap"],
            "elasticity_coefficient": result["elasticity"], "recommended_markdown_pct": result["markdown_pct"],
            "expected_lift": result["expected_lift"], "reasoning": result["formula"]}
