"""Parameter extraction as the server runs it (SPEC §3): free text -> SeasonParameters, recorded
with the LLM tokens it cost.

The extraction endpoint and the new-season page both call :func:`record_extraction`, which
answers with an :class:`~planning.models.Extraction` id. A season started from it names that id
(``extraction_id``) and the engine bills the season the tokens recorded here: a client never
states token usage itself.
"""
import uuid

from django.conf import settings
from django.db import transaction

from agents import extraction as rule_extraction
from agents import llm_extraction
from agents.extraction import ExtractionResult
from planning.errors import Conflict, Invalid, NotFound
from planning.models import Extraction

USAGE_KEYS = ("requests", "input_tokens", "output_tokens", "total_tokens")


def extract_parameters(text, reference_date) -> ExtractionResult:
    """SeasonParameters from free text: the LLM extractor when a key is configured (it falls back
    to the rules by itself, keeping the tokens it spent), else the rules. Raises ParameterError
    naming the field."""
    if settings.OPENAI_API_KEY:
        return llm_extraction.extract(text, reference_date, api_key=settings.OPENAI_API_KEY,
                       base_url=settings.OPENAI_BASE_URL or None, model=settings.OPENAI_MODEL,
                       timeout=settings.OPENAI_TIMEOUT_SECONDS)
    return rule_extraction.extract_parameters(text, reference_date)


def token_usage(result: ExtractionResult) -> dict:
    """The result's LLM usage in the shape workflows record ({} for the rules)."""
    usage = result.usage
    if usage is None:
        return {}
    return {"requests": 1, "input_tokens": int(usage.prompt_tokens), "output_tokens": int(usage.completion_tokens),
            "total_tokens": int(usage.total_tokens)}


def record_extraction(text, reference_date, user=None) -> tuple[ExtractionResult, Extraction]:
    """Extract and record the extraction (with its token usage) for ``user``."""
    result = extract_parameters(text, reference_date)
    extraction = Extraction.objects.create(
        owner=user if getattr(user, "is_authenticated", False) else None, user_input=text,
        reference_date=reference_date, extractor=result.extractor, confidence=result.confidence,
        reasoning=result.reasoning, missing=list(result.missing),
        parameters=result.parameters.model_dump(mode="json"), token_usage=token_usage(result))
    return result, extraction


def extraction_for_season(extraction_id, user=None) -> Extraction:
    """The extraction a new season names: one of ``user``'s (any, without a user), not yet used."""
    try:
        extraction_id = uuid.UUID(str(extraction_id))
    except ValueError:
        raise Invalid("Invalid value for extraction_id: expected the id POST /api/parameters/extract returned",
                      errors=[{"field": "extraction_id", "message": "expected a UUID"}]) from None
    extraction = Extraction.objects.filter(pk=extraction_id).first()
    mine = user is None or extraction is None or extraction.owner_id in (None, getattr(user, "pk", None))
    if extraction is None or not mine:
        raise NotFound(f"Unknown extraction {extraction_id}.")
    if extraction.season_id:
        raise Conflict(f"Extraction {extraction_id} already started season {extraction.season_id}; "
                       "extract again for another season.")
    return extraction


def claim_for_season(extraction: Extraction, season) -> dict:
    """Link the extraction to the season it started (inside the season's creating transaction)
    and return the metadata the season keeps from it; a concurrent claim loses with 409."""
    with transaction.atomic():
        claimed = Extraction.objects.filter(pk=extraction.pk, season__isnull=True).update(season=season)
        if not claimed:
            raise Conflict(f"Extraction {extraction.pk} already started another season; extract again.")
    return {"confidence": extraction.confidence, "reasoning": extraction.reasoning,
            "extractor": extraction.extractor, "user_input": extraction.user_input,
            "missing": list(extraction.missing)}
