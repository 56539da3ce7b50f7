"""The approval panels' scenario comparison (SPEC §13): GET shows the latest comparison and the
what-if rows (any signed-in user); POST compares the rows typed (planner, rate-limited with the
API's scenarios scope) or adds an empty row, and answers htmx with the partial: the new comparison,
or the problems next to their inputs with everything typed kept. Without htmx it redirects back to
the season page."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from planning.api.throttling import SCENARIOS
from planning.errors import PlanningError
from planning.models import Season
from planning.scenario_forms import ScenarioRows
from planning.selectors.scenarios import comparison_kind
from planning.services import scenarios
from planning.views import scenario_data
from planning.views.access import can_plan, planner_required, rate_limited

TEMPLATE = "planning/partials/scenario_comparison.html"


@login_required
@require_http_methods(["GET", "POST"])
def scenario_comparison(request, season_id):
    if request.method == "POST":
        return compare(request, season_id)
    season = get_object_or_404(Season, pk=season_id)
    context = scenario_data.panel_context(season, can_plan=can_plan(request.user))
    return render(request, TEMPLATE, context, status=409 if "unavailable" in context["sc"] else 200)


@planner_required
@rate_limited(SCENARIOS)
def compare(request, season_id):
    season = get_object_or_404(Season, pk=season_id)
    rows = saved = None
    status = 200
    try:
        rows = ScenarioRows.bound(comparison_kind(season), request.POST)
        if rows.action == "add":
            rows.add_row()
        else:
            saved = scenarios.compare(season.pk, **rows.request(), user=request.user)
    except PlanningError as exc:
        status = exc.status
        if rows is not None:
            rows.take(exc)
        elif not request.htmx:
            messages.error(request, exc.detail)
    if not request.htmx:
        if saved is not None:
            messages.success(request, f"Compared {len(saved.results)} scenarios; recommended: {saved.recommended}.")
        elif rows is not None and rows.errors:
            messages.error(request, "Not compared: " + "; ".join(rows.errors.values()))
        return redirect("season", season_id=season.pk)
    context = scenario_data.panel_context(season, can_plan=True, rows=rows, comparison=saved)
    return render(request, TEMPLATE, context, status=status)
