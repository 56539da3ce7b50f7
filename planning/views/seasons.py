"""The seasons list and the new-season flow: free text -> extracted parameters -> confirmation
card (editable, checked on every change) -> Confirm & Run starts the forecast workflow."""
from datetime import date

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agents.parameters import PLANNER_FIELDS, ParameterError
from planning.api.throttling import EXTRACTION
from planning.errors import PlanningError
from planning.models import Category, Workflow
from planning.services import extraction as extractions
from planning.services import season_start
from planning.views.access import can_plan, planner_required, rate_limited

# The confirmation card's inputs show fractions as percentages.
PERCENT_FIELDS = ("dc_holdback_percentage", "markdown_threshold")
CARRIED_FIELDS = ("confidence", "reasoning", "extractor", "user_input")
REPLENISHMENT_CHOICES = [
    ("weekly", "Weekly"),
    ("bi-weekly", "Every second week (bi-weekly)"),
    ("none", "None: everything ships at week 0"),
]


@login_required
@require_GET
def seasons(request):
    plans = (
        Workflow.objects.filter(type=Workflow.Type.FORECAST)
        .select_related("category", "owner")
        .order_by("-created_at")[:200]
    )
    return render(
        request,
        "planning/seasons.html",
        {"plans": plans, "can_plan": can_plan(request.user), "nav": "seasons"},
    )


@planner_required
@require_GET
def new_season(request):
    return render(
        request,
        "planning/new_season.html",
        {"today": timezone.localdate(), "nav": "seasons"},
    )


@planner_required
@require_POST
@rate_limited(EXTRACTION)
def extract(request):
    """Extract -> the confirmation card (or the reason the text could not be read)."""
    text = request.POST.get("user_input", "")
    try:
        reference = date.fromisoformat(request.POST.get("reference_date") or str(timezone.localdate()))
    except ValueError:
        return _extract_error(request, "reference_date", "Use a date like 2025-01-15.")
    try:
        result, extraction = extractions.record_extraction(text, reference, request.user)
    except ParameterError as exc:
        return _extract_error(request, exc.field, exc.message)
    values = result.to_dict()
    card = {
        **values["parameters"],
        "confidence": values["confidence"],
        "reasoning": values["reasoning"],
        "extractor": values["extractor"],
        "user_input": text,
    }
    return _card(request, card, missing=values["missing"], extraction_id=extraction.pk)


@planner_required
@require_POST
def check(request):
    """Re-check the edited card: derived end date, and each field's problem next to it."""
    card, missing, errors = _read_card(request.POST)
    return _card(request, card, missing=missing, errors=errors, status=422 if errors else 200,
                 extraction_id=request.POST.get("extraction_id", ""))


@planner_required
@require_POST
def confirm(request):
    """Confirm & Run: start the forecast workflow and go to the season page."""
    card, missing, errors = _read_card(request.POST)
    category_id = request.POST.get("category_id", "")
    extraction_id = request.POST.get("extraction_id", "")
    if not category_id:
        errors["category_id"] = "Choose the category to plan."
    if not errors:
        try:
            season = season_start.start_forecast(category_id, {**card, "missing": missing}, user=request.user,
                                           extraction_id=extraction_id or None)
        except PlanningError as exc:
            errors = _field_errors(exc)
        else:
            return redirect("season", season_id=season.pk)
    context = _card_context(card, missing, errors, category_id, extraction_id)
    context.update(today=timezone.localdate(), nav="seasons", user_input=card.get("user_input", ""))
    return render(request, "planning/new_season.html", context, status=422)


def _extract_error(request, field, message):
    return render(
        request,
        "planning/partials/extract_error.html",
        {"field": field, "message": message},
        status=422,
    )


def _card(request, card, *, missing, extraction_id, errors=None, status=200):
    context = _card_context(card, missing, errors or {}, request.POST.get("category_id", ""), extraction_id)
    return render(request, "planning/partials/confirmation_card.html", context, status=status)


def _card_context(card, missing, errors, category_id, extraction_id=""):
    shown = dict(card)
    for name in PERCENT_FIELDS:
        value = shown.get(name)
        if value not in (None, "") and not isinstance(value, str):
            shown[name] = f"{float(value) * 100:g}"
    return {
        "card": shown,
        "missing": missing,
        "errors": errors,
        "categories": Category.objects.all(),
        "category_id": category_id,
        "extraction_id": extraction_id,
        "replenishment_choices": REPLENISHMENT_CHOICES,
    }


def _read_card(data):
    """The card's form values as SeasonParameters fields (fractions, ints, None for blanks), the
    fields that fell back to defaults, and ``{field: problem}``; the service checks the ranges and
    derives the end date."""
    card, errors = {}, {}
    for name in PLANNER_FIELDS:
        raw = (data.get(name) or "").strip()
        if raw == "":
            card[name] = None
            continue
        try:
            if name in ("forecast_horizon_weeks", "markdown_checkpoint_week"):
                card[name] = int(raw)
            elif name in PERCENT_FIELDS:
                card[name] = float(raw) / 100
            else:
                card[name] = raw
        except ValueError:
            card[name] = raw
            errors[name] = "Enter a number."
    for name in ("forecast_horizon_weeks", "season_start_date", "replenishment_strategy",
                 "dc_holdback_percentage"):
        if card.get(name) is None and name not in errors:
            errors[name] = "Required."
    for name in CARRIED_FIELDS:
        card[name] = data.get(name, "")
    missing = [name for name in data.getlist("missing") if name in PLANNER_FIELDS]
    if not errors:
        try:
            card["season_end_date"] = season_start.season_parameters(card)["season_end_date"]
        except PlanningError as exc:
            errors = _field_errors(exc)
    return card, missing, errors


def _field_errors(exc):
    """``{field: message}`` from a service error (fields come as ``parameters.<name>``)."""
    if not exc.errors:
        return {"card": exc.detail}
    return {
        str(e.get("field", "")).removeprefix("parameters."): e.get("message", exc.detail)
        for e in exc.errors
    }
