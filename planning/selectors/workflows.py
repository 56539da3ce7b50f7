"""What the API and pages read of a workflow: its status (with the pending approval) and the
results of a completed run."""
from agents.orchestration import DEMAND, PRICING, REFORECAST
from planning.errors import Conflict, NotFound
from planning.models import Allocation, Workflow
from planning.selectors.seasons import markdown_dict
from planning.services import allocation as plans
from planning.services import events
from planning.services.pipeline import PRE_SEASON_STEPS

Status = Workflow.Status
# Both approvals offer the same two actions (planning.services.approvals).
APPROVAL_OPTIONS = ["modify", "accept"]

def get_workflow(workflow_id):
    workflow = Workflow.objects.select_related("category", "season", "owner").filter(pk=workflow_id).first()
    if workflow is None:
        raise NotFound(f"Unknown workflow {workflow_id}.")
    return workflow


def status_dict(workflow):
    pending = None
    if workflow.status == Status.AWAITING_APPROVAL and workflow.pending_approval:
        agent = "inventory" if workflow.pending_approval == Workflow.PendingApproval.MANUFACTURING else "pricing"
        pending = {"action": workflow.pending_approval, "agent": agent,
                   "data": (workflow.step_outputs or {}).get("pending_approval") or {},
                   "options": APPROVAL_OPTIONS}
    return {
        "workflow_id": str(workflow.pk),
        "type": workflow.type,
        "season_id": str(workflow.season_id) if workflow.season_id else None,
        "category_id": workflow.category_id,
        "status": workflow.status,
        "phase": workflow.phase,
        "step": workflow.step,
        "current_agent": workflow.current_agent or None,
        "progress_pct": workflow.progress_pct,
        "current_week": workflow.current_week,
        "parameters": workflow.parameters,
        "runner": workflow.runner,
        "token_usage": workflow.token_usage or {},
        "last_seq": workflow.last_seq,
        "error": workflow.error or None,
        "pending_approval": pending,
        "owner": workflow.owner.get_username() if workflow.owner_id else None,
        "created_at": workflow.created_at,
        "started_at": workflow.started_at,
        "updated_at": workflow.updated_at,
        "completed_at": workflow.completed_at,
        "heartbeat_at": workflow.heartbeat_at,
    }


def results_dict(workflow):
    """The plan of a completed run; 409 until the (pre-season) run has completed."""
    if workflow.completed_at is None:
        raise Conflict(f"The workflow is {workflow.status}; results are available once it has completed.")
    outputs = workflow.step_outputs or {}
    if workflow.type == Workflow.Type.REFORECAST:
        forecast = workflow.produced_forecasts.order_by("-version").first()
        return {"workflow_id": str(workflow.pk), "type": workflow.type, "season_id": str(workflow.season_id),
                "status": workflow.status, "forecast": plans.forecast_dict(forecast),
                "reforecast": outputs.get(REFORECAST)}
    demand = outputs.get(DEMAND) or {}
    allocation = Allocation.objects.filter(season=workflow).prefetch_related("stores").first()
    return {
        "workflow_id": str(workflow.pk),
        "type": workflow.type,
        "status": workflow.status,
        "phase": workflow.phase,
        "parameters": workflow.parameters,
        "forecast": plans.forecast_dict(plans.original_forecast(workflow)),
        "current_forecast": plans.forecast_dict(plans.current_forecast(workflow)),
        "clusters": {
            "source": (demand.get("clustering") or {}).get("source"),
            "silhouette": (demand.get("clustering") or {}).get("silhouette"),
            "distribution": (demand.get("cluster_split") or {}).get("clusters", []),
        },
        "allocation": plans.allocation_dict(allocation),
        "markdown_schedule": (outputs.get(PRICING) or {}).get("checkpoint"),
        "markdown": markdown_dict(workflow.markdowns.first()),
        "summaries": {step: workflow.events.filter(type=events.AGENT_COMPLETED, payload__step=step)
                      .values_list("payload__result__summary", flat=True).last()
                      for step in PRE_SEASON_STEPS},
    }
