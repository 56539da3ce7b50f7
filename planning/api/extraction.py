"""POST /api/parameters/extract: free text -> SeasonParameters (SPEC §3)."""
from django.utils import timezone
from ninja import Router

from agents.parameters import ParameterError
from planning.api.auth import require_role
from planning.api.schemas import errors
from planning.api.throttling import EXTRACTION
from planning.api.workflow_schemas import ExtractIn, ExtractOut
from planning.errors import Invalid
from planning.roles import PLANNER
from planning.services import workflow as engine

router = Router(tags=["parameters"])

# The pages import it from here; the implementation lives with the engine (manage.py uses it too).
extract = engine.extract_parameters


@router.post("/parameters/extract", response={200: ExtractOut, **errors(403)}, throttle=EXTRACTION)
def extract_parameters(request, payload: ExtractIn):
    require_role(request, PLANNER)  # an LLM call costs money: planners only
    reference = payload.reference_date or timezone.localdate()
    try:
        result = engine.extract_parameters(payload.user_input, reference)
    except ParameterError as exc:
        raise Invalid(f"Invalid value for {exc.field}: {exc.message}",
                      errors=[{"field": exc.field, "message": exc.message}]) from None
    body = result.to_dict()
    usage = getattr(result, "usage", None)
    body["usage"] = ({"requests": 1, "input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens,
                      "total_tokens": usage.total_tokens} if usage else None)
    return body
