"""The manufacturing approval: modify previews, accept commits, 409/422, idempotent repeat, races."""
import pytest

from mlpipeline.allocation import manufacturing_quantity
from planning.errors import Conflict
from planning.models import Allocation, Approval, Run, Season
from planning.services import approvals
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import PARAMS, bare_season

URL = "/api/approvals/manufacturing"


@pytest.fixture
def awaiting(seeded, planner_api, inline_jobs, fit_memo):
    response = planner_api.post("/api/workflows/forecast", json={"category_id": "womens_dresses", "parameters": PARAMS})
    workflow = Season.objects.get(pk=response.json()["workflow_id"])
    assert workflow.status == "awaiting_approval"
    return workflow


def test_modify_previews_without_committing(awaiting, planner_api):
    before = Allocation.objects.get(season=awaiting)
    demand = Allocation.objects.get(season=awaiting).demand_units  # the forecast in whole units
    response = planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "modify", "safety_stock_pct": 0.25})
    body = response.json()
    assert response.status_code == 200, body
    assert body["committed"] is False and body["status"] == "awaiting_approval"
    assert body["order"]["safety_stock_pct"] == 0.25 and body["order"]["manufacturing_qty"] == manufacturing_quantity(demand, 0.25)
    assert sum(c["initial_allocation"] for c in body["clusters"]) == body["order"]["initial_allocation"]
    after = Allocation.objects.get(season=awaiting)
    assert (after.status, after.safety_stock_pct, after.manufacturing_qty) == ("proposed", 0.20,
                                                                              before.manufacturing_qty)
    awaiting.refresh_from_db()
    assert awaiting.status == "awaiting_approval"
    assert Approval.objects.get(season=awaiting).action == "modify"  # audit trail only
    again = planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "modify", "safety_stock_pct": 0.10})
    assert again.json()["order"]["manufacturing_qty"] == manufacturing_quantity(demand, 0.10)  # repeatable


def test_modify_vector_8000_at_25_percent(awaiting):
    """SPEC vector: modify 0.25 on 8,000 -> 10,000 (a demand step that forecast exactly 8,000)."""
    outputs = dict(awaiting.current_run.outputs)
    outputs["demand"] = {**outputs["demand"], "forecast": {**outputs["demand"]["forecast"], "total": 8000.0,
                                                            "weekly": [{"units": 8000 / 12}] * 12}}
    Run.objects.filter(pk=awaiting.pk).update(outputs=outputs)
    body = approvals.approve_manufacturing(awaiting.pk, "modify", 0.25)
    assert body["order"]["manufacturing_qty"] == 10000
    assert (body["order"]["initial_allocation"], body["order"]["holdback"]) == (5500, 4500)


def test_accept_commits_and_resumes(awaiting, planner_api, planner):
    response = planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "accept",
                                           "safety_stock_pct": 0.25, "note": "Spring is strong"})
    body = response.json()
    assert response.status_code == 200, body
    assert body["committed"] is True and body["replayed"] is False
    allocation = Allocation.objects.get(season=awaiting)
    assert allocation.status == "accepted" and allocation.safety_stock_pct == 0.25
    assert allocation.accepted_by == planner and allocation.accepted_at is not None
    assert allocation.dc_available == allocation.holdback_qty == body["order"]["holdback"]
    assert sum(allocation.stores.values_list("initial_qty", flat=True)) == allocation.initial_qty
    approval = Approval.objects.get(season=awaiting, action="accept")
    assert approval.user == planner and approval.values["safety_stock_pct"] == 0.25
    assert approval.note == "Spring is strong"
    awaiting.refresh_from_db()
    assert awaiting.status == "completed" and awaiting.current_run.outputs["manufacturing_approval"]["safety_stock_pct"] == 0.25


def test_accept_defaults_to_the_proposed_safety_stock(awaiting):
    body = approvals.approve_manufacturing(awaiting.pk, "accept", user=awaiting.owner)
    assert body["order"]["safety_stock_pct"] == 0.20


def test_identical_repeat_accept_replays_the_commit(awaiting, planner_api):
    first = planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "accept", "safety_stock_pct": 0.2})
    second = planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "accept", "safety_stock_pct": 0.2})
    assert second.status_code == 200
    assert second.json()["replayed"] is True and second.json()["committed"] is True
    assert second.json()["order"] == first.json()["order"]
    assert Approval.objects.filter(season=awaiting, action="accept").count() == 1
    assert awaiting.events.filter(payload__message__startswith="Manufacturing order accepted").count() == 1


def test_different_accept_after_commit_is_409(awaiting, planner_api, django_user_model):
    planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "accept"})
    changed = planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "accept", "safety_stock_pct": 0.3})
    assert changed.status_code == 409 and "already accepted by planner1" in changed.json()["detail"]
    from planning.roles import add_to_role

    other = django_user_model.objects.create_user(username="planner2")
    add_to_role(other, "planner")
    with pytest.raises(Conflict):
        approvals.approve_manufacturing(awaiting.pk, "accept", 0.2, user=other)


def test_modify_after_commit_is_409(awaiting, planner_api):
    planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "accept"})
    response = planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "modify", "safety_stock_pct": 0.25})
    assert response.status_code == 409


def test_wrong_state_is_409(seeded, planner_api, inline_jobs, fit_memo):
    workflow = bare_season()
    for action in ("modify", "accept"):
        response = planner_api.post(URL, json={"workflow_id": str(workflow.pk), "action": action,
                                               "safety_stock_pct": 0.2})
        assert response.status_code == 409 and "pending" in response.json()["detail"]


@pytest.mark.parametrize("value", [0.05, 0.31, 1.0, -0.2])
def test_out_of_range_safety_stock_is_422(awaiting, planner_api, value):
    response = planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "modify", "safety_stock_pct": value})
    assert response.status_code == 422 and "safety_stock_pct" in response.json()["detail"]


def test_bad_action_and_missing_values_are_422(awaiting, planner_api):
    assert planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "approve"}).status_code == 422
    missing = planner_api.post(URL, json={"workflow_id": str(awaiting.pk), "action": "modify"})
    assert missing.status_code == 422 and "safety_stock_pct" in missing.json()["detail"]


def test_unknown_workflow_is_404(planner_api):
    import uuid

    response = planner_api.post(URL, json={"workflow_id": str(uuid.uuid4()), "action": "accept"})
    assert response.status_code == 404


def test_race_between_check_and_lock_lets_one_win(awaiting, planner, django_user_model, monkeypatch):
    """Request B passes the state check, then request A commits before B takes the lock: B must
    see A's commit under the lock and get 409 (the threaded version runs in threaded_probe.py)."""
    from planning.roles import add_to_role

    other = django_user_model.objects.create_user(username="planner2")
    add_to_role(other, "planner")
    real_read = approvals._season
    state = {"raced": False}

    def read_then_lose_the_race(workflow_id):
        found = real_read(workflow_id)  # B has read the season, still awaiting the approval
        if not state["raced"]:
            state["raced"] = True
            approvals.approve_manufacturing(awaiting.pk, "accept", 0.20, user=planner)  # A wins meanwhile
        return found

    monkeypatch.setattr(approvals, "_season", read_then_lose_the_race)
    with pytest.raises(Conflict, match="already accepted by planner1"):
        approvals.approve_manufacturing(awaiting.pk, "accept", 0.25, user=other)
    assert Approval.objects.filter(season=awaiting, action="accept").count() == 1
    assert Allocation.objects.get(season=awaiting).safety_stock_pct == 0.20
