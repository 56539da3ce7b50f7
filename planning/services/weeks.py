"""The in-season loop (SPEC §2.3-2.6): weekly actuals -> variance -> automatic re-forecast ->
stock alert -> replenishment -> markdown checkpoint -> season end.

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
  processed and ``recover_unprocessed_weeks`` (planning.services.recovery) processes it again.

Store stock and replenishment: planning.selectors.seasons.store_stock and
planning.services.replenishment.
"""
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from agents.orchestration import REFORECAST, StepContext
from agents.season_tools import check_variance, season_stock_position, stock_alert_message
from mlpipeline.stock import EMERGENCY_ORDER, OVERSTOCK_REVIEW
from planning.errors import Conflict, Invalid
from planning.models import Allocation, Forecast, MarkdownDecision, Replenishment, VarianceCheck, WeeklyActual, Workflow
from planning.selectors.seasons import (
    baseline_for_week,
    on_hand,
    season_of,
    store_stock,
    variance_threshold,
    weekly_actuals,
)
from planning.services import allocation as plans
from planning.services import events, forecasting, states
from planning.services.markdown import markdown_checkpoint
from planning.services.replenishment import replenish
from planning.services.report import complete_season
from planning.services.runs import run_agent_step, week_progress_pct

Status = Workflow.Status



def record_week_actuals(season, week, units_by_store, *, overwrite=False, user=None):
    """Store week ``week``'s units per store for the season and process the week (see module doc).
    Returns the week's result: variance, re-forecast, emergency alert, shipments, markdown."""
    season = season_of(season)
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
            undo_week(locked, week)
            WeeklyActual.objects.filter(workflow=locked, week=week).delete()
        WeeklyActual.objects.bulk_create(
            [WeeklyActual(workflow=locked, week=week, store_id=store_id, units=units) for store_id, units in rows])
        Workflow.objects.filter(pk=locked.pk).update(current_week=week)
        if locked.phase == Workflow.Phase.SEASON_COMPLETE:
            states.change_phase(locked.pk, Workflow.Phase.IN_SEASON)
        events.emit(locked.pk, events.AGENT_PROGRESS, agent="demand", progress_pct=week_progress_pct(locked, week), week=week,
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
    recent = timezone.now() - timedelta(seconds=settings.WORKFLOW_STALE_SECONDS)
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


def undo_week(season, week):
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
        states.move(season.pk, Status.COMPLETED, source=(Status.AWAITING_APPROVAL,), pending_approval="",
                    step_outputs=outputs)


def process_week(season_id, week):
    """Variance check, re-forecast, emergency alert, replenishment and markdown for one week."""
    season = Workflow.objects.select_related("category").get(pk=season_id)
    done = VarianceCheck.objects.filter(season=season, week=week).first()
    if done is not None:
        return _week_result(season, week, done)
    started = time.perf_counter()
    allocation = season.allocation
    horizon = season.horizon_weeks
    pct = week_progress_pct(season, week)
    baseline = baseline_for_week(season, week)
    actual = weekly_actuals(season, week)
    forecast_cum = sum(baseline.weekly_units()[:week])
    actual_cum = sum(actual)
    stock = store_stock(season, allocation, week)  # read once: the re-forecast, alert and shipments use it

    events.emit(season.pk, events.AGENT_STARTED, agent="demand", step="variance_check", week=week)
    variance = check_variance(actual_cum, forecast_cum, variance_threshold())
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
        outcome = run_agent_step(season, REFORECAST, ctx, progress_range=(pct, pct), extra={"week": week})
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
                                     actual_cum, allocation.dc_available, on_hand(stock),
                                     variance["signed_variance"])
    alert = None
    if position["alert"]:
        alert = {**position, "variance": variance["variance"], "direction": variance["direction"]}
        events.emit(season.pk, events.AGENT_PROGRESS, agent="inventory", progress_pct=pct, week=week,
                    message=stock_alert_message(position, week, variance["signed_variance"]), alert=alert)
        actions.append("emergency order alert" if position["alert"] == EMERGENCY_ORDER else "over-stock review")

    replenishment = replenish(season, allocation, week, pct, stock)
    if replenishment and replenishment["shipped_total"]:
        actions.append(f"replenished {replenishment['shipped_total']:,}")

    markdown = markdown_checkpoint(season, allocation, week, actual_cum, pct)
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
        "store_on_hand": (on_hand(stock if stock is not None else store_stock(season, allocation, through))
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
