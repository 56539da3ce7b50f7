"""POST /api/parameters/extract: free text -> SeasonParameters (SPEC §3)."""
from django.utils import timezone
from ninja import Router

from agents.parameters import ParameterError
from planning.api.auth import require_role
from planning.api.extraction_schemas import ExtractOut
from planning.api.schemas import errors
from planning.api.throttling import EXTRACTION
from planning.api.workflow_schemas import ExtractIn
from planning.errors import Invalid
from planning.roles import PLANNER
from planning.services import extraction as extractions

router = Router(tags=["parameters"])


@router.post("/parameters/extract", response={200: ExtractOut, **errors(403)}, throttle=EXTRACTION)
def extract_parameters(request, payload: ExtractIn):
    require_role(request, PLANNER)  # an LLM call costs money: planners only
    reference = payload.reference_date or timezone.localdate()
    try:
        result, extraction = extractions.record_extraction(payload.user_input, reference, request.auth)
    except ParameterError as exc:
        raise Invalid(f"Invalid value for {exc.field}: {exc.message}",
                      errors=[{"field": exc.field, "message": exc.message}]) from None
    return {**result.to_dict(), "extraction_id": extraction.pk, "usage": extraction.token_usage or None}
