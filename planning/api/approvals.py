"""Approval endpoints: the manufacturing order and the markdown (modify previews, accept commits)."""
from ninja import Router

from planning.api.auth import require_role
from planning.api.schemas import errors
from planning.api.workflow_schemas import ApprovalOut, ManufacturingApprovalIn, MarkdownApprovalIn
from planning.roles import PLANNER
from planning.services import approvals

router = Router(tags=["approvals"])


@router.post("/approvals/manufacturing", response={200: ApprovalOut, **errors(403, 404, 409)})
def manufacturing(request, payload: ManufacturingApprovalIn):
    """modify: the order recomputed at safety_stock_pct (0.25 on 8,000 -> 10,000), or at an explicit
    manufacturing_qty (0.5x..2x forecast demand), or as a scenario of a saved comparison
    (comparison_id + scenario), not committed; every preview states what the buy is worth.
    accept: commit and resume (a scenario's holdback, replenishment and markdown checkpoint become
    the season's; it is recorded in the approval). 409 when the workflow is not waiting for this
    approval; a repeated identical accept by the same planner returns the committed result with
    replayed=true."""
    require_role(request, PLANNER)
    return approvals.approve_manufacturing(payload.workflow_id, payload.action, payload.safety_stock_pct,
                                           note=payload.note or "", user=request.auth,
                                           manufacturing_qty=payload.manufacturing_qty,
                                           comparison_id=payload.comparison_id, scenario=payload.scenario)


@router.post("/approvals/markdown", response={200: ApprovalOut, **errors(403, 404, 409)})
def markdown(request, payload: MarkdownApprovalIn):
    """modify: the markdown at another elasticity, or at a scenario of a saved markdown comparison
    (comparison_id + scenario: its depth), not committed. accept: apply it (the scenario is
    recorded in the approval) and re-forecast the remaining weeks with the expected lift."""
    require_role(request, PLANNER)
    return approvals.approve_markdown(payload.workflow_id, payload.action, payload.elasticity_coefficient,
                                      note=payload.note or "", user=request.auth,
                                      comparison_id=payload.comparison_id, scenario=payload.scenario)
