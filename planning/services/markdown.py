"""The markdown checkpoint (SPEC §2.5): the Pricing agent's recommendation at the checkpoint
week, the season paused for the planner's approval, and the re-forecast with the expected lift
once a markdown is accepted (the approval itself: planning.services.approvals)."""
import time

from django.db import transaction
from django.utils import timezone

from agents.money_tools import simulated_seasons
from agents.orchestration import MARKDOWN, StepContext
from agents.season_tools import ToolError, recommend_markdown
from mlpipeline import limits
from mlpipeline.allocation import LIFT_PER_MARKDOWN, MARKDOWN_TARGET
from planning.errors import Invalid
from planning.models import Forecast, MarkdownDecision, Run, Season
from planning.selectors.economics import season_economics
from planning.selectors.seasons import baseline_for_week, markdown_dict, markdown_view
from planning.services import allocation as plans
from planning.services import events, scenarios, states
from planning.services.report import complete_season
from planning.services.runs import add_outputs, run_agent_step, week_progress_pct

Status = Run.Status

MARKDOWN_OPTIONS = ["modify", "accept"]


def markdown_checkpoint(run, allocation, week, units_sold, pct):
    """At the checkpoint week: the recommendation, recorded; a markdown above 0% pauses the week's
    run for the approval (to resume at apply_markdown), an on-track season is recorded as decided
    (no markdown)."""
    season = run.season
    params = season.parameters
    if params.get("markdown_checkpoint_week") != week:
        return None
    existing = season.markdowns.first()
    if existing is not None:
        return markdown_dict(existing)
    ctx = StepContext(step=MARKDOWN, parameters=params, inputs={
        "units_sold": units_sold, "manufacturing_qty": allocation.manufacturing_qty,
        "target": params.get("markdown_threshold") or MARKDOWN_TARGET, "elasticity": limits.DEFAULT_ELASTICITY,
    })
    outcome = run_agent_step(run, MARKDOWN, ctx, progress_range=(pct, pct), extra={"week": week})
    md = outcome.outputs["markdown"]
    now = timezone.now()
    on_track = md["markdown_pct"] <= 0
    decision = MarkdownDecision.objects.create(
        season=season, forecast=plans.current_forecast(season), week=week, units_sold=md["units_sold"],
        manufacturing_qty=md["manufacturing_qty"], sell_through=md["sell_through"], target=md["target"],
        gap=md["gap"], elasticity=md["elasticity"], markdown_pct=md["markdown_pct"],
        expected_lift=md["expected_lift"],
        status=MarkdownDecision.Status.ACCEPTED if on_track else MarkdownDecision.Status.RECOMMENDED,
        decided_at=now if on_track else None,
    )
    if on_track:
        events.emit(season.pk, events.AGENT_PROGRESS, run=run.pk, agent="pricing", progress_pct=pct, week=week,
                    message=f"Markdown checkpoint: on track ({md['formula']}); no markdown needed")
        return markdown_dict(decision)
    data = {**markdown_dict(decision), "elasticity_range": list(limits.ELASTICITY_RANGE)}
    with transaction.atomic():
        add_outputs(run.pk, **{MARKDOWN: outcome.outputs})
        states.await_approval(run, Season.PendingApproval.MARKDOWN, data, current_agent="pricing",
                              step=states.APPLY_MARKDOWN)
        events.emit(season.pk, events.HUMAN_INPUT_REQUIRED, run=run.pk, agent="pricing",
                    action=Season.PendingApproval.MARKDOWN.value, data=data, options=MARKDOWN_OPTIONS, week=week)
    return markdown_dict(decision)


def recompute(decision, elasticity):
    """The decision's markdown at another elasticity (422 outside the allowed range)."""
    try:
        result = recommend_markdown(decision.units_sold, decision.manufacturing_qty, decision.target, elasticity)
    except ToolError as exc:
        raise Invalid(str(exc), errors=[{"field": "elasticity_coefficient", "message": str(exc)}]) from exc
    return {**result, "week": decision.week}


def compare_depths(run, season, pct):
    """At the markdown approval, what each depth is worth: the recommended one, none, and 5 points
    either side, over simulated rest-of-seasons from the stock after the checkpoint week (a saved
    comparison the panel shows and the planner may accept). Said in money terms as the pricing
    agent's event. Nothing without a price (the event says so)."""
    season.refresh_from_db()
    decision = season.markdowns.first()
    if season.pending_approval != Season.PendingApproval.MARKDOWN or decision is None:
        return None
    week = decision.week
    if season_economics(season) is None or week >= season.horizon_weeks:
        why = "no unit price" if week < season.horizon_weeks else "no weeks left"
        events.emit(season.pk, events.AGENT_PROGRESS, run=run.pk, agent="pricing", progress_pct=pct, week=week,
                    message=f"Markdown depths not compared in money: {why}.")
        return None
    recommended = decision.markdown_pct
    depths = sorted({0.0, recommended, max(0.0, round(recommended - 0.05, 2)),
                     min(limits.MAX_MARKDOWN, round(recommended + 0.05, 2))})
    stores = season.allocation.stores.count()
    paths = max(scenarios.PATHS_RANGE[0], simulated_seasons(stores, len(depths)))
    comparison = scenarios.compare(season.pk, [{"name": _depth_name(d, recommended), "markdown_pct": d}
                                               for d in depths], paths=paths, seed=0)
    rows = "; ".join(f"{r['name']}: margin {r['expected_gross_margin']:,.0f} (P10 {r['gross_margin_p10']:,.0f}, "
                     f"P90 {r['gross_margin_p90']:,.0f}), {r['expected_leftover_units']:,.0f} left over"
                     for r in comparison.results)
    events.emit(season.pk, events.AGENT_PROGRESS, run=run.pk, agent="pricing", progress_pct=pct, week=week,
                comparison_id=comparison.pk,
                message=(f"Markdown in money: {comparison.paths:,} simulated rest-of-seasons from the stock after "
                         f"week {week} (season margin, salvage included). {rows}. Highest expected margin: "
                         f"{comparison.recommended}."))
    add_outputs(run.pk, markdown_comparison={"comparison_id": comparison.pk, "recommended": comparison.recommended})
    return comparison


def _depth_name(depth, recommended):
    return f"{depth:.0%} off" + (" (recommended)" if depth == recommended else "")


def scenario_markdown(decision, scenario):
    """The decision's markdown at a compared scenario's depth (its settings' markdown_pct, from
    the next week), with the §4 lift: the recommendation's shape, its formula naming the scenario."""
    result = recompute(decision, decision.elasticity)
    depth = float(scenario["settings"]["markdown_pct"] or 0.0)
    lift = round(float(LIFT_PER_MARKDOWN) * depth, 6)
    return {**result, "markdown_pct": depth, "expected_lift": lift,
            "formula": (f"scenario {scenario['name']!r} of comparison {scenario['comparison_id']}: {depth:.0%} off, "
                        f"lift 1.5 x {depth:.0%} = {lift:.1%}; simulated expected gross margin "
                        f"{scenario['expected_gross_margin']:,.0f} (P10 {scenario['gross_margin_p10']:,.0f}, "
                        f"P90 {scenario['gross_margin_p90']:,.0f})")}


def approval_values(result, week):
    """What an approval records of a markdown (the API's names, without the reasoning text)."""
    view = markdown_view(result, week)
    view.pop("reasoning")
    return view


def apply_markdown_step(run):
    """Resume after an accepted markdown: re-forecast the remaining weeks with the expected lift
    (new Forecast version of kind markdown); the season ends here if this was its last week."""
    season = run.season
    decision = season.markdowns.get()
    started = time.perf_counter()
    pct = week_progress_pct(season, decision.week)
    events.emit(season.pk, events.AGENT_STARTED, run=run.pk, agent="pricing", step="apply_markdown", week=decision.week)
    baseline = baseline_for_week(season, decision.week + 1)
    units = baseline.weekly_units()
    lift = decision.expected_lift
    updated = units[: decision.week] + [u * (1 + lift) for u in units[decision.week:]]
    reason = (f"Markdown {decision.markdown_pct:.0%} accepted at week {decision.week}: weeks "
              f"{decision.week + 1}..{len(units)} x {1 + lift:.3f} (expected lift)")
    version = plans.save_forecast_version(season, run, kind=Forecast.Kind.MARKDOWN, from_week=decision.week + 1,
                                          weekly_units=updated, reason=reason, method="markdown lift",
                                          actual_weeks=decision.week)
    added = sum(updated) - sum(units)
    events.emit(season.pk, events.AGENT_COMPLETED, run=run.pk, agent="pricing", step="apply_markdown",
                week=decision.week, duration_seconds=round(time.perf_counter() - started, 3),
                result={"summary": reason + f": {added:+,.0f} units, season total {sum(updated):,.0f}.",
                        "forecast_id": version.pk, "version": version.version, "markdown_pct": decision.markdown_pct,
                        "expected_lift": lift, "updated_total": round(sum(updated), 2)})
    add_outputs(run.pk, apply_markdown={"forecast_id": version.pk, "version": version.version})
    Run.objects.filter(pk=run.pk).update(step=states.DONE, current_agent="", progress_pct=pct)
    season.refresh_from_db()
    if season.current_week >= season.horizon_weeks:
        complete_season(season)
