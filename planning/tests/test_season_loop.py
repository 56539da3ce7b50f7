"""The in-season loop: weekly actuals, variance, automatic re-forecast, emergency alert,
replenishment, markdown approval, season end and the report."""
import pytest
from django.db.models import Sum

from mlpipeline.allocation import split_by_shares
from planning.errors import Conflict, Invalid
from planning.models import Allocation, Forecast, MarkdownDecision, Replenishment, Run, VarianceCheck, WeeklyActual
from planning.selectors import seasons as season_reads
from planning.selectors.seasons import baseline_for_week
from planning.services import recovery, weeks
from planning.services import report as reports
from planning.services.actuals import record_week_actuals
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import accept_order, start_season, upload_week


def scaled_week(season, week, factor):
    """Units per store for ``week``: the baseline's week x factor, split by the stores' plans."""
    baseline = baseline_for_week(season, week)
    total = round(baseline.weekly_units()[week - 1] * factor)
    shares = {s.store_id: s.planned_units for s in season.allocation.stores.order_by("store_id")}
    return split_by_shares(total, shares)


@pytest.fixture
def make_season(seeded, planner, inline_jobs, fit_memo):
    def make(**params):
        season = start_season(planner, params)
        accept_order(season, planner)
        season.refresh_from_db()
        assert season.status == "completed", season.error
        return season

    return make


# --- the upload rules ---------------------------------------------------------------------------


def test_actuals_need_an_accepted_plan(seeded, planner, inline_jobs, fit_memo):
    season = start_season(planner)
    with pytest.raises(Conflict, match="accepted manufacturing order"):
        upload_week(season, 1, {"S001": 1})


def test_weeks_in_order_within_the_horizon(planned_season):
    units = scaled_week(planned_season, 1, 1.0)
    with pytest.raises(Conflict, match="upload week 1 next"):
        upload_week(planned_season, 2, units)
    with pytest.raises(Invalid, match="outside this 12-week season"):
        upload_week(planned_season, 13, units)
    with pytest.raises(Invalid, match="outside"):
        upload_week(planned_season, 0, units)
    upload_week(planned_season, 1, units)
    planned_season.refresh_from_db()
    assert planned_season.current_week == 1


def test_every_planned_store_must_report(planned_season):
    units = scaled_week(planned_season, 1, 1.0)
    del units["S015"], units["S022"]
    with pytest.raises(Invalid, match="Missing data for stores: S015, S022"):
        upload_week(planned_season, 1, units)
    with pytest.raises(Invalid, match="not in this season's plan"):
        upload_week(planned_season, 1, {**scaled_week(planned_season, 1, 1.0), "S999": 3})
    assert not WeeklyActual.objects.exists()


def test_same_week_again_is_409_unless_overwrite(planned_season):
    upload_week(planned_season, 1, scaled_week(planned_season, 1, 1.0))
    dc_after_week_1 = Allocation.objects.get(season=planned_season).dc_available
    with pytest.raises(Conflict, match="overwrite=true"):
        upload_week(planned_season, 1, scaled_week(planned_season, 1, 1.0))
    result = upload_week(planned_season, 1, scaled_week(planned_season, 1, 0.5), overwrite=True)
    assert result["threshold_exceeded"] is True and result["reforecast"]["version"] == 2
    assert WeeklyActual.objects.filter(season=planned_season, week=1).count() == 50
    assert VarianceCheck.objects.filter(season=planned_season).count() == 1
    # The replaced week's shipments went back to the DC before the new ones were planned.
    shipped = sum(Replenishment.objects.filter(season=planned_season).values_list("quantity", flat=True))
    allocation = Allocation.objects.get(season=planned_season)
    assert allocation.dc_available == allocation.holdback_qty - shipped
    assert allocation.dc_available != dc_after_week_1 or shipped == 0
    upload_week(planned_season, 2, scaled_week(planned_season, 2, 1.0))
    with pytest.raises(Conflict, match="Only the latest uploaded week"):
        upload_week(planned_season, 1, scaled_week(planned_season, 1, 1.0), overwrite=True)


# --- variance and re-forecast ---------------------------------------------------------------------


def test_on_plan_week_is_green_without_reforecast(planned_season):
    result = upload_week(planned_season, 1, scaled_week(planned_season, 1, 1.0))
    assert result["band"] == "green" and result["variance_pct"] < 0.001 and not result["threshold_exceeded"]
    assert result["reforecast"] is None and result["emergency_order"] is None and result["overstock_review"] is None
    assert Forecast.objects.filter(season=planned_season).count() == 1
    check = VarianceCheck.objects.get(season=planned_season, week=1)
    assert check.forecast.version == 1 and check.threshold == 0.20
    events = list(planned_season.events.filter(payload__week=1).values_list("type", "payload__step"))
    assert ("agent_started", "variance_check") in events and ("agent_completed", "variance_check") in events


def test_exceeded_variance_reforecasts_and_sets_the_new_baseline(planned_season):
    result = upload_week(planned_season, 1, scaled_week(planned_season, 1, 0.75))
    assert result["threshold_exceeded"] and result["band"] == "red" and result["signed_variance"] < 0
    assert not result["emergency"] and result["stock_alert"] is None  # 0.25 is not beyond 0.30
    reforecast = result["reforecast"]
    assert reforecast["version"] == 2 and reforecast["refit_method"]
    v2 = Forecast.objects.get(season=planned_season, version=2)
    assert v2.kind == "reforecast" and v2.from_week == 2 and v2.weekly[0]["actual"] is True
    original = Forecast.objects.get(season=planned_season, version=1)
    assert v2.total_units < original.total_units
    assert v2.total_units == pytest.approx(reforecast["updated_total"], abs=1)
    assert "re-forecast v2" in VarianceCheck.objects.get(season=planned_season, week=1).action_taken
    steps = list(planned_season.events.filter(payload__week=1, type="agent_completed").values_list("payload__step",
                                                                                                   flat=True))
    assert steps[:2] == ["variance_check", "reforecast"]
    # Week 2 is checked against the re-forecast, not the original.
    week2 = upload_week(planned_season, 2, scaled_week(planned_season, 2, 1.0))
    assert VarianceCheck.objects.get(season=planned_season, week=2).forecast_id == v2.pk
    assert week2["variance_pct"] < 0.01 and week2["reforecast"] is None


def test_emergency_alert_reports_the_shortage(planned_season):
    """Weeks 1 and 2 at 3x plan: one such week may be an odd one (the re-forecast moves part of
    the way), the second that agrees makes it a lasting rise, and the re-forecast needs more
    than the DC and the stores still hold."""
    upload_week(planned_season, 1, scaled_week(planned_season, 1, 3.0))
    result = upload_week(planned_season, 2, scaled_week(planned_season, 2, 3.0))
    assert result["emergency"] and result["threshold_exceeded"] and result["signed_variance"] > 0.3
    assert result["reforecast"]["level"] > 2  # learnt: most of the way to 3x
    alert = result["emergency_order"]
    allocation = Allocation.objects.get(season=planned_season)
    needed = result["reforecast"]["updated_total"] - result["actual_cumulative"]
    assert alert["needed"] == pytest.approx(needed, abs=1)
    stock = season_reads.store_stock(planned_season, allocation, 2)
    shipped_week1 = Replenishment.objects.filter(season=planned_season, week=1).aggregate(q=Sum("quantity"))["q"]
    dc_before_week2 = allocation.holdback_qty - (shipped_week1 or 0)
    assert alert["dc_available"] == dc_before_week2  # before this week's replenishment
    assert alert["store_on_hand"] == sum(row["on_hand"] for row in stock.values())
    assert alert["stock_held"] == dc_before_week2 + alert["store_on_hand"]
    assert alert["shortage"] == alert["needed"] - alert["stock_held"] > 0
    check = VarianceCheck.objects.get(season=planned_season, week=2)
    assert check.emergency and check.shortage_units == alert["shortage"] and check.stock_alert == "emergency_order"
    event = planned_season.events.get(type="agent_progress", payload__alert__alert="emergency_order").as_message()
    assert event["agent"] == "inventory" and "shortage" in event["message"] and event["week"] == 2
    reforecast = planned_season.events.filter(type="agent_completed", payload__step="reforecast").last().as_message()
    assert f"shortage {alert['shortage']:,}" in reforecast["result"]["summary"]


def test_collapse_raises_an_overstock_review_never_an_order(planned_season):
    """Selling 70% below plan: the season holds far more than it will sell."""
    result = upload_week(planned_season, 1, scaled_week(planned_season, 1, 0.3))
    assert not result["emergency"] and result["emergency_order"] is None and result["shortage_units"] is None
    review = result["overstock_review"]
    assert review["shortage"] == 0 and review["at_risk"] == review["stock_held"] - review["needed"] > 0
    assert "over-stock review" in result["action_taken"]
    assert not planned_season.events.filter(payload__alert__alert="emergency_order").exists()
    reforecast = planned_season.events.get(type="agent_completed", payload__step="reforecast").as_message()
    assert "shortage" not in reforecast["result"]["summary"] and "at risk" in reforecast["result"]["summary"]


# --- replenishment ---------------------------------------------------------------------------------


def test_weekly_replenishment_ships_from_the_dc(make_season):
    planned_season = make_season(dc_holdback_percentage=0.9)  # thin store stock: needs from week 1
    allocation = Allocation.objects.get(season=planned_season)
    result = upload_week(planned_season, 1, scaled_week(planned_season, 1, 1.0))
    shipped = result["replenishment"]["shipped_total"]
    assert shipped > 0 and result["replenishment"]["dc_remaining"] == allocation.holdback_qty - shipped
    allocation.refresh_from_db()
    assert allocation.dc_available == allocation.holdback_qty - shipped
    rows = Replenishment.objects.filter(season=planned_season, week=1)
    assert sum(r.quantity for r in rows) == shipped and all(r.quantity <= r.need_units for r in rows)
    # Each store: need = ceil(remaining planned / remaining weeks - on hand).
    stock = season_reads.store_stock(planned_season, allocation, 1)
    row = rows.filter(quantity__gt=0).first()
    s = stock[row.store_id]
    import math

    assert row.need_units == math.ceil((s["allocated"] - s["shipped"]) / 11 - s["on_hand"])


def test_bi_weekly_replenishes_on_even_weeks_only(make_season):
    season = make_season(replenishment_strategy="bi-weekly", dc_holdback_percentage=0.9)
    first = upload_week(season, 1, scaled_week(season, 1, 1.0))
    second = upload_week(season, 2, scaled_week(season, 2, 1.0))
    assert first["replenishment"] is None and second["replenishment"]["shipped_total"] > 0
    assert set(Replenishment.objects.filter(season=season).values_list("week", flat=True)) == {2}


def test_no_replenishment_strategy_never_ships(make_season):
    season = make_season(replenishment_strategy="none", dc_holdback_percentage=0.0)
    allocation = Allocation.objects.get(season=season)
    assert allocation.safety_stock_pct == 0.25 and allocation.holdback_qty == 0
    for week in (1, 2):
        assert upload_week(season, week, scaled_week(season, week, 1.0))["replenishment"] is None
    assert not Replenishment.objects.filter(season=season).exists()


def test_empty_dc_ships_nothing(planned_season):
    Allocation.objects.filter(season=planned_season).update(dc_available=0)
    result = upload_week(planned_season, 1, scaled_week(planned_season, 1, 1.0))
    assert result["replenishment"]["shipped_total"] == 0 and result["replenishment"]["skipped"] == "dc_empty"


# --- markdown ------------------------------------------------------------------------------------


def test_markdown_checkpoint_pauses_then_accept_applies_the_lift(make_season, planner_api, planner):
    season = make_season(markdown_checkpoint_week=2)
    upload_week(season, 1, scaled_week(season, 1, 0.5))
    result = upload_week(season, 2, scaled_week(season, 2, 0.5))
    decision = MarkdownDecision.objects.get(season=season)
    assert result["markdown"]["status"] == "recommended" and decision.week == 2
    assert decision.markdown_pct == 0.40 and decision.expected_lift == pytest.approx(0.60)  # far behind: cap
    season.refresh_from_db()
    assert season.status == "awaiting_approval" and season.pending_approval == "approve_markdown"
    human = season.events.get(type="human_input_required", payload__action="approve_markdown").as_message()
    assert human["agent"] == "pricing" and human["data"]["recommended_markdown_pct"] == 0.40 and "reasoning" in human["data"]
    status = planner_api.get(f"/api/workflows/{season.pk}").json()
    assert status["pending_approval"]["action"] == "approve_markdown"
    with pytest.raises(Conflict, match="paused for the markdown approval"):
        upload_week(season, 3, scaled_week(season, 3, 1.0))

    url = "/api/approvals/markdown"
    assert planner_api.post(url, json={"workflow_id": str(season.pk), "action": "modify",
                                       "elasticity_coefficient": 3.5}).status_code == 422
    preview = planner_api.post(url, json={"workflow_id": str(season.pk), "action": "modify",
                                          "elasticity_coefficient": 1.0}).json()
    assert preview["committed"] is False and preview["markdown"]["elasticity_coefficient"] == 1.0
    decision.refresh_from_db()
    assert decision.status == "recommended" and decision.elasticity == 2.0

    baseline = baseline_for_week(season, 3)
    accepted = planner_api.post(url, json={"workflow_id": str(season.pk), "action": "accept",
                                           "elasticity_coefficient": 1.0}).json()
    assert accepted["committed"] is True and accepted["markdown"]["status"] == "accepted"
    decision.refresh_from_db()
    assert decision.decided_by == planner and decision.elasticity == 1.0
    lift = decision.expected_lift
    newest = season.forecasts.order_by("-version").first()
    assert newest.kind == "markdown" and newest.from_week == 3
    assert newest.weekly_units()[2] == pytest.approx(baseline.weekly_units()[2] * (1 + lift), abs=0.01)
    assert newest.weekly_units()[:2] == baseline.weekly_units()[:2]
    season.refresh_from_db()
    assert season.status == "completed" and season.pending_approval == ""
    repeat = planner_api.post(url, json={"workflow_id": str(season.pk), "action": "accept",
                                         "elasticity_coefficient": 1.0}).json()
    assert repeat["replayed"] is True
    assert planner_api.post(url, json={"workflow_id": str(season.pk), "action": "modify",
                                       "elasticity_coefficient": 2.0}).status_code == 409
    # The season goes on against the markdown baseline.
    upload_week(season, 3, scaled_week(season, 3, 1.0))
    assert VarianceCheck.objects.get(season=season, week=3).forecast_id == newest.pk


def test_markdown_on_track_needs_no_approval(make_season):
    season = make_season(markdown_checkpoint_week=1, markdown_threshold=0.01)
    result = upload_week(season, 1, scaled_week(season, 1, 1.0))
    assert result["markdown"]["recommended_markdown_pct"] == 0 and result["markdown"]["status"] == "accepted"
    season.refresh_from_db()
    assert season.status == "completed" and not season.pending_approval


def test_markdown_approval_in_wrong_state_is_409(planned_season, planner_api):
    response = planner_api.post("/api/approvals/markdown", json={"workflow_id": str(planned_season.pk),
                                                                  "action": "accept"})
    assert response.status_code == 409


# --- season end and report -------------------------------------------------------------------------


def test_season_completes_after_the_last_week_with_a_report(make_season):
    season = make_season(forecast_horizon_weeks=3, markdown_checkpoint_week=None, markdown_threshold=None)
    factors = [1.1, 0.9, 1.0]
    for week, factor in enumerate(factors, start=1):
        result = upload_week(season, week, scaled_week(season, week, factor))
    assert result["phase"] == "season_complete"
    season.refresh_from_db()
    assert season.phase == "season_complete" and season.current_week == 3
    done = season.events.filter(type="workflow_complete").order_by("seq").last().payload
    assert done["result"]["phase"] == "season_complete"
    report = reports.season_report(season)
    assert report["weeks_reported"] == 3 and len(report["weeks"]) == 3
    assert report["accuracy"]["wape"] == pytest.approx(0.2 / 3, abs=0.01)
    assert report["manufactured"] == season.allocation.manufacturing_qty
    assert report["leftover_units"] == report["manufactured"] - round(report["units_sold"])
    assert set(report["by_cluster"]) == {"fashion_forward", "mainstream", "value_conscious"}
    assert report["stockouts"]["count"] >= 0 and report["trigger_accuracy"]["checks"] == 3
    assert report["approvals"][0]["kind"] == "manufacturing" and report["llm"]["total_tokens"] == 0
    assert report["runtime"]["pre_season_agent_seconds"] > 0
    import json

    json.dumps(report)  # JSON-safe (it is stored and exported)


def test_recover_reprocesses_an_interrupted_week(planned_season, monkeypatch):
    """The job processing week 1 dies after the re-forecast and before the shipments: recovery
    resumes the week's run, which processes the week again from its start, once."""
    from datetime import timedelta

    from django.utils import timezone

    def crash(*args, **kwargs):
        raise RuntimeError("process killed")

    with monkeypatch.context() as patch:
        patch.setattr(weeks, "replenish", crash)
        run = record_week_actuals(planned_season, 1, scaled_week(planned_season, 1, 2.0), background=False)
    run.refresh_from_db()
    assert run.status == "failed" and not VarianceCheck.objects.filter(season=planned_season).exists()
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now() - timedelta(hours=1))
    actions = recovery.recover_interrupted_workflows()
    assert {"workflow_id": str(run.pk), "season_id": str(planned_season.pk), "action": "resumed",
            "step": "process_week", "week": 1} in actions
    run.refresh_from_db()
    assert run.status == "completed" and VarianceCheck.objects.filter(season=planned_season, week=1).exists()
    assert Forecast.objects.filter(season=planned_season, kind="reforecast").count() == 1
    dc = Allocation.objects.get(season=planned_season)
    shipped = sum(Replenishment.objects.filter(season=planned_season).values_list("quantity", flat=True))
    assert dc.dc_available == dc.holdback_qty - shipped


def test_a_failed_week_is_uploaded_again_with_overwrite(planned_season, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("the DC system is down")

    with monkeypatch.context() as patch:
        patch.setattr(weeks, "replenish", crash)
        run = record_week_actuals(planned_season, 1, scaled_week(planned_season, 1, 1.0), background=False)
    run.refresh_from_db()
    assert run.status == "failed"
    with pytest.raises(Conflict, match="Processing week 1 failed .*DC system is down.*overwrite"):
        upload_week(planned_season, 2, scaled_week(planned_season, 2, 1.0))
    result = upload_week(planned_season, 1, scaled_week(planned_season, 1, 1.0), overwrite=True)
    assert result["week_number"] == 1 and upload_week(planned_season, 2, scaled_week(planned_season, 2, 1.0))


def test_an_upload_answers_with_a_queued_run_and_the_job_processes_the_week(planned_season, monkeypatch):
    """The upload stores the actuals and queues the week's run; the week is processed only by the
    job (here: the queued task run afterwards). Running the same task twice processes it once."""
    from planning import jobs, tasks
    from planning.services.weeks import week_result

    queued = []
    monkeypatch.setattr(jobs, "submit", lambda task, *args: queued.append((task, args)))
    run = record_week_actuals(planned_season, 1, scaled_week(planned_season, 1, 1.5))
    assert run.status == "pending" and run.kind == "week" and run.week == 1
    assert queued == [(tasks.run_workflow, (run.pk,))]
    assert WeeklyActual.objects.filter(season=planned_season, week=1).count() == 50
    assert week_result(planned_season, 1) is None  # nothing processed in the request
    planned_season.refresh_from_db()
    assert planned_season.current_run_id == run.pk and planned_season.status == "pending"

    task, args = queued[0]
    task(*args)
    events_after_first = planned_season.events.count()
    assert task(*args) is None  # the claim: a second delivery does nothing
    run.refresh_from_db()
    assert run.status == "completed" and week_result(planned_season, 1)["threshold_exceeded"] is True
    assert VarianceCheck.objects.filter(season=planned_season, week=1).count() == 1
    assert planned_season.events.count() == events_after_first
    assert set(planned_season.events.filter(payload__week=1).values_list("run_id", flat=True)) == {run.pk}


def test_each_week_carries_the_rest_of_the_season_with_its_band(planned_season):
    """Every processed week but the last states what weeks N+1..H should sell, with an 80% band,
    learnt from the season's own weeks on the original plan: a lasting drop pulls it down fast, and
    the band narrows as weeks come in."""
    original = Forecast.objects.get(season=planned_season, version=1)
    shares = {s.store_id: s.planned_units for s in planned_season.allocation.stores.order_by("store_id")}
    rests = []
    for week in range(1, 5):  # half the ORIGINAL plan each week (scaled_week follows the re-forecasts)
        units = split_by_shares(round(original.weekly_units()[week - 1] * 0.5), shares)
        rests.append(upload_week(planned_season, week, units)["rest_of_season"])
    remaining_plan = sum(original.weekly_units()[4:])
    assert all(r["lower"] < r["expected"] < r["upper"] for r in rests)
    assert 0.4 * remaining_plan < rests[-1]["expected"] < 0.65 * remaining_plan  # the season sells at half the plan
    widths = [(r["upper"] - r["lower"]) / r["expected"] for r in rests]
    assert widths[-1] < widths[0]
    assert VarianceCheck.objects.get(season=planned_season, week=4).expected_remaining == rests[-1]["expected"]
