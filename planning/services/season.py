"""The in-season loop (SPEC §2.3-2.6): weekly actuals -> variance -> automatic re-forecast ->
emergency alert -> replenishment -> markdown checkpoint -> season end, and the season report.

Rules a planner can rely on:
- Week 0 is the initial allocation (stores hold their ``initial_qty``; the holdback is at the DC).
- Weeks are uploaded in order: week N needs week N-1 uploaded and processed (409 otherwise), and
  N must be within the horizon (422). The season needs an accepted manufacturing order (409).
- The same week again is a 409 unless ``overwrite``; only the latest uploaded week can be
  overwritten, and not once a markdown decided at that week was accepted. Overwriting undoes that
  week's effects first (its variance check, its re-forecast, its shipments, which go back to the
  DC, and a markdown still awaiting approval) and then processes the new numbers.
- While a markdown waits for approval the season is paused: later weeks are refused (409).
- Processing a week runs in the upload request (a refit takes a second or two); its effects are
  written step by step and the VarianceCheck last, so a week without a VarianceCheck was not fully
  processed and ``recover_unprocessed_weeks`` processes it again.

Store stock: on hand after week N = initial + shipments of weeks 1..N-1 - sales, floored at 0
each week (a shipment after week k's actuals is on the shelf from week k+1). A store's planned
units are its whole allocation (initial + holdback, as in SPEC's "105 planned, 58 shipped") scaled
by the current baseline season total / the original forecast total, so a re-forecast raises or
lowers what replenishment still sends.
"""
import dataclasses
import logging
import time
from collections import defaultdict
from datetime import timedelta

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone

from agents.orchestration import MARKDOWN, REFORECAST, StepContext
from agents.season_tools import (
    ToolError,
    check_variance,
    plan_replenishment_shipments,
    recommend_markdown,
    season_stock_position,
    stock_alert_message,
)
from mlpipeline import limits, metrics
from mlpipeline.allocation import replenishment_due
from mlpipeline.stock import EMERGENCY_ORDER, OVERSTOCK_REVIEW
from planning import jobs
from planning.errors import Conflict, Invalid, NotFound
from planning.models import (
    Allocation,
    Approval,
    Forecast,
    MarkdownDecision,
    Replenishment,
    StoreAllocation,
    VarianceCheck,
    WeeklyActual,
    Workflow,
)
from planning.services import allocation as plans
from planning.services import events, forecasting
from planning.services import workflow as engine

logger = logging.getLogger(__name__)

Status = Workflow.Status
MARKDOWN_OPTIONS = ["modify", "accept"]
# USD per million tokens (input, output); unknown models show tokens without a cost.
LLM_PRICES = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-4.1-mini": (0.40, 1.60),
              "gpt-4.1": (2.00, 8.00), "gpt-4.1-nano": (0.10, 0.40)}


def _season(season_or_id):
    season = season_or_id
    if not isinstance(season, Workflow):
        season = Workflow.objects.filter(pk=season_or_id).first()
        if season is None:
            raise NotFound(f"Unknown season {season_or_id}.")
    return season.season_root


def _iso(moment):
    """JSON-safe timestamps: results also end up in JSONFields (events, upload summaries)."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _threshold():
    return float(getattr(settings, "VARIANCE_THRESHOLD", 0.20))


def _pct(season, week):
    return min(100, round(100 * week / season.horizon_weeks))


# --- weekly actuals ------------------------------------------------------------------------------


def record_week_actuals(season, week, units_by_store, *, overwrite=False, user=None):
    """Store week ``week``'s units per store for the season and process the week (see module doc).
    Returns the week's result: variance, re-forecast, emergency alert, shipments, markdown."""
    season = _season(season)
    horizon = season.horizon_weeks
    try:
        week = int(week)
    except (TypeError, ValueError):
        raise Invalid(f"week must be a whole number, got {week!r}") from None
    if not 1 <= week <= horizon:
        raise Invalid(f"Week {week} is outside this {horizon}-week season (1..{horizon}).",
                      errors=[{"field": "week", "message": f"expected 1..{horizon}", "got": week}])
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=season.pk)
        allocation = Allocation.objects.filter(season=locked).first()
        if allocation is None or allocation.status != Allocation.Status.ACCEPTED:
            raise Conflict("This season has no accepted manufacturing order yet; accept it before uploading actuals.")
        rows = _validated_rows(allocation, units_by_store)
        exists = WeeklyActual.objects.filter(workflow=locked, week=week).exists()
        if locked.pending_approval == Workflow.PendingApproval.MARKDOWN and not (exists and overwrite):
            raise Conflict("The season is paused for the markdown approval; accept or modify it first.")
        if exists and not overwrite:
            raise Conflict(f"Week {week} is already uploaded; send overwrite=true to replace it.")
        if exists and week != locked.current_week:
            raise Conflict(f"Only the latest uploaded week ({locked.current_week}) can be overwritten.")
        if exists and _still_processing(locked, week):
            raise Conflict(f"Week {week} is still being processed; try again in a moment.")
        if not exists and week != locked.current_week + 1:
            raise Conflict(f"Weeks are uploaded in order: upload week {locked.current_week + 1} next.")
        if not exists and week > 1 and not VarianceCheck.objects.filter(season=locked, week=week - 1).exists():
            raise Conflict(f"Week {week - 1} is still being processed; try again in a moment.")
        if exists:
            if locked.markdowns.filter(week=week, status=MarkdownDecision.Status.ACCEPTED).exists():
                raise Conflict(f"A markdown decided at week {week} was accepted; the week can no longer be replaced.")
            _undo_week(locked, week)
            WeeklyActual.objects.filter(workflow=locked, week=week).delete()
        WeeklyActual.objects.bulk_create(
            [WeeklyActual(workflow=locked, week=week, store_id=store_id, units=units) for store_id, units in rows])
        fields = {"current_week": week}
        if locked.phase == Workflow.Phase.SEASON_COMPLETE:
            fields["phase"] = Workflow.Phase.IN_SEASON
        Workflow.objects.filter(pk=locked.pk).update(**fields)
        events.emit(locked.pk, events.AGENT_PROGRESS, agent="demand", progress_pct=_pct(locked, week), week=week,
                    message=(f"Week {week} actuals {'replaced' if exists else 'uploaded'}: "
                             f"{sum(u for _, u in rows):,} units from {len(rows)} stores"
                             + (f" by {user.get_username()}" if user else "")))
    return process_week(season.pk, week)


def _still_processing(season, week):
    """Week ``week`` is stored but not processed yet, and recently enough that a request may still
    be processing it (an older one was cut short: recover_unprocessed_weeks redoes it, and an
    overwrite may replace it). Replacing a week mid-processing would process it twice at once."""
    if VarianceCheck.objects.filter(season=season, week=week).exists():
        return False
    recent = timezone.now() - timedelta(seconds=engine.stale_seconds())
    return WeeklyActual.objects.filter(workflow=season, week=week, created_at__gte=recent).exists()


def _validated_rows(allocation, units_by_store):
    planned = set(allocation.stores.values_list("store_id", flat=True))
    given = {str(k): v for k, v in dict(units_by_store).items()}
    missing = sorted(planned - set(given))
    unknown = sorted(set(given) - planned)
    errors = []
    if missing:
        errors.append({"column": "store_id", "message": f"Missing data for stores: {', '.join(missing)}"})
    if unknown:
        errors.append({"column": "store_id", "message": f"Stores not in this season's plan: {', '.join(unknown)}"})
    rows = []
    for store_id in sorted(given):
        value = given[store_id]
        try:
            units = int(value)
            if units != float(value) or units < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors.append({"column": "units_sold", "store_id": store_id, "expected": "whole number >= 0",
                           "got": value, "message": f"{store_id}: units must be a whole number >= 0"})
            continue
        rows.append((store_id, units))
    if errors:
        raise Invalid(errors[0]["message"], errors=errors)
    return rows


def _undo_week(season, week):
    """Remove what processing ``week`` produced (inside the caller's transaction)."""
    shipped = Replenishment.objects.filter(season=season, week=week).aggregate(q=Sum("quantity"))["q"] or 0
    if shipped:
        Allocation.objects.filter(season=season).update(dc_available=F("dc_available") + shipped)
    Replenishment.objects.filter(season=season, week=week).delete()
    VarianceCheck.objects.filter(season=season, week=week).delete()
    season.markdowns.filter(week=week, status=MarkdownDecision.Status.RECOMMENDED).delete()
    Forecast.objects.filter(season=season, from_week=week + 1).exclude(version=1).delete()
    if season.pending_approval == Workflow.PendingApproval.MARKDOWN:
        outputs = dict(season.step_outputs or {})
        outputs.pop("pending_approval", None)
        Workflow.objects.filter(pk=season.pk).update(status=Status.COMPLETED, pending_approval="",
                                                    step_outputs=outputs)


def weekly_actuals(season, through=None):
    """Category units of weeks 1..through (default: every uploaded week)."""
    through = season.current_week if through is None else through
    totals = dict(WeeklyActual.objects.filter(workflow=season, week__lte=through).values("week")
                  .annotate(units=Sum("units")).values_list("week", "units"))
    return [float(totals.get(n, 0)) for n in range(1, through + 1)]


def baseline_for_week(season, week):
    """The baseline the check of ``week`` compares against: the latest version in force before
    the week was processed (versions made by processing week N start at N+1)."""
    return season.forecasts.filter(from_week__lte=week).order_by("-version").first()


def process_week(season_id, week):
    """Variance check, re-forecast, emergency alert, replenishment and markdown for one week."""
    season = Workflow.objects.select_related("category").get(pk=season_id)
    done = VarianceCheck.objects.filter(season=season, week=week).first()
    if done is not None:
        return _week_result(season, week, done)
    started = time.perf_counter()
    allocation = season.allocation
    horizon = season.horizon_weeks
    pct = _pct(season, week)
    baseline = baseline_for_week(season, week)
    actual = weekly_actuals(season, week)
    forecast_cum = sum(baseline.weekly_units()[:week])
    actual_cum = sum(actual)
    stock = store_stock(season, allocation, week)  # read once: the re-forecast, alert and shipments use it

    events.emit(season.pk, events.AGENT_STARTED, agent="demand", step="variance_check", week=week)
    variance = check_variance(actual_cum, forecast_cum, _threshold())
    events.emit(season.pk, events.AGENT_PROGRESS, agent="demand", progress_pct=pct, week=week,
                message=(f"Week {week}: {actual_cum:,.0f} units sold to date vs {forecast_cum:,.0f} forecast "
                         f"(baseline v{baseline.version}): variance {variance['variance']:.1%} "
                         f"{variance['direction']}, {variance['band']} ({variance['label']})"))
    actions = []
    reforecast = None
    if variance["exceeded"] and week < horizon:
        reason = (f"Automatic re-forecast after week {week}: variance {variance['variance']:.1%} "
                  f"> {variance['threshold']:.0%}")
        ctx = StepContext(step=REFORECAST, parameters=season.parameters,
                          inputs=reforecast_inputs(season, reason=reason, through=week, stock=stock),
                          cache=forecasting.DbFitCache(season.category_id))
        events.emit(season.pk, events.AGENT_COMPLETED, agent="demand", step="variance_check", week=week,
                    duration_seconds=round(time.perf_counter() - started, 3),
                    result={**variance, "action": "re-forecast", "summary": reason})
        outcome = engine.run_agent_step(season, REFORECAST, ctx, progress_range=(pct, pct), extra={"week": week})
        new_version = save_reforecast(season, season, outcome.outputs, reason=reason)
        reforecast = {**outcome.outputs["reforecast"], "forecast_id": new_version.pk, "version": new_version.version,
                      "refit_method": (outcome.outputs.get("refit") or {}).get("method"),
                      "refit_error": outcome.outputs.get("refit_error")}
        actions.append(f"re-forecast v{new_version.version}")
    else:
        why = ("no weeks left to re-forecast" if variance["exceeded"]
               else f"within the {variance['threshold']:.0%} threshold")
        events.emit(season.pk, events.AGENT_COMPLETED, agent="demand", step="variance_check", week=week,
                    duration_seconds=round(time.perf_counter() - started, 3),
                    result={**variance, "action": "none", "summary": f"No re-forecast: {why}."})

    allocation.refresh_from_db()  # the DC before this week's shipments
    position = season_stock_position(reforecast["updated_total"] if reforecast else baseline.total_units,
                                     actual_cum, allocation.dc_available, _on_hand(stock),
                                     variance["signed_variance"])
    alert = None
    if position["alert"]:
        alert = {**position, "variance": variance["variance"], "direction": variance["direction"]}
        events.emit(season.pk, events.AGENT_PROGRESS, agent="inventory", progress_pct=pct, week=week,
                    message=stock_alert_message(position, week, variance["signed_variance"]), alert=alert)
        actions.append("emergency order alert" if position["alert"] == EMERGENCY_ORDER else "over-stock review")

    replenishment = _replenish(season, allocation, week, pct, stock)
    if replenishment and replenishment["shipped_total"]:
        actions.append(f"replenished {replenishment['shipped_total']:,}")

    markdown = _markdown_checkpoint(season, allocation, week, actual_cum, pct)
    if markdown:
        actions.append("markdown recommended" if markdown["status"] == "recommended" else "markdown checked")

    check = VarianceCheck.objects.create(
        season=season, week=week, forecast=baseline, forecast_cum=forecast_cum, actual_cum=int(actual_cum),
        variance=variance["variance"], signed_variance=variance["signed_variance"], band=variance["band"],
        threshold=variance["threshold"], exceeded=variance["exceeded"], emergency=position["alert"] == EMERGENCY_ORDER,
        shortage_units=position["shortage"] if position["alert"] == EMERGENCY_ORDER else None,
        stock_alert=position["alert"] or "",
        units_at_risk=position["at_risk"] if position["alert"] == OVERSTOCK_REVIEW else None,
        action_taken=(", ".join(actions) or "none")[:64],
    )
    Workflow.objects.filter(pk=season.pk, pending_approval="").update(current_agent="")  # idle again
    season.refresh_from_db()
    if week == horizon and season.pending_approval != Workflow.PendingApproval.MARKDOWN:
        complete_season(season)
    return _week_result(season, week, check, reforecast=reforecast, stock_alert=alert,
                        replenishment=replenishment, markdown=markdown)


def _week_result(season, week, check, **details):
    season.refresh_from_db()
    result = {
        "season_id": str(season.pk),
        "week_number": week,
        "units": int(WeeklyActual.objects.filter(workflow=season, week=week).aggregate(u=Sum("units"))["u"] or 0),
        "forecast_id": check.forecast_id,  # the baseline the week was compared with
        "forecasted_cumulative": round(check.forecast_cum, 2),
        "actual_cumulative": check.actual_cum,
        "variance_pct": check.variance,
        "signed_variance": check.signed_variance,
        "band": check.band,
        "threshold": check.threshold,
        "threshold_exceeded": check.exceeded,
        "emergency": check.emergency,
        "shortage_units": check.shortage_units,
        "stock_alert": check.stock_alert or None,
        "units_at_risk": check.units_at_risk,
        "action_taken": check.action_taken,
        "phase": season.phase,
        "status": season.status,
        "pending_approval": season.pending_approval or None,
    }
    for key in ("reforecast", "replenishment", "markdown"):
        result[key] = details.get(key)
    alert = details.get("stock_alert")  # the alert's numbers, under the name of its kind
    result["emergency_order"] = alert if alert and alert["alert"] == EMERGENCY_ORDER else None
    result["overstock_review"] = alert if alert and alert["alert"] == OVERSTOCK_REVIEW else None
    return result


def _on_hand(stock):
    """Units on hand in all stores, from ``store_stock``."""
    return sum(s["on_hand"] for s in stock.values())


def reforecast_inputs(season, *, reason, through=None, stock=None):
    """The REFORECAST step's inputs for the season after ``through`` weeks (default: all uploaded);
    ``stock`` is ``store_stock`` after that week when the caller already read it."""
    through = season.current_week if through is None else through
    baseline = baseline_for_week(season, max(through, 1)) if through else plans.current_forecast(season)
    params = season.parameters
    horizon = season.horizon_weeks
    actual = weekly_actuals(season, through)
    start = baseline.season_start_date
    refit_start = start + timedelta(weeks=through)
    allocation = Allocation.objects.filter(season=season).first()
    return {
        "plan_weekly": baseline.weekly_units(),
        "actual_weekly": actual,
        "refit_history": forecasting.refit_history(season.category_id, start, actual),
        "refit_start": refit_start.isoformat(),
        "weighting": params.get("weighting", "equal"),
        "cache_key": forecasting.forecast_cache_key(season.category, refit_start, horizon - through,
                                                    params.get("weighting", "equal"), actuals=actual),
        "sold_to_date": sum(actual),
        "dc_available": allocation.dc_available if allocation else 0,
        "store_on_hand": (_on_hand(stock if stock is not None else store_stock(season, allocation, through))
                          if allocation and through else 0),
        "reason": reason,
        "baseline_version": baseline.version,
    }


def save_reforecast(season, workflow, outputs, *, reason):
    """The re-forecast becomes the season's new baseline (a new Forecast version)."""
    result = outputs["reforecast"]
    observed = result["weeks_observed"]
    return plans.save_forecast_version(
        season, workflow, kind=Forecast.Kind.REFORECAST, from_week=observed + 1,
        weekly_units=result["baseline_weekly"], reason=reason, fit=outputs.get("refit"), actual_weeks=observed)


# --- replenishment -------------------------------------------------------------------------------


def store_stock(season, allocation, through):
    """On hand per store after week ``through``'s sales (before that week's shipments), and the
    units shipped to each store so far (initial + replenishments of weeks < through)."""
    sold = defaultdict(dict)
    for store_id, week, units in WeeklyActual.objects.filter(workflow=season, week__lte=through).values_list(
            "store_id", "week", "units"):
        sold[store_id][week] = units
    shipped_in = defaultdict(dict)
    for store_id, week, quantity in Replenishment.objects.filter(season=season, week__lt=through).values_list(
            "store_id", "week", "quantity"):
        shipped_in[store_id][week] = quantity
    stock = {}
    for row in allocation.stores.all():
        on_hand, shipped = row.initial_qty, row.initial_qty
        for week in range(1, through + 1):
            on_hand = max(0, on_hand - sold[row.store_id].get(week, 0))
            if week < through:
                arriving = shipped_in[row.store_id].get(week, 0)
                on_hand += arriving
                shipped += arriving
        stock[row.store_id] = {"on_hand": on_hand, "shipped": shipped,
                               "allocated": row.initial_qty + row.holdback_qty}
    return stock


def _replenish(season, allocation, week, pct, stock):
    params = season.parameters
    strategy = params["replenishment_strategy"]
    horizon = season.horizon_weeks
    if not replenishment_due(week, strategy) or week >= horizon:
        return None
    allocation.refresh_from_db()
    if allocation.dc_available <= 0:
        events.emit(season.pk, events.AGENT_PROGRESS, agent="inventory", progress_pct=pct, week=week,
                    message=f"Week {week}: no replenishment, the DC is empty")
        return {"week": week, "shipped_total": 0, "dc_remaining": 0, "shipments": [], "skipped": "dc_empty"}
    started = time.perf_counter()
    events.emit(season.pk, events.AGENT_STARTED, agent="inventory", step="replenishment", week=week)
    original = plans.original_forecast(season)
    current = plans.current_forecast(season)
    scale = current.total_units / original.total_units if original and original.total_units else 1.0
    rows = [{"store_id": store_id, "remaining_planned": s["allocated"] * scale - s["shipped"],
             "on_hand": s["on_hand"]} for store_id, s in stock.items()]
    plan = plan_replenishment_shipments(rows, horizon - week, allocation.dc_available)
    with transaction.atomic():
        Replenishment.objects.bulk_create(
            [Replenishment(season=season, week=week, store_id=s["store_id"], need_units=s["need"],
                           quantity=s["quantity"], partial=s["partial"]) for s in plan["shipments"] + plan["unmet"]])
        if plan["shipped_total"]:
            Allocation.objects.filter(pk=allocation.pk).update(dc_available=F("dc_available") - plan["shipped_total"])
    partial = sum(1 for s in plan["shipments"] if s["partial"]) + len(plan["unmet"])
    message = (f"Week {week}: shipped {plan['shipped_total']:,} units to {len(plan['shipments'])} stores from the DC "
               f"({plan['dc_remaining']:,} left)" + (f"; {partial} store(s) short" if partial else ""))
    events.emit(season.pk, events.AGENT_PROGRESS, agent="inventory", progress_pct=pct, week=week, message=message)
    result = {"week": week, "strategy": strategy, "shipped_total": plan["shipped_total"],
              "stores_shipped": len(plan["shipments"]), "stores_short": partial, "total_need": plan["total_need"],
              "dc_before": plan["dc_available"], "dc_remaining": plan["dc_remaining"],
              "plan_scale": round(scale, 4), "shipments": plan["shipments"]}
    events.emit(season.pk, events.AGENT_COMPLETED, agent="inventory", step="replenishment", week=week,
                duration_seconds=round(time.perf_counter() - started, 3),
                result={k: v for k, v in result.items() if k != "shipments"} | {"summary": (
                    f"Replenishment ({strategy}): each store gets one week of its remaining plan "
                    f"(its allocation x {scale:.2f} for the current baseline, less what it was shipped) minus its "
                    "stock; "
                    + message + ".")})
    return result


# --- markdown ------------------------------------------------------------------------------------


def _markdown_checkpoint(season, allocation, week, units_sold, pct):
    params = season.parameters
    if params.get("markdown_checkpoint_week") != week:
        return None
    existing = season.markdowns.first()
    if existing is not None:
        return markdown_dict(existing)
    ctx = StepContext(step=MARKDOWN, parameters=params, inputs={
        "units_sold": units_sold, "manufacturing_qty": allocation.manufacturing_qty,
        "target": params.get("markdown_threshold") or 0.60, "elasticity": limits.DEFAULT_ELASTICITY,
    })
    outcome = engine.run_agent_step(season, MARKDOWN, ctx, progress_range=(pct, pct), extra={"week": week})
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
        events.emit(season.pk, events.AGENT_PROGRESS, agent="pricing", progress_pct=pct, week=week,
                    message=f"Markdown checkpoint: on track ({md['formula']}); no markdown needed")
        return markdown_dict(decision)
    data = {**markdown_dict(decision), "elasticity_range": list(limits.ELASTICITY_RANGE)}
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=season.pk)
        outputs = dict(locked.step_outputs or {})
        outputs["pending_approval"] = data
        outputs[MARKDOWN] = outcome.outputs
        Workflow.objects.filter(pk=season.pk).update(
            status=Status.AWAITING_APPROVAL, pending_approval=Workflow.PendingApproval.MARKDOWN,
            current_agent="pricing", step_outputs=outputs)
        events.emit(season.pk, events.HUMAN_INPUT_REQUIRED, agent="pricing",
                    action=Workflow.PendingApproval.MARKDOWN.value, data=data, options=MARKDOWN_OPTIONS, week=week)
    return markdown_dict(decision)


def markdown_dict(decision):
    """GET /api/markdowns/{forecast_id}, and the markdown in approvals and the report."""
    if decision is None:
        return None
    return {
        "markdown_id": decision.pk, "season_id": str(decision.season_id), "forecast_id": decision.forecast_id,
        **markdown_view(recommend_markdown(decision.units_sold, decision.manufacturing_qty, decision.target,
                                           decision.elasticity), decision.week),
        "status": decision.status,
        # The stored decision is the record (an accepted one may predate a rule change).
        "sell_through_pct": decision.sell_through, "gap": decision.gap,
        "recommended_markdown_pct": decision.markdown_pct, "expected_lift": decision.expected_lift,
        "decided_by": decision.decided_by.get_username() if decision.decided_by_id else None,
        "decided_at": _iso(decision.decided_at), "created_at": _iso(decision.created_at),
    }


def markdown_view(result, week):
    """A markdown recommendation (recommend_markdown's output) in the API's field names."""
    return {"week_number": week, "units_sold": result["units_sold"], "manufacturing_qty": result["manufacturing_qty"],
            "sell_through_pct": result["sell_through"], "target_sell_through": result["target"], "gap": result["gap"],
            "elasticity_coefficient": result["elasticity"], "recommended_markdown_pct": result["markdown_pct"],
            "expected_lift": result["expected_lift"], "reasoning": result["formula"]}


def approve_markdown(workflow_id, action, elasticity=None, note="", user=None):
    """The markdown approval: ``modify`` previews the markdown at another elasticity (1.0..3.0)
    without committing; ``accept`` applies it (at the given elasticity, default the recommended
    one), records the Approval and resumes the season, which re-forecasts the remaining weeks with
    the expected lift. 409 unless the season waits for this approval. Repeats follow the same rules
    as the manufacturing approval: an identical accept by the same planner after success returns
    the accepted decision (``replayed: true``); any other accept afterwards is a 409."""
    season = Workflow.objects.filter(pk=workflow_id).first()
    if season is None:
        raise NotFound(f"Unknown workflow {workflow_id}.")
    if season.type != Workflow.Type.FORECAST:
        raise Conflict("Approvals belong to the season (forecast) workflow, not a re-forecast.")
    waiting = (season.status == Status.AWAITING_APPROVAL
               and season.pending_approval == Workflow.PendingApproval.MARKDOWN)
    decision = season.markdowns.first()
    if action not in ("modify", "accept"):
        raise Invalid("action must be modify or accept", errors=[{"field": "action", "message": "modify or accept"}])
    if action == "modify":
        if not waiting:
            raise Conflict(f"The season is {season.status}, not waiting for a markdown approval.")
        if elasticity is None:
            raise Invalid("elasticity_coefficient is required to modify the markdown.",
                          errors=[{"field": "elasticity_coefficient", "message": "required for modify"}])
        preview = _recompute(decision, elasticity)
        Approval.objects.create(workflow=season, kind=Approval.Kind.MARKDOWN, action=Approval.Action.MODIFY,
                                values=_markdown_values(preview, decision.week), note=note or "", user=user)
        events.emit(season.pk, events.AGENT_PROGRESS, agent="pricing", progress_pct=season.progress_pct,
                    message=(f"Preview: elasticity {preview['elasticity']} -> markdown {preview['markdown_pct']:.0%}, "
                             f"expected lift {preview['expected_lift']:.1%}; not committed"))
        return {"workflow_id": str(season.pk), "action": "modify", "committed": False, "replayed": False,
                "status": season.status, "markdown": markdown_view(preview, decision.week)}
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=season.pk)
        decision = locked.markdowns.select_for_update().first()
        if decision is not None and decision.status == MarkdownDecision.Status.ACCEPTED:
            last = locked.approvals.filter(kind=Approval.Kind.MARKDOWN, action=Approval.Action.ACCEPT).last()
            same = elasticity is None or round(float(elasticity), 4) == round(decision.elasticity, 4)
            if last is not None and user is not None and last.user_id == user.pk and same:
                return {"workflow_id": str(locked.pk), "action": "accept", "committed": True, "replayed": True,
                        "status": locked.status, "markdown": markdown_dict(decision)}
            raise Conflict("The markdown was already decided"
                           + (f" by {last.user.get_username()}" if last is not None and last.user_id else "") + ".")
        if not (locked.status == Status.AWAITING_APPROVAL
                and locked.pending_approval == Workflow.PendingApproval.MARKDOWN) or decision is None:
            raise Conflict(f"The season is {locked.status}, not waiting for a markdown approval.")
        final = _recompute(decision, decision.elasticity if elasticity is None else elasticity)
        now = timezone.now()
        claimed = Workflow.objects.filter(
            pk=locked.pk, status=Status.AWAITING_APPROVAL, pending_approval=Workflow.PendingApproval.MARKDOWN,
        ).update(status=Status.PENDING, pending_approval="", step=engine.APPLY_MARKDOWN, heartbeat_at=now)
        if not claimed:
            raise Conflict("The markdown was accepted by another request.")
        for name in ("elasticity", "markdown_pct", "expected_lift", "gap", "sell_through"):
            setattr(decision, name, final[name])
        decision.status = MarkdownDecision.Status.ACCEPTED
        decision.decided_by = user
        decision.decided_at = now
        decision.save()
        Approval.objects.create(workflow=locked, kind=Approval.Kind.MARKDOWN, action=Approval.Action.ACCEPT,
                                values=_markdown_values(final, decision.week), note=note or "", user=user)
        outputs = dict(locked.step_outputs or {})
        outputs.pop("pending_approval", None)
        Workflow.objects.filter(pk=locked.pk).update(step_outputs=outputs)
        events.emit(locked.pk, events.AGENT_PROGRESS, agent="pricing", progress_pct=locked.progress_pct,
                    message=(f"Markdown accepted by {user.get_username() if user else 'system'}: "
                             f"{final['markdown_pct']:.0%} off from week {decision.week + 1}, "
                             f"expected lift {final['expected_lift']:.1%}"))
        body = {"workflow_id": str(locked.pk), "action": "accept", "committed": True, "replayed": False,
                "status": Status.PENDING, "markdown": markdown_dict(decision)}
    jobs.submit("workflow.run", str(season.pk))
    return body


def _recompute(decision, elasticity):
    try:
        result = recommend_markdown(decision.units_sold, decision.manufacturing_qty, decision.target, elasticity)
    except ToolError as exc:
        raise Invalid(str(exc), errors=[{"field": "elasticity_coefficient", "message": str(exc)}]) from exc
    return {**result, "week": decision.week}


def _markdown_values(result, week):
    """What an approval records of a markdown (the API's names, without the reasoning text)."""
    view = markdown_view(result, week)
    view.pop("reasoning")
    return view


def apply_markdown_step(workflow):
    """Resume after an accepted markdown: re-forecast the remaining weeks with the expected lift
    (new Forecast version of kind markdown), then back to completed (or season_complete)."""
    season = workflow.season_root
    decision = season.markdowns.get()
    started = time.perf_counter()
    pct = _pct(season, decision.week)
    events.emit(season.pk, events.AGENT_STARTED, agent="pricing", step="apply_markdown", week=decision.week)
    baseline = baseline_for_week(season, decision.week + 1)
    units = baseline.weekly_units()
    lift = decision.expected_lift
    updated = units[: decision.week] + [u * (1 + lift) for u in units[decision.week:]]
    reason = (f"Markdown {decision.markdown_pct:.0%} accepted at week {decision.week}: weeks "
              f"{decision.week + 1}..{len(units)} x {1 + lift:.3f} (expected lift)")
    version = plans.save_forecast_version(season, season, kind=Forecast.Kind.MARKDOWN, from_week=decision.week + 1,
                                          weekly_units=updated, reason=reason, actual_weeks=decision.week)
    added = sum(updated) - sum(units)
    events.emit(season.pk, events.AGENT_COMPLETED, agent="pricing", step="apply_markdown", week=decision.week,
                duration_seconds=round(time.perf_counter() - started, 3),
                result={"summary": reason + f": {added:+,.0f} units, season total {sum(updated):,.0f}.",
                        "forecast_id": version.pk, "version": version.version, "markdown_pct": decision.markdown_pct,
                        "expected_lift": lift, "updated_total": round(sum(updated), 2)})
    stored = dict(season.step_outputs or {})
    stored["apply_markdown"] = {"forecast_id": version.pk, "version": version.version}
    Workflow.objects.filter(pk=season.pk).update(status=Status.COMPLETED, step=engine.DONE, current_agent="",
                                                step_outputs=stored, progress_pct=pct, heartbeat_at=timezone.now())
    season.refresh_from_db()
    if season.current_week >= season.horizon_weeks:
        complete_season(season)


def complete_season(season):
    """After the last week: phase season_complete and a workflow_complete event with the headline."""
    Workflow.objects.filter(pk=season.pk).update(phase=Workflow.Phase.SEASON_COMPLETE, progress_pct=100,
                                                current_agent="")
    season.refresh_from_db()
    report = season_report(season)
    duration = (timezone.now() - (season.started_at or season.created_at)).total_seconds()
    events.emit(season.pk, events.WORKFLOW_COMPLETE, duration_seconds=round(duration, 3), result={
        "phase": Workflow.Phase.SEASON_COMPLETE.value,
        "units_sold": report["units_sold"], "sell_through": report["sell_through"],
        "leftover_units": report["leftover_units"], "accuracy": report["accuracy"],
        "reforecasts": len(report["reforecasts"]), "markdown_pct": report["markdown"]["markdown_pct"],
    })


# --- recovery ------------------------------------------------------------------------------------


def recover_unprocessed_weeks():
    """Process again the latest week of seasons whose processing was cut short (no VarianceCheck),
    once its upload is older than the stale threshold (so a live upload is never processed twice)."""
    threshold = timezone.now() - timedelta(seconds=engine.stale_seconds())
    done = []
    processed = VarianceCheck.objects.filter(season=OuterRef("pk"), week=OuterRef("current_week"))
    seasons = (Workflow.objects.filter(type=Workflow.Type.FORECAST, current_week__gt=0)
               .exclude(pending_approval=Workflow.PendingApproval.MARKDOWN)
               .exclude(Exists(processed)))
    for season in seasons:
        week = season.current_week
        if WeeklyActual.objects.filter(workflow=season, week=week, created_at__gte=threshold).exists():
            continue
        with transaction.atomic():
            locked = Workflow.objects.select_for_update().get(pk=season.pk)
            _undo_week(locked, week)
        process_week(season.pk, week)
        done.append({"workflow_id": str(season.pk), "action": "week_reprocessed", "week": week})
    return done


# --- report --------------------------------------------------------------------------------------


def season_report(season):
    """The season report (SPEC §9.4): accuracy against the ORIGINAL forecast (overall, by week, by
    cluster), sell-through, stockouts, leftover, markdown impact, re-forecasts, replenishment,
    approvals, runtime and LLM tokens/cost. Works mid-season on the weeks uploaded so far."""
    season = _season(season)
    allocation = Allocation.objects.filter(season=season).first()
    original = plans.original_forecast(season)
    if allocation is None or original is None:
        raise Conflict("The season has no plan yet.")
    weeks = season.current_week
    actual = weekly_actuals(season, weeks)
    planned = original.weekly_units()[:weeks]
    store_weeks = _store_weeks(season, allocation, original, weeks)
    decision = season.markdowns.first()
    applied = decision is not None and decision.status == MarkdownDecision.Status.ACCEPTED and decision.markdown_pct > 0
    after_markdown = sum(actual[decision.week:]) if applied else 0.0
    checks = list(season.variance_checks.select_related("forecast"))
    report = metrics.season_report(
        actual, planned, allocation.manufacturing_qty, store_weeks=store_weeks if weeks else None,
        markdown_pct=decision.markdown_pct if applied else 0.0, marked_down_units=after_markdown,
        trigger_checks=[metrics.TriggerCheck(week=c.week, triggered=c.exceeded,
                                             baseline_season_total=c.forecast.total_units) for c in checks],
        threshold=_threshold(),
    )
    body = dataclasses.asdict(report)
    if body.get("stockouts"):
        body["stockouts"]["store_weeks"] = [list(pair) for pair in body["stockouts"]["store_weeks"]]
    related = [season, *season.reforecasts.all()]
    usage = _usage_totals(related)
    body.update({
        "season_id": str(season.pk),
        "category_id": season.category_id,
        "phase": season.phase,
        "weeks_reported": weeks,
        "horizon_weeks": season.horizon_weeks,
        "original_forecast_total": original.total_units,
        "original_forecast_to_date": round(sum(planned), 2),
        "current_forecast_total": plans.current_forecast(season).total_units,
        "markdown": {
            "decision": markdown_dict(decision),
            "markdown_pct": decision.markdown_pct if applied else 0.0,
            "expected_lift": decision.expected_lift if applied else 0.0,
            "units_after_markdown": after_markdown,
            "avg_weekly_before": round(sum(actual[: decision.week]) / decision.week, 2) if decision and decision.week else None,
            "avg_weekly_after": (round(after_markdown / (weeks - decision.week), 2)
                                 if applied and weeks > decision.week else None),
            "cost": report.markdown_cost,
        },
        "reforecasts": [
            {"forecast_id": f.pk, "version": f.version, "kind": f.kind, "from_week": f.from_week,
             "total_season_demand": f.total_units, "reason": f.reason, "created_at": _iso(f.created_at)}
            for f in season.forecasts.exclude(version=1).order_by("version")
        ],
        "variance": [
            {"week_number": c.week, "variance_pct": c.variance, "signed_variance": c.signed_variance,
             "band": c.band, "threshold_exceeded": c.exceeded, "emergency": c.emergency,
             "shortage_units": c.shortage_units,
             "stock_alert": c.stock_alert or None, "units_at_risk": c.units_at_risk,
             "action_taken": c.action_taken, "baseline_version": c.forecast.version}
            for c in checks
        ],
        "replenishment": {
            "shipped_total": int(season.replenishments.aggregate(q=Sum("quantity"))["q"] or 0),
            "shipments": season.replenishments.filter(quantity__gt=0).count(),
            "partial": season.replenishments.filter(partial=True).count(),
            "dc_remaining": allocation.dc_available,
        },
        "approvals": [
            {"kind": a.kind, "action": a.action, "values": a.values, "note": a.note,
             "user": a.user.get_username() if a.user_id else None, "at": _iso(a.created_at)}
            for a in Approval.objects.filter(workflow=season).select_related("user")
        ],
        "runtime": {
            "pre_season_agent_seconds": engine._agent_seconds(season),
            "pre_season_wall_seconds": (round((season.completed_at - season.started_at).total_seconds(), 3)
                                        if season.completed_at and season.started_at else None),
            "runner": season.runner,
        },
        "llm": usage,
    })
    return body


def _store_weeks(season, allocation, original, weeks):
    """Store-week rows (store_id, cluster, week, units_sold, demand = planned units of the week in
    the original plan, on_hand = closing stock) for stockouts and accuracy by cluster."""
    if not weeks:
        return pd.DataFrame(columns=["store_id", "cluster", "week", "units_sold", "demand", "on_hand"])
    weekly_plan = original.weekly_units()
    sold = defaultdict(dict)
    for store_id, week, units in WeeklyActual.objects.filter(workflow=season).values_list("store_id", "week", "units"):
        sold[store_id][week] = units
    shipments = defaultdict(dict)
    for store_id, week, quantity in season.replenishments.values_list("store_id", "week", "quantity"):
        shipments[store_id][week] = quantity
    rows = []
    for row in StoreAllocation.objects.filter(allocation=allocation):
        cluster = row.cluster_id or "unclustered"
        share = row.planned_units / allocation.demand_units if allocation.demand_units else 0.0
        on_hand = row.initial_qty
        for week in range(1, weeks + 1):
            units = sold[row.store_id].get(week, 0)
            on_hand = max(0, on_hand - units)
            rows.append({"store_id": row.store_id, "cluster": cluster, "week": week, "units_sold": units,
                         "demand": share * weekly_plan[week - 1], "on_hand": on_hand})
            on_hand += shipments[row.store_id].get(week, 0)
    return pd.DataFrame(rows)


def _usage_totals(workflows):
    totals = {"requests": 0, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    per_workflow = []
    for wf in workflows:
        usage = wf.token_usage or {}
        for key in totals:
            totals[key] += int(usage.get(key) or 0)
        if usage:
            per_workflow.append({"workflow_id": str(wf.pk), **{k: usage.get(k, 0) for k in totals}})
    model = getattr(settings, "OPENAI_MODEL", "gpt-4o-mini")
    price = LLM_PRICES.get(model)
    cost = (round((totals["input_tokens"] * price[0] + totals["output_tokens"] * price[1]) / 1_000_000, 6)
            if price else None)
    return {**totals, "model": model, "cost_usd": cost, "by_workflow": per_workflow}
