"""The season page: live agent cards, the plan (forecast, clusters, allocation), the approvals,
and the in-season panels. Actions call the engine's services and answer htmx with the panel to
swap (plus a ``season-changed`` trigger that reloads the other panels); without htmx they
redirect back to the page."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from planning.api.throttling import UPLOADS
from planning.errors import PlanningError
from planning.forms import ManufacturingDecisionForm, MarkdownDecisionForm, WeeklyActualsForm
from planning.models import Season
from planning.selectors.agent_cards import cards_context
from planning.services import actuals_import, approvals, season_start
from planning.views import season_data
from planning.views.access import can_plan, planner_required, rate_limited


def _season(season_id):
    return get_object_or_404(
        Season.objects.select_related("category", "owner", "current_run"), pk=season_id
    )


@login_required
@require_GET
def season_page(request, season_id):
    season = _season(season_id)
    context = season_data.page_context(season, can_plan=can_plan(request.user), params=request.GET)
    return render(request, "planning/season.html", {**context, "nav": "seasons"})


@login_required
@require_GET
def season_cards(request, season_id):
    """The agent cards, reloaded by the live script when it sees newer events than they show
    (planning.selectors.agent_cards holds the rules)."""
    season = _season(season_id)
    return render(request, "planning/partials/agent_cards.html", {"season": season, **cards_context(season)})


@login_required
@require_GET
def season_panels(request, season_id):
    """The panels below the agent cards, reloaded by htmx whenever the season changes."""
    season = _season(season_id)
    context = season_data.panels_context(season, can_plan=can_plan(request.user), params=request.GET)
    return render(request, "planning/partials/season_panels.html", {**context, "refresh": True})


def _approval(request, season_id, *, form_class, decide, preview_of, template, done_message):
    """Modify (preview, repeatable) or accept an approval. ``decide(season, values)`` calls the
    service with the form's cleaned values; ``preview_of(outcome)`` picks what a modify shows."""
    season = _season(season_id)
    action = preview = error = None
    status = 200
    try:
        values = form_class(request.POST).valid_data()
        action = values["action"]
        outcome = decide(season, values)
    except PlanningError as exc:
        error, status = exc, exc.status
    else:
        if action == "modify":
            preview = preview_of(outcome)
    return _respond(
        request, season, template,
        {"preview": preview, "error": error}, status=status,
        changed=error is None and action == "accept",
        done_message=done_message,
    )


@planner_required
@require_POST
def manufacturing_decision(request, season_id):
    """Modify (preview at a new safety stock or quantity, or a compared scenario; repeatable) or
    accept the manufacturing order."""

    def decide(season, values):
        return approvals.approve_manufacturing(
            season.pk, values["action"], values["safety_stock_pct"], user=request.user,
            manufacturing_qty=values["manufacturing_qty"], comparison_id=values["comparison_id"],
            scenario=values["scenario"] or None)

    return _approval(
        request, season_id, form_class=ManufacturingDecisionForm, decide=decide,
        preview_of=lambda outcome: outcome,
        template="planning/partials/manufacturing_panel.html",
        done_message="Manufacturing order accepted.",
    )


@planner_required
@require_POST
def markdown_decision(request, season_id):
    """Modify (preview at another elasticity or a compared scenario's depth; repeatable) or accept
    the recommended markdown."""

    def decide(season, values):
        return approvals.approve_markdown(season.pk, values["action"], values["elasticity"], user=request.user,
                                          comparison_id=values["comparison_id"], scenario=values["scenario"] or None)

    return _approval(
        request, season_id, form_class=MarkdownDecisionForm, decide=decide,
        preview_of=lambda outcome: outcome["markdown"],
        template="planning/partials/markdown_panel.html",
        done_message="Markdown accepted.",
    )


@planner_required
@require_POST
@rate_limited(UPLOADS)
def upload_actuals(request, season_id):
    """Upload week N's actuals: checked row by row (problems listed inline, nothing saved), then
    the week is processed (variance, re-forecast, replenishment, markdown checkpoint)."""
    season = _season(season_id)
    report = error = None
    status = 200
    try:
        values = WeeklyActualsForm(request.POST, request.FILES).valid_data()
        upload = values["file"]
        report = actuals_import.import_weekly_actuals(
            season, values["week"], upload, overwrite=values["overwrite"],
            user=request.user, filename=upload.name,
        )
    except PlanningError as exc:
        error, status = exc, exc.status
    return _respond(
        request, season, "planning/partials/actuals_panel.html",
        {"error": error}, status=status,
        changed=error is None,
        done_message=f"Week {report['week_number']} recorded." if report else "",
    )


@planner_required
@require_POST
def run_again(request, season_id):
    """Run the season's parameters again as a new season (offered when a run failed)."""
    season = _season(season_id)
    try:
        rerun = season_start.start_forecast(season.category_id, season.parameters, user=request.user)
    except PlanningError as exc:
        messages.error(request, exc.detail)
        return redirect("season", season_id=season.pk)
    return redirect("season", season_id=rerun.pk)


def _respond(request, season, template, extra, *, status, changed, done_message):
    if not request.htmx:
        if status >= 400:
            messages.error(request, extra["error"].detail)
        elif changed:
            messages.success(request, done_message)
        return redirect("season", season_id=season.pk)
    season.refresh_from_db()
    context = {**season_data.panels_context(season, can_plan=True), **extra}
    response = render(request, template, context, status=status)
    if changed:
        response["HX-Trigger"] = "season-changed"
    return response
