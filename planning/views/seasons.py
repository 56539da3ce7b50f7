"""The seasons list and the new-season flow: free text -> extracted parameters -> confirmation
card (editable, checked on every change) -> Confirm & Run starts the forecast workflow."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agents.parameters import ParameterError
from planning.api.throttling import EXTRACTION
from planning.errors import PlanningError
from planning.forms import ExtractForm, SeasonCardForm, SeasonConfirmForm
from planning.models import Category, Season
from planning.selectors.economics_defaults import card_economics
from planning.services import extraction as extractions
from planning.services import season_start
from planning.views.access import can_plan, planner_required, rate_limited
from planning.views.batches import REPLENISHMENT_CHOICES, plan_all_context

# The confirmation card's inputs show fractions as percentages.
PERCENT_FIELDS = ("dc_holdback_percentage", "markdown_threshold")


@login_required
@require_GET
def seasons(request):
    plans = (
        Season.objects.select_related("category", "owner", "current_run")
        .order_by("-created_at")[:200]
    )
    return render(
        request,
        "planning/seasons.html",
        {"plans": plans, "can_plan": can_plan(request.user), "nav": "seasons", **plan_all_context()},
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
    form = ExtractForm(request.POST)
    if not form.is_valid():
        field, error = form.first_error()
        return _extract_error(request, field, " ".join(error.messages))
    text = form.cleaned_data["user_input"]
    try:
        result, extraction = extractions.record_extraction(text, form.cleaned_data["reference_date"], request.user)
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
    """Re-check the edited card: derived end date, and each field's problem next to it (the
    economics also against the chosen category's default price)."""
    form = SeasonCardForm(request.POST)
    errors = {} if form.is_valid() else form.field_errors()
    if not errors and request.POST.get("category_id"):
        try:
            season_start.check_economics_with_history(request.POST["category_id"], form.card())
        except PlanningError as exc:
            errors = _field_errors(exc, SeasonCardForm.INPUTS)
    return _card(request, form.card(), missing=form.missing_fields(), errors=errors,
                 status=422 if errors else 200, extraction_id=request.POST.get("extraction_id", ""))


@planner_required
@require_POST
def confirm(request):
    """Confirm & Run: start the forecast workflow and go to the season page."""
    form = SeasonConfirmForm(request.POST)
    if form.is_valid():
        try:
            season = season_start.start_forecast(form.cleaned_data["category_id"], form.parameters(),
                                                 user=request.user, extraction_id=form.cleaned_data["extraction_id"])
        except PlanningError as exc:
            errors = _field_errors(exc, SeasonConfirmForm.INPUTS)
        else:
            return redirect("season", season_id=season.pk)
    else:
        errors = form.field_errors()
    card = form.card()
    context = _card_context(card, form.missing_fields(), errors, request.POST.get("category_id", ""),
                            request.POST.get("extraction_id", ""))
    context.update(today=timezone.localdate(), nav="seasons", user_input=card["user_input"])
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
        "economics": card_economics(category_id, card.get("season_start_date"), card),
        "missing": missing,
        "errors": errors,
        "categories": Category.objects.all(),
        "category_id": category_id,
        "extraction_id": extraction_id,
        "replenishment_choices": REPLENISHMENT_CHOICES,
    }


def _field_errors(exc, inputs):
    """``{input: message}`` from a service error (fields come as ``parameters.<name>``); a problem
    with no input of its own on the card, or with none named, goes at the top of the card."""
    errors = {}
    for e in exc.errors or [{}]:
        name = str(e.get("field", "")).removeprefix("parameters.")
        if name in inputs:
            errors[name] = e.get("message", exc.detail)
        else:
            errors.setdefault("card", exc.detail)
    return errors
