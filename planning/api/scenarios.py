"""Scenario comparison endpoints (SPEC §13): compare what-ifs at the approval a season waits for
(planner), read a saved comparison and a season's comparisons (any role)."""
from uuid import UUID

from ninja import Router, Status
from ninja.pagination import paginate

from planning.api.auth import require_role
from planning.api.scenario_schemas import CompareIn, ComparisonOut
from planning.api.schemas import BoundedPagination, DbId, errors
from planning.api.throttling import SCENARIOS
from planning.roles import PLANNER, VIEWER
from planning.selectors import scenarios as scenario_reads
from planning.selectors.seasons import season_of
from planning.services import scenarios

router = Router(tags=["scenarios"])


@router.post("/scenarios/compare", response={201: ComparisonOut, **errors(403, 404, 409)}, throttle=SCENARIOS)
def compare(request, payload: CompareIn):
    """Simulate 1..8 scenarios on the same `paths` seasons and save the comparison. At the
    manufacturing approval each varies the buy (safety_stock_pct or manufacturing_qty) and the plan;
    at the markdown approval the markdown depth for the rest of the season. 409 at any other time."""
    require_role(request, PLANNER)
    saved = scenarios.compare(payload.workflow_id, [s.model_dump(exclude_unset=True) for s in payload.scenarios],
                              paths=payload.paths, seed=payload.seed, user=request.auth)
    return Status(201, scenario_reads.comparison_dict(saved))


@router.get("/scenarios/{comparison_id}", response={200: ComparisonOut, **errors(404)})
def comparison(request, comparison_id: DbId):
    require_role(request, VIEWER)
    return scenario_reads.comparison_dict(scenario_reads.comparison(comparison_id))


@router.get("/workflows/{workflow_id}/scenarios", response={200: list[ComparisonOut], **errors(404)})
@paginate(BoundedPagination)
def season_comparisons(request, workflow_id: UUID):
    """The season's saved comparisons, newest first."""
    require_role(request, VIEWER)
    return scenario_reads.ComparisonDicts(scenario_reads.season_comparisons(season_of(workflow_id)))
