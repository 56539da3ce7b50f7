"""Batch endpoints (issue #17): plan several categories with one set of parameters, follow them."""
from uuid import UUID

from ninja import Router, Status

from planning.api.auth import require_role
from planning.api.batch_schemas import BatchCreatedOut, BatchIn, BatchOut
from planning.api.schemas import errors
from planning.roles import PLANNER, VIEWER
from planning.selectors import batches as batch_reads
from planning.services import batches

router = Router(tags=["batches"])


@router.post("/workflows/forecast-batch", response={201: BatchCreatedOut, **errors(403, 404)})
def start_batch(request, payload: BatchIn):
    """Start a season of each category (as POST /api/workflows/forecast would), checked in full
    before any is created; the runs go to the job runner (Celery workers in parallel when set)."""
    require_role(request, PLANNER)
    batch, seasons = batches.start_batch(payload.category_ids,
                                         payload.parameters.model_dump(mode="json", exclude_unset=True),
                                         user=request.auth)
    return Status(201, {"batch_id": batch.pk, "status": "running",
                        "workflows": [{"category_id": s.category_id, "workflow_id": s.pk} for s in seasons]})


@router.get("/batches/{batch_id}", response={200: BatchOut, **errors(404)})
def batch_status(request, batch_id: UUID):
    """The batch and each category's season: status and progress of its current run."""
    require_role(request, VIEWER)
    return batch_reads.batch_dict(batch_reads.get_batch(batch_id))
