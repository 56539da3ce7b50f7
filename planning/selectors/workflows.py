"""What the API and pages read of a "workflow": the API's word for a season (its id is the one
clients follow from the first forecast on) or one run on it (a week's processing, a manual
re-forecast). A season reads as its current run's status with its own phase and pending approval."""
from agents.orchestration import DEMAND, PRICING, REFORECAST
from planning.errors import Conflict, NotFound
from planning.models import Allocation, Run, Season
from planning.selectors.seasons import markdown_dict
from planning.services import allocation as plans
from planning.services import events
from planning.services.pipeline import PRE_SEASON_STEPS
from planning.services.weeks import week_result

Status = Run.Status
# Both approvals offer the same two actions (planning.services.approvals).
APPROVAL_OPTIONS = ["modify", "accept"]
USAGE_KEYS = ("requests", "input_tokens", "output_tokens", "total_tokens")


def get_workflow(workflow_id):
    """The season with this id, else the run with this id; 404 for neither."""
    season = Season.objects.select_related("category", "owner", "current_run").filter(pk=workflow_id).first()
    if season is not None:
        return season
    run = Run.objects.select_related("season", "season__category", "owner").filter(pk=workflow_id).first()
    if run is None:
        raise NotFound(f"Unknown workflow {workflow_id}.")
    return run


def pre_season_run(season):
    return season.runs.filter(kind=Run.Kind.PRE_SEASON).first()


def pending_approval(season):
    """The approval the season waits for, as the status endpoint shows it (None when none)."""
    if not season.pending_approval or season.status != Status.AWAITING_APPROVAL:
        return None
    agent = "inventory" if season.pending_approval == Season.PendingApproval.MANUFACTURING else "pricing"
    return {"action": season.pending_approval, "agent": agent, "data": season.approval_data or {},
            "options": APPROVAL_OPTIONS}


def season_usage(season):
    """LLM tokens of the season's own runs (pre-season and weeks; manual re-forecasts count
    apart), in total and per step."""
    totals = {key: 0 for key in USAGE_KEYS}
    by_step = {}
    for usage in season.runs.exclude(kind=Run.Kind.REFORECAST).values_list("token_usage", flat=True):
        for key in USAGE_KEYS:
            totals[key] += int((usage or {}).get(key) or 0)
        for step, counts in ((usage or {}).get("by_step") or {}).items():
            mine = by_step.setdefault(step, {key: 0 for key in USAGE_KEYS})
            for key in USAGE_KEYS:
                mine[key] += int(counts.get(key) or 0)
    return {**totals, "by_step": by_step} if any(totals.values()) else {}


def status_dict(workflow):
    """GET /api/workflows/{id}: a season's or a run's status."""
    if isinstance(workflow, Season):
        return _season_status(workflow)
    return _run_status(workflow)


def _season_status(season):
    run, first = season.current_run, pre_season_run(season)
    return {
        "workflow_id": str(season.pk), "type": "forecast", "season_id": None, "category_id": season.category_id,
        "status": season.status, "phase": season.phase, "step": run.step if run else "",
        "current_agent": (run.current_agent if run else "") or None, "progress_pct": run.progress_pct if run else 0,
        "current_week": season.current_week, "parameters": season.parameters,
        "runner": run.runner if run else "deterministic", "token_usage": season_usage(season),
        "last_seq": season.last_seq, "error": (run.error if run else "") or None,
        "pending_approval": pending_approval(season),
        "owner": season.owner.get_username() if season.owner_id else None,
        "created_at": season.created_at, "started_at": first.started_at if first else None,
        "updated_at": season.updated_at, "completed_at": first.completed_at if first else None,
        "heartbeat_at": run.heartbeat_at if run else None,
    }


def _run_status(run):
    season = run.season
    parameters = {**season.parameters, "reason": run.reason} if run.reason else season.parameters
    return {
        "workflow_id": str(run.pk), "type": run.kind, "season_id": str(season.pk), "category_id": season.category_id,
        "status": run.status, "phase": season.phase, "step": run.step, "current_agent": run.current_agent or None,
        "progress_pct": run.progress_pct, "current_week": season.current_week, "parameters": parameters,
        "runner": run.runner, "token_usage": run.token_usage or {}, "last_seq": season.last_seq,
        "error": run.error or None,
        "pending_approval": pending_approval(season) if season.current_run_id == run.pk else None,
        "owner": run.owner.get_username() if run.owner_id else None,
        "created_at": run.created_at, "started_at": run.started_at, "updated_at": run.updated_at,
        "completed_at": run.completed_at, "heartbeat_at": run.heartbeat_at,
    }


def results_dict(workflow):
    """GET /api/workflows/{id}/results: a season's committed plan (409 until its pre-season run has
    completed), a re-forecast's new baseline, or a week's result (409 until processed)."""
    if isinstance(workflow, Season):
        return _plan(workflow)
    run = workflow
    body = {"workflow_id": str(run.pk), "type": run.kind, "season_id": str(run.season_id), "status": run.status}
    if run.kind == Run.Kind.WEEK:
        result = week_result(run.season, run.week)
        if result is None:
            raise Conflict(f"Week {run.week} is {run.status}; its result is available once it has been processed.")
        return {**body, "week": result}
    if run.completed_at is None:
        raise Conflict(f"The re-forecast is {run.status}; results are available once it has completed.")
    return {**body, "forecast": plans.forecast_dict(run.forecasts.order_by("-version").first()),
            "reforecast": (run.outputs or {}).get(REFORECAST)}


def _plan(season):
    first = pre_season_run(season)
    if first is None or first.completed_at is None:
        raise Conflict(f"The workflow is {season.status}; results are available once it has completed.")
    outputs = first.outputs or {}
    demand = outputs.get(DEMAND) or {}
    allocation = Allocation.objects.filter(season=season).prefetch_related("stores").first()
    return {
        "workflow_id": str(season.pk),
        "type": "forecast",
        "status": season.status,
        "phase": season.phase,
        "parameters": season.parameters,
        "forecast": plans.forecast_dict(plans.original_forecast(season)),
        "current_forecast": plans.forecast_dict(plans.current_forecast(season)),
        "clusters": {
            "source": (demand.get("clustering") or {}).get("source"),
            "silhouette": (demand.get("clustering") or {}).get("silhouette"),
            "distribution": (demand.get("cluster_split") or {}).get("clusters", []),
        },
        "allocation": plans.allocation_dict(allocation),
        "markdown_schedule": (outputs.get(PRICING) or {}).get("checkpoint"),
        "markdown": markdown_dict(season.markdowns.first()),
        "summaries": {step: first.events.filter(type=events.AGENT_COMPLETED, payload__step=step)
                      .values_list("payload__result__summary", flat=True).last()
                      for step in PRE_SEASON_STEPS},
    }
