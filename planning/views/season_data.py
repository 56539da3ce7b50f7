"""What the season page shows, read in a handful of queries. The numbers were computed and stored
by the services (or, for the store drill-down, come from the planning tools); this module only
selects and arranges them for display. The store tables show one page of rows each
(planning.views.store_tables), whatever the number of stores."""
from django.db.models import Sum

from planning.models import Allocation, Approval, MarkdownDecision, Run, StoreCluster, VarianceCheck, WeeklyActual
from planning.selectors.agent_cards import agent_cards
from planning.services import allocation as plans
from planning.views import store_tables

TIMELINE_LENGTH = 150


def page_context(season, *, can_plan, params=None):
    events = list(season.events.order_by("seq"))
    return {
        **panels_context(season, can_plan=can_plan, events=events, params=params),
        "agents": agent_cards(events),
        "last_seq": events[-1].seq if events else 0,
    }


def panels_context(season, *, can_plan, events=None, params=None):
    """``params``: the request's query (the store tables' filter, sort and page)."""
    params = {} if params is None else params
    if events is None:
        events = list(season.events.order_by("-seq")[:TIMELINE_LENGTH])[::-1]
    forecast = plans.current_forecast(season)
    allocation = Allocation.objects.select_related("accepted_by").filter(season=season).first()
    clusters = store_tables.cluster_choices()
    return {
        "season": season,
        "can_plan": can_plan,
        "forecast": forecast,
        "original": plans.original_forecast(season) if forecast and forecast.version > 1 else forecast,
        "allocation": allocation,
        "clusters": cluster_cards(forecast, allocation, dict(clusters)),
        "store_table": store_tables.allocation_table(season, allocation, params, clusters),
        "pending": _pending(season),
        "approvals": list(season.approvals.select_related("user")),
        "timeline": [describe(event) for event in reversed(events[-TIMELINE_LENGTH:])],
        **in_season(season, forecast, params=params, clusters=clusters),
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


def cluster_cards(forecast, allocation, names=None):
    """Cluster share, units and (once allocated) the split of each cluster; its stores are the
    store table's (filtered by cluster). ``names``: cluster id -> name."""
    if names is None:
        names = dict(StoreCluster.objects.values_list("id", "name"))
    if allocation is not None:
        totals = allocation.cluster_totals
    elif forecast is not None:
        totals = forecast.cluster_distribution
    else:
        return []
    return [{**total, "name": names.get(total["cluster_id"], total["cluster_id"])} for total in totals]


def in_season(season, forecast, *, params=None, clusters=()):
    """Actuals, variance, replenishment (its latest week's shipments a page at a time) and markdown
    of the season."""
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
    queue_week, shipped_total = store_tables.shipments_summary(season)
    return {
        "weekly_actual": weekly_actual,
        "variance_checks": checks,
        "variance_weeks": variance_weeks,
        "latest_week": latest_week,
        "next_week": latest_week + 1 if latest_week < horizon else None,
        "queue_week": queue_week,
        "shipments_table": store_tables.shipments_table(season, queue_week, params or {}, clusters),
        "shipped_total": shipped_total,
        "markdown": MarkdownDecision.objects.filter(season=season).select_related("decided_by").first(),
        "markdown_scenario": _accepted_scenario(season, Approval.Kind.MARKDOWN),
    }


def _accepted_scenario(season, kind):
    """The compared scenario an accepted approval of ``kind`` took, if it took one."""
    accepted = season.approvals.filter(kind=kind, action=Approval.Action.ACCEPT).values_list("values", flat=True).last()
    return (accepted or {}).get("scenario")

