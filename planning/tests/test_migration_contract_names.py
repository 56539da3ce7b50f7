"""Rows written before the API rename (issue #12) read back in the new names: approvals in the
report, and a season waiting for an approval in its status."""
import importlib

import pytest
from django.apps import apps

from planning.models import Approval, Workflow
from planning.tests.season_fixtures import *  # noqa: F403
from planning.tests.season_fixtures import start_season

migration = importlib.import_module("planning.migrations.0006_contract_field_names")
pytestmark = pytest.mark.django_db


def test_old_manufacturing_data_is_renamed(seeded, planner, planner_api, inline_jobs, fit_memo):
    season = start_season(planner)
    season.refresh_from_db()
    outputs = dict(season.step_outputs)
    pending = dict(outputs["pending_approval"])
    pending["initial_qty"], pending["holdback_qty"] = pending.pop("initial_allocation"), pending.pop("holdback")
    pending["clusters"] = [{**c, "initial_qty": c.pop("initial_allocation"), "holdback_qty": c.pop("holdback_allocation")}
                           for c in pending["clusters"]]
    Workflow.objects.filter(pk=season.pk).update(step_outputs={**outputs, "pending_approval": pending})
    Approval.objects.create(workflow=season, kind="manufacturing", action="modify", values={
        "demand": 8000.0, "demand_units": 8000, "safety_stock_pct": 0.25, "manufacturing_qty": 10000,
        "holdback_pct": 0.45, "initial_qty": 5500, "holdback_qty": 4500})

    migration.forwards(apps, None)

    data = planner_api.get(f"/api/workflows/{season.pk}").json()["pending_approval"]["data"]
    assert data["initial_allocation"] + data["holdback"] == data["manufacturing_qty"]
    assert "initial_allocation" in data["clusters"][0] and "initial_qty" not in data["clusters"][0]
    assert Approval.objects.get().values["initial_allocation"] == 5500


def test_old_markdown_data_is_renamed(db):
    workflow = Workflow.objects.create(category_id=_category(), parameters={}, step_outputs={"pending_approval": {
        "id": 3, "week": 6, "status": "recommended", "units_sold": 5500, "manufacturing_qty": 10000,
        "sell_through": 0.55, "target": 0.6, "gap": 0.05, "elasticity": 2.0, "markdown_pct": 0.1,
        "expected_lift": 0.15, "decided_by": None, "decided_at": None, "forecast_id": 1, "formula": "gap x e",
        "elasticity_range": [1.0, 3.0]}})
    migration.forwards(apps, None)
    data = Workflow.objects.get(pk=workflow.pk).step_outputs["pending_approval"]
    assert (data["week_number"], data["recommended_markdown_pct"], data["elasticity_coefficient"]) == (6, 0.1, 2.0)
    assert data["reasoning"] == "gap x e" and data["season_id"] == str(workflow.pk) and data["markdown_id"] == 3


def _category():
    from planning.models import Category

    return Category.objects.get_or_create(pk="vector_cat", defaults={"name": "Vector"})[0].pk
