"""One season week processed (SPEC §2.3-2.6), the week run's one step: variance -> automatic
re-forecast (past the threshold) -> stock alert -> replenishment -> markdown checkpoint, and the
season's end after its last week. The actuals arrive through planning.services.actuals.

Its effects are written step by step and the VarianceCheck last, so a week without a
VarianceCheck was not fully processed: a run resumed by recovery undoes what the interrupted
attempt wrote and processes the week again.

Store stock: planning.selectors.seasons.store_stock; replenishment: planning.services.replenishment.
"""
import time
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Sum

from agents.orchestration import REFORECAST, StepContext
from agents.season_tools import check_variance, rest_of_season, season_stock_position, stock_alert_message
from mlpipeline.stock import EMERGENCY_ORDER, OVERSTOCK_REVIEW
from planning.models import (
    Allocation,
    Forecast,
    Replenishment,
    Run,
    ScenarioComparison,
    Season,
    VarianceCheck,
    WeeklyActual,
)
from planning.selectors.seasons import baseline_for_week, on_hand, store_stock, variance_threshold, weekly_actuals
from planning.services import allocation as plans
from planning.services import events, forecasting, states
from planning.services.markdown import compare_depths, markdown_checkpoint
from planning.services.replenishment import replenish
from planning.services.report import complete_season
from planning.services.runs import add_outputs, run_agent_step, week_progress_pct

Status = Run.Status


def process_week(run):
    """Variance check, re-forecast, stock alert, replenishment and markdown for the run's week.
    Stores the week's result on the run; the run ends (or waits for the markdown approval)."""
    season = Season.objects.select_related("category").get(pk=run.season_id)
    week = run.week
    if not VarianceCheck.objects.filter(season=season, week=week).exists():
        undo_processing(season, week)  # what an interrupted attempt wrote before its VarianceCheck
        _process(run, season, week)
    Run.objects.filter(pk=run.pk, status=Status.RUNNING).update(step=states.DONE, current_agent="")
    season.refresh_from_db()
    if week == season.horizon_weeks and season.pending_approval != Season.PendingApproval.MARKDOWN:
        complete_season(season)


def undo_processing(season, week):
    """Take back what processing ``week`` wrote: its shipments (back to the DC), the baselines it
    made (versions from week + 1), its VarianceCheck and the comparisons made on it; so
    processing it again writes it once."""
    with transaction.atomic():
        shipped = Replenishment.objects.filter(season=season, week=week)
        units = shipped.aggregate(q=Sum("quantity"))["q"] or 0
        if units:
            Allocation.objects.filter(season=season).update(dc_available=F("dc_available") + units)
        shipped.delete()
        Forecast.objects.filter(season=season, from_week=week + 1).exclude(version=1).delete()
        VarianceCheck.objects.filter(season=season, week=week).delete()
        ScenarioComparison.objects.filter(season=season, week=week).delete()


def _process(run, season, week):
    started = time.perf_counter()
    allocation = season.allocation
    horizon = season.horizon_weeks
    pct = week_progress_pct(season, week)
    baseline = baseline_for_week(season, week)
    actual = weekly_actuals(season, week)
    forecast_cum = sum(baseline.weekly_units()[:week])
    actual_cum = sum(actual)
    stock = store_stock(season, allocation, week)  # read once: the re-forecast, alert and shipments use it
    plan = original_plan(season)  # read once: the re-forecast and the rest of the season use it

    events.emit(season.pk, events.AGENT_STARTED, run=run.pk, agent="demand", step="variance_check", week=week)
    variance = check_variance(actual_cum, forecast_cum, variance_threshold())
    events.emit(season.pk, events.AGENT_PROGRESS, run=run.pk, agent="demand", progress_pct=pct, week=week,
                message=(f"Week {week}: {actual_cum:,.0f} units sold to date vs {forecast_cum:,.0f} forecast "
                         f"(baseline v{baseline.version}): variance {variance['variance']:.1%} "
                         f"{variance['direction']}, {variance['band']} ({variance['label']})"))
    actions = []
    reforecast = None
    if variance["exceeded"] and week < horizon:
        reason = (f"Automatic re-forecast after week {week}: variance {variance['variance']:.1%} "
                  f"> {variance['threshold']:.0%}")
        ctx = StepContext(step=REFORECAST, parameters=season.parameters,
                          inputs=reforecast_inputs(season, reason=reason, through=week, stock=stock, plan=plan),
                          cache=forecasting.DbFitCache(season.category_id))
        events.emit(season.pk, events.AGENT_COMPLETED, run=run.pk, agent="demand", step="variance_check", week=week,
                    duration_seconds=round(time.perf_counter() - started, 3),
                    result={**variance, "action": "re-forecast", "summary": reason})
        outcome = run_agent_step(run, REFORECAST, ctx, progress_range=(pct, pct), extra={"week": week})
        new_version = save_reforecast(season, run, outcome.outputs, reason=reason)
        reforecast = {**outcome.outputs["reforecast"], "forecast_id": new_version.pk, "version": new_version.version,
                      "refit_method": (outcome.outputs.get("refit") or {}).get("method"),
                      "refit_error": outcome.outputs.get("refit_error")}
        actions.append(f"re-forecast v{new_version.version}")
    else:
        why = ("no weeks left to re-forecast" if variance["exceeded"]
               else f"within the {variance['threshold']:.0%} threshold")
        events.emit(season.pk, events.AGENT_COMPLETED, run=run.pk, agent="demand", step="variance_check", week=week,
                    duration_seconds=round(time.perf_counter() - started, 3),
                    result={**variance, "action": "none", "summary": f"No re-forecast: {why}."})

    allocation.refresh_from_db()  # the DC before this week's shipments
    position = season_stock_position(reforecast["updated_total"] if reforecast else baseline.total_units,
                                     actual_cum, allocation.dc_available, on_hand(stock),
                                     variance["signed_variance"])
    alert = None
    if position["alert"]:
        alert = {**position, "variance": variance["variance"], "direction": variance["direction"]}
        events.emit(season.pk, events.AGENT_PROGRESS, run=run.pk, agent="inventory", progress_pct=pct, week=week,
                    message=stock_alert_message(position, week, variance["signed_variance"]), alert=alert)
        actions.append("emergency order alert" if position["alert"] == EMERGENCY_ORDER else "over-stock review")

    replenishment = replenish(run, allocation, week, pct, stock)
    if replenishment and replenishment["shipped_total"]:
        actions.append(f"replenished {replenishment['shipped_total']:,}")

    markdown = markdown_checkpoint(run, allocation, week, actual_cum, pct)
    if markdown:
        actions.append("markdown recommended" if markdown["status"] == "recommended" else "markdown checked")

    rest = None
    if reforecast:  # the re-forecast's own band (the same model, with the refit's shape)
        rest = {key: reforecast[f"updated_remaining{suffix}"]
                for key, suffix in (("expected", "_total"), ("lower", "_lower"), ("upper", "_upper"))}
    elif week < horizon:
        rest = expected_rest_of_season(plan, actual)
    VarianceCheck.objects.create(
        season=season, week=week, forecast=baseline, forecast_cum=forecast_cum, actual_cum=int(actual_cum),
        variance=variance["variance"], signed_variance=variance["signed_variance"], band=variance["band"],
        threshold=variance["threshold"], exceeded=variance["exceeded"], emergency=position["alert"] == EMERGENCY_ORDER,
        shortage_units=position["shortage"] if position["alert"] == EMERGENCY_ORDER else None,
        stock_alert=position["alert"] or "",
        units_at_risk=position["at_risk"] if position["alert"] == OVERSTOCK_REVIEW else None,
        action_taken=(", ".join(actions) or "none")[:64],
        expected_remaining=rest["expected"] if rest else None,
        expected_remaining_lower=rest["lower"] if rest else None,
        expected_remaining_upper=rest["upper"] if rest else None,
    )
    if markdown and markdown["status"] == "recommended":
        compare_depths(run, season, pct)  # reads the check's rest-of-season band: after it
    # The week is processed once its check exists: say so after it, so a page that reloads on this
    # event shows the week's result (the steps' own events all came before the check).
    events.emit(season.pk, events.AGENT_PROGRESS, run=run.pk, agent="demand", progress_pct=pct, week=week,
                week_processed=True, message=f"Week {week} processed: {', '.join(actions) or 'no action needed'}")
    add_outputs(run.pk, details={"reforecast": reforecast, "stock_alert": alert, "replenishment": replenishment,
                                 "markdown": markdown})


def original_plan(season):
    """What the in-season model reads beside the actuals (agents.season_tools): the pre-season
    plan with its 80% bounds, and the category's weekly history before the season (its noise)."""
    original = plans.original_forecast(season)
    history = forecasting.history_weekly(season.category_id, original.season_start_date)
    bounded = all("lower" in w and "upper" in w for w in original.weekly)  # else the width is unknown, not 0
    return {
        "original_weekly": original.weekly_units(),
        "original_lower": [float(w["lower"]) for w in original.weekly] if bounded else None,
        "original_upper": [float(w["upper"]) for w in original.weekly] if bounded else None,
        "history": history,
    }


def expected_rest_of_season(plan, actual):
    """The rest of the season after the weeks ``actual``, with its 80% band, learnt from the
    season's own weeks on the original plan (``original_plan``)."""
    return rest_of_season(plan["original_weekly"], actual, plan_lower=plan["original_lower"],
                          plan_upper=plan["original_upper"], history_weekly=plan["history"].tolist())


def week_result(season, week):
    """What processing ``week`` found and did (the week run's result; the API's variance check of
    the week), or None while it is not processed."""
    check = VarianceCheck.objects.filter(season=season, week=week).first()
    if check is None:
        return None
    season.refresh_from_db()
    run = season.runs.filter(kind=Run.Kind.WEEK, week=week).order_by("-created_at").first()
    details = ((run.outputs or {}).get("details") or {}) if run else {}
    result = {
        "season_id": str(season.pk),
        "week_number": week,
        "units": int(WeeklyActual.objects.filter(season=season, week=week).aggregate(u=Sum("units"))["u"] or 0),
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
        "rest_of_season": ({"expected": check.expected_remaining, "lower": check.expected_remaining_lower,
                            "upper": check.expected_remaining_upper}
                           if check.expected_remaining is not None else None),
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


def reforecast_inputs(season, *, reason, through=None, stock=None, plan=None):
    """The REFORECAST step's inputs for the season after ``through`` weeks (default: all uploaded);
    ``stock`` (``store_stock`` after that week) and ``plan`` (``original_plan``) when the caller
    already read them."""
    through = season.current_week if through is None else through
    baseline = baseline_for_week(season, max(through, 1)) if through else plans.current_forecast(season)
    plan = original_plan(season) if plan is None else plan
    params = season.parameters
    horizon = season.horizon_weeks
    actual = weekly_actuals(season, through)
    start = baseline.season_start_date
    refit_start = start + timedelta(weeks=through)
    allocation = Allocation.objects.filter(season=season).first()
    return {
        "plan_weekly": baseline.weekly_units(),
        "original_weekly": plan["original_weekly"],
        "original_lower": plan["original_lower"],
        "original_upper": plan["original_upper"],
        "history_weekly": plan["history"].tolist(),
        "actual_weekly": actual,
        "refit_history": forecasting.refit_history(plan["history"], start, actual),
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


def save_reforecast(season, run, outputs, *, reason):
    """The re-forecast becomes the season's new baseline (a new Forecast version), the remaining
    weeks with their 80% bounds."""
    result = outputs["reforecast"]
    observed = result["weeks_observed"]
    refit = outputs.get("refit")
    return plans.save_forecast_version(
        season, run, kind=Forecast.Kind.REFORECAST, from_week=observed + 1,
        weekly_units=result["baseline_weekly"], reason=reason, fit=refit, actual_weeks=observed,
        method=result["method"] + (" + refit shape" if refit else ""),
        bounds=(result["updated_remaining_weekly_lower"], result["updated_remaining_weekly_upper"]))
