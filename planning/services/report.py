"""The season report (SPEC §9.4) and the end of the season."""
import dataclasses
from collections import defaultdict

import pandas as pd
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from mlpipeline import metrics
from planning.errors import Conflict
from planning.models import Allocation, Approval, MarkdownDecision, Run, Season, StoreAllocation, WeeklyActual
from planning.selectors.seasons import iso, markdown_dict, season_of, variance_threshold, weekly_actuals
from planning.services import allocation as plans
from planning.services import events, states
from planning.services.runs import agent_seconds

# USD per million tokens (input, output); unknown models show tokens without a cost.
LLM_PRICES = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-4.1-mini": (0.40, 1.60),
              "gpt-4.1": (2.00, 8.00), "gpt-4.1-nano": (0.10, 0.40)}


def season_report(season):
    """The season report (SPEC §9.4): accuracy against the ORIGINAL forecast (overall, by week, by
    cluster), sell-through, stockouts, leftover, markdown impact, re-forecasts, replenishment,
    approvals, runtime and LLM tokens/cost. Works mid-season on the weeks uploaded so far."""
    season = season_of(season)
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
        threshold=variance_threshold(),
    )
    body = dataclasses.asdict(report)
    if body.get("stockouts"):
        body["stockouts"]["store_weeks"] = [list(pair) for pair in body["stockouts"]["store_weeks"]]
    runs = list(season.runs.order_by("created_at"))
    pre_season = next((run for run in runs if run.kind == Run.Kind.PRE_SEASON), None)
    usage = _usage_totals(runs)
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
             "total_season_demand": f.total_units, "reason": f.reason, "created_at": iso(f.created_at)}
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
             "user": a.user.get_username() if a.user_id else None, "at": iso(a.created_at)}
            for a in Approval.objects.filter(season=season).select_related("user")
        ],
        "runtime": {
            "pre_season_agent_seconds": agent_seconds(pre_season) if pre_season else 0.0,
            "pre_season_wall_seconds": (round((pre_season.completed_at - pre_season.started_at).total_seconds(), 3)
                                        if pre_season and pre_season.completed_at and pre_season.started_at else None),
            "runner": pre_season.runner if pre_season else None,
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
    for store_id, week, units in WeeklyActual.objects.filter(season=season).values_list("store_id", "week", "units"):
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


def _usage_totals(runs):
    """LLM tokens of all the season's runs, in total and per run (with a cost for known models)."""
    totals = {"requests": 0, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    per_run = []
    for run in runs:
        usage = run.token_usage or {}
        for key in totals:
            totals[key] += int(usage.get(key) or 0)
        if usage:
            per_run.append({"workflow_id": str(run.pk), "kind": run.kind, **{k: usage.get(k, 0) for k in totals}})
    model = getattr(settings, "OPENAI_MODEL", "gpt-4o-mini")
    price = LLM_PRICES.get(model)
    cost = (round((totals["input_tokens"] * price[0] + totals["output_tokens"] * price[1]) / 1_000_000, 6)
            if price else None)
    return {**totals, "model": model, "cost_usd": cost, "by_workflow": per_run}


def complete_season(season):
    """After the last week: phase season_complete and a workflow_complete event with the headline."""
    states.change_phase(season.pk, Season.Phase.SEASON_COMPLETE)
    Run.objects.filter(pk=season.current_run_id).update(progress_pct=100)
    season.refresh_from_db()
    report = season_report(season)
    duration = (timezone.now() - season.created_at).total_seconds()
    events.emit(season.pk, events.WORKFLOW_COMPLETE, run=season.current_run_id, duration_seconds=round(duration, 3),
                result={
        "phase": Season.Phase.SEASON_COMPLETE.value,
        "units_sold": report["units_sold"], "sell_through": report["sell_through"],
        "leftover_units": report["leftover_units"], "accuracy": report["accuracy"],
        "reforecasts": len(report["reforecasts"]), "markdown_pct": report["markdown"]["markdown_pct"],
    })
