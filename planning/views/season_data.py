"""What the season page shows, read in a handful of queries. The numbers were computed and stored
by the services (or, for the store drill-down, come from the planning tools); this module only
selects and arranges them for display."""
from collections import defaultdict

from django.db.models import Sum

from agents.season_tools import check_variance
from mlpipeline.allocation import store_weekly_plan
from planning.models import (
    Allocation,
    MarkdownDecision,
    Replenishment,
    StoreCluster,
    VarianceCheck,
    WeeklyActual,
    Run,
)
from planning.selectors.agent_cards import agent_cards
from planning.services import allocation as plans

TIMELINE_LENGTH = 150


def page_context(season, *, can_plan):
    events = list(season.events.order_by("seq"))
    return {
        **panels_context(season, can_plan=can_plan, events=events),
        "agents": agent_cards(events),
        "last_seq": events[-1].seq if events else 0,
    }


def panels_context(season, *, can_plan, events=None):
    if events is None:
        events = list(season.events.order_by("-seq")[:TIMELINE_LENGTH])[::-1]
    forecast = plans.current_forecast(season)
    allocation = Allocation.objects.select_related("accepted_by").filter(season=season).first()
    return {
        "season": season,
        "can_plan": can_plan,
        "forecast": forecast,
        "original": plans.original_forecast(season) if forecast and forecast.version > 1 else forecast,
        "allocation": allocation,
        "clusters": cluster_cards(forecast, allocation),
        "pending": _pending(season),
        "approvals": list(season.approvals.select_related("user")),
        "timeline": [describe(event) for event in reversed(events[-TIMELINE_LENGTH:])],
        **in_season(season, forecast),
    }


def _pending(season):
    """The approval the season waits for, with the data the engine stored for it."""
    if season.status != Run.Status.AWAITING_APPROVAL or not season.pending_approval:
        return None
    return {
        "action": season.pending_approval,
        "data": season.approval_data or {},
    }


def describe(event):
    """One line of the event timeline."""
    p = event.payload
    if event.type == "agent_started":
        text = f"{p.get('agent', '').capitalize()} agent started"
    elif event.type == "agent_progress":
        text = p.get("message", "")
    elif event.type == "agent_completed":
        result = p.get("result") or {}
        summary = result.get("summary", "") if isinstance(result, dict) else str(result)
        text = f"{p.get('agent', '').capitalize()} agent done in {p.get('duration_seconds', 0):.1f} s. {summary}"
    elif event.type == "human_input_required":
        text = "Waiting for approval: " + p.get("action", "").replace("approve_", "").replace("_", " ")
    elif event.type == "workflow_complete":
        text = f"Run complete in {p.get('duration_seconds', 0):.1f} s"
    elif event.type == "error":
        text = p.get("error_message", "")
    else:
        text = ""
    return {"seq": event.seq, "type": event.type, "label": event.type.replace("_", " "),
            "at": event.created_at, "text": text, "week": p.get("week")}


def cluster_cards(forecast, allocation):
    """Cluster share, units and (once allocated) the split and the store rows of each cluster."""
    names = StoreCluster.objects.in_bulk()
    if allocation is not None:
        rows = {}
        for row in allocation.stores.select_related("store"):
            rows.setdefault(row.cluster_id, []).append(row)
        totals = allocation.cluster_totals
    elif forecast is not None:
        rows, totals = {}, forecast.cluster_distribution
    else:
        return []
    cards = []
    for total in totals:
        cluster = names.get(total["cluster_id"])
        cards.append({
            **total,
            "name": cluster.name if cluster else total["cluster_id"],
            "stores": rows.get(total["cluster_id"], []),
        })
    return cards


def in_season(season, forecast):
    """Actuals, variance, replenishment and markdown of the season."""
    horizon = season.horizon_weeks
    weekly_actual = dict(
        WeeklyActual.objects.filter(season=season).values("week").annotate(units=Sum("units"))
        .values_list("week", "units")
    )
    checks = list(VarianceCheck.objects.filter(season=season).order_by("week"))
    by_week = {check.week: check for check in checks}
    weekly_forecast = forecast.weekly if forecast else []
    variance_weeks = [
        {
            "week": week,
            "forecast": float(weekly_forecast[week - 1]["units"]) if week <= len(weekly_forecast) else 0.0,
            "actual": weekly_actual.get(week),
            "band": by_week[week].band if week in by_week else None,
            "signed_variance": by_week[week].signed_variance if week in by_week else None,
        }
        for week in range(1, horizon + 1)
    ] if forecast else []
    latest_week = max(weekly_actual) if weekly_actual else 0
    shipments = list(
        Replenishment.objects.filter(season=season).select_related("store").order_by("-week", "-need_units")
    )
    queue_week = shipments[0].week if shipments else None
    return {
        "weekly_actual": weekly_actual,
        "variance_checks": checks,
        "variance_weeks": variance_weeks,
        "latest_week": latest_week,
        "next_week": latest_week + 1 if latest_week < horizon else None,
        "queue_week": queue_week,
        "queue": [s for s in shipments if s.week == queue_week],
        "shipped_total": sum(s.quantity for s in shipments),
        "markdown": MarkdownDecision.objects.filter(season=season).select_related("decided_by").first(),
    }


def store_variance(season, week):
    """Each store's sales through ``week`` against its share of the baseline that week's check used
    (share = the store's planned units / the plan's demand), worst first."""
    check = VarianceCheck.objects.select_related("forecast").filter(season=season, week=week).first()
    allocation = Allocation.objects.filter(season=season).first()
    if check is None or allocation is None or not allocation.demand_units:
        return []
    baseline = check.forecast.weekly_units()[:week]
    sold = defaultdict(lambda: [0, 0])  # store -> [this week, to date]
    for store_id, sold_week, units in WeeklyActual.objects.filter(
        season=season, week__lte=week
    ).values_list("store_id", "week", "units"):
        sold[store_id][1] += units
        if sold_week == week:
            sold[store_id][0] += units
    rows = []
    for row in allocation.stores.select_related("store", "cluster"):
        plan = sum(store_weekly_plan(row.planned_units / allocation.demand_units, baseline))
        week_units, to_date = sold[row.store_id]
        rows.append({
            "store": row.store,
            "cluster": row.cluster.name if row.cluster else "—",
            "week_units": week_units,
            "plan_to_date": plan,
            **check_variance(to_date, plan, check.threshold),
        })
    return sorted(rows, key=lambda r: r["variance"], reverse=True)
