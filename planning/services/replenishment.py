"""Replenishment from the DC after a week's actuals (SPEC §2.4): each store gets one week of its
remaining plan less its stock, as far as the DC reaches; shipments are on the shelf next week."""
import time

from django.db import transaction
from django.db.models import F

from agents.season_tools import plan_replenishment_shipments
from mlpipeline.allocation import replenishment_due
from planning.models import Allocation, Replenishment
from planning.services import allocation as plans
from planning.services import events


def replenish(run, allocation, week, pct, stock):
    """Week ``week``'s shipments (None when the strategy skips the week); ``stock`` is
    store_stock after the week's sales."""
    season = run.season
    params = season.parameters
    strategy = params["replenishment_strategy"]
    horizon = season.horizon_weeks
    if not replenishment_due(week, strategy) or week >= horizon:
        return None
    allocation.refresh_from_db()
    if allocation.dc_available <= 0:
        events.emit(season.pk, events.AGENT_PROGRESS, run=run.pk, agent="inventory", progress_pct=pct, week=week,
                    message=f"Week {week}: no replenishment, the DC is empty")
        return {"week": week, "shipped_total": 0, "dc_remaining": 0, "shipments": [], "skipped": "dc_empty"}
    started = time.perf_counter()
    events.emit(season.pk, events.AGENT_STARTED, run=run.pk, agent="inventory", step="replenishment", week=week)
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
    events.emit(season.pk, events.AGENT_PROGRESS, run=run.pk, agent="inventory", progress_pct=pct, week=week, message=message)
    result = {"week": week, "strategy": strategy, "shipped_total": plan["shipped_total"],
              "stores_shipped": len(plan["shipments"]), "stores_short": partial, "total_need": plan["total_need"],
              "dc_before": plan["dc_available"], "dc_remaining": plan["dc_remaining"],
              "plan_scale": round(scale, 4), "shipments": plan["shipments"]}
    events.emit(season.pk, events.AGENT_COMPLETED, run=run.pk, agent="inventory", step="replenishment", week=week,
                duration_seconds=round(time.perf_counter() - started, 3),
                result={k: v for k, v in result.items() if k != "shipments"} | {"summary": (
                    f"Replenishment ({strategy}): each store gets one week of its remaining plan "
                    f"(its allocation x {scale:.2f} for the current baseline, less what it was shipped) minus its "
                    "stock; "
                    + message + ".")})
    return result
