"""Workflow endpoints: start a season's forecast or a re-forecast, follow it, read its results."""
from uuid import UUID

from ninja import Router, Status

from planning.api.auth import require_role
from planning.api.schemas import EventSeq, errors
from planning.api.season_schemas import ReportOut, ResultsOut
from planning.api.workflow_schemas import EventsOut, ForecastWorkflowIn, ReforecastIn, WorkflowCreatedOut, WorkflowOut
from planning.roles import PLANNER, VIEWER
from planning.selectors import workflows as workflow_reads
from planning.services import events, season_start
from planning.services import report as reports

router = Router(tags=["workflows"])

MAX_EVENTS = 1000


def _created(request, workflow):
    scheme = "wss" if request.is_secure() else "ws"
    return Status(201, {
        "workflow_id": workflow.pk,
        "status": workflow.status,
        "websocket_url": f"{scheme}://{request.get_host()}/api/workflows/{workflow.pk}/stream",
    })


@router.post("/workflows/forecast", response={201: WorkflowCreatedOut, **errors(403, 404, 409)})
def start_forecast(request, payload: ForecastWorkflowIn):
    """Start a season: forecast, allocate, then pause for the manufacturing approval."""
    require_role(request, PLANNER)
    workflow = season_start.start_forecast(payload.category_id, payload.parameters.model_dump(mode="json", exclude_unset=True),
                                     user=request.auth,
                                     extraction_id=payload.extraction_id)
    return _created(request, workflow)


@router.post("/workflows/reforecast", response={201: WorkflowCreatedOut, **errors(403, 404, 409)})
def start_reforecast(request, payload: ReforecastIn):
    """Re-forecast a season's remaining weeks from the actuals so far (needs a committed plan)."""
    require_role(request, PLANNER)
    workflow = season_start.start_reforecast(workflow_id=payload.workflow_id, forecast_id=payload.forecast_id,
                                       reason=payload.reason or "", user=request.auth)
    return _created(request, workflow)


@router.get("/workflows/{workflow_id}", response={200: WorkflowOut, **errors(404)})
def workflow_status(request, workflow_id: UUID):
    require_role(request, VIEWER)
    return workflow_reads.status_dict(workflow_reads.get_workflow(workflow_id))


@router.get("/workflows/{workflow_id}/results", response={200: ResultsOut, **errors(404, 409)})
def workflow_results(request, workflow_id: UUID):
    """Forecast, clusters, allocation and markdown schedule; 409 until the run has completed."""
    require_role(request, VIEWER)
    return workflow_reads.results_dict(workflow_reads.get_workflow(workflow_id))


@router.get("/workflows/{workflow_id}/events", response={200: EventsOut, **errors(404)})
def workflow_events(request, workflow_id: UUID, after: EventSeq = 0):
    """Persisted events with seq > after, oldest first (at most 1000 per call; page with after)."""
    require_role(request, VIEWER)
    workflow = workflow_reads.get_workflow(workflow_id)
    return {"workflow_id": workflow.pk, "last_seq": workflow.last_seq,
            "events": events.events_after(workflow.pk, after, limit=MAX_EVENTS)}


@router.get("/workflows/{workflow_id}/report", response={200: ReportOut, **errors(404, 409)})
def workflow_report(request, workflow_id: UUID):
    """The season report (accuracy vs the original forecast, stockouts, leftover, markdown, approvals,
    runtime, LLM tokens); works mid-season on the weeks uploaded so far."""
    require_role(request, VIEWER)
    return reports.season_report(workflow_reads.get_workflow(workflow_id))
