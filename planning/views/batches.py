"""The seasons page's "Plan all categories" action (issue #17): a small form with the season's
parameters starts a season of every category (planning.services.batches) and answers with the
batch's progress table, which htmx polls until no season's run is pending or running."""
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from planning.batch_forms import PlanAllForm
from planning.errors import NotFound, PlanningError
from planning.selectors import batches as batch_reads
from planning.services import batches
from planning.views.access import planner_required

REPLENISHMENT_CHOICES = [
    ("weekly", "Weekly"),
    ("bi-weekly", "Every second week (bi-weekly)"),
    ("none", "None: everything ships at week 0"),
]
PLAN_ALL_DEFAULTS = {"forecast_horizon_weeks": 12, "replenishment_strategy": "weekly", "dc_holdback_percentage": 45}
POLL_SECONDS = 2


def plan_all_context(card=None, errors=None):
    """The form's context on the seasons page (percent inputs shown as percentages)."""
    return {"card": card or PLAN_ALL_DEFAULTS, "errors": errors or {}, "missing": [],
            "replenishment_choices": REPLENISHMENT_CHOICES}


@planner_required
@require_POST
def plan_all(request):
    """Start a season of every category; the progress table, or the form with its problems (422)."""
    form = PlanAllForm(request.POST)
    errors = {} if form.is_valid() else form.field_errors()
    if not errors:
        try:
            batch, _ = batches.start_batch(batches.ALL, form.parameters(), user=request.user)
        except PlanningError as exc:
            errors = _errors(exc)
        else:
            return _progress(request, batch)
    card = {name: request.POST.get(name, "") for name in PlanAllForm.INPUTS}
    return render(request, "planning/partials/plan_all.html", plan_all_context(card, errors), status=422)


@login_required
@require_GET
def batch_progress(request, batch_id):
    try:
        batch = batch_reads.get_batch(batch_id)
    except NotFound:
        raise Http404("Unknown batch") from None
    return _progress(request, batch)


def _progress(request, batch):
    return render(request, "planning/partials/batch_progress.html",
                  {"batch": batch_reads.batch_dict(batch), "poll_seconds": POLL_SECONDS})


def _errors(exc):
    """``{input: message}`` from the service's error: a parameter's next to its input, anything else
    (a category that cannot be planned, no stores) above the form, every category named."""
    errors = {}
    for e in exc.errors or [{}]:
        name = str(e.get("field", "")).removeprefix("parameters.")
        if name in PlanAllForm.INPUTS:
            errors[name] = e.get("message", exc.detail)
    details = [f"{e['got']}: {e['message']}" for e in exc.errors or [] if str(e.get("field", "")).startswith("category_ids")]
    if details or not errors:
        errors["card"] = " ".join([exc.detail, *details]) if details else exc.detail
    return errors
