"""Stored approval data in the API's field names (issue #12): approvals record, and a season
waiting for an approval keeps, what the API shows, so rows written before the rename are
converted once here."""
from django.db import migrations

ORDER = {"initial_qty": "initial_allocation", "holdback_qty": "holdback"}
CLUSTER = {"initial_qty": "initial_allocation", "holdback_qty": "holdback_allocation"}
MARKDOWN = {"week": "week_number", "sell_through": "sell_through_pct", "target": "target_sell_through",
            "elasticity": "elasticity_coefficient", "markdown_pct": "recommended_markdown_pct",
            "formula": "reasoning", "id": "markdown_id"}


def _renamed(values, names):
    if not isinstance(values, dict):
        return values
    return {names.get(key, key): value for key, value in values.items()}


def _order(values):
    values = _renamed(values, ORDER)
    if isinstance(values, dict) and isinstance(values.get("clusters"), list):
        values["clusters"] = [_renamed(c, CLUSTER) for c in values["clusters"]]
    return values


def forwards(apps, schema_editor):
    Approval = apps.get_model("planning", "Approval")
    for approval in Approval.objects.all().iterator():
        names = _order if approval.kind == "manufacturing" else (lambda v: _renamed(v, MARKDOWN))
        converted = names(approval.values)
        if converted != approval.values:
            approval.values = converted
            approval.save(update_fields=["values"])
    Workflow = apps.get_model("planning", "Workflow")
    for workflow in Workflow.objects.exclude(step_outputs={}).iterator():
        outputs = dict(workflow.step_outputs or {})
        pending = outputs.get("pending_approval")
        if isinstance(pending, dict):
            if "markdown_pct" in pending or "recommended_markdown_pct" in pending:
                pending = {"season_id": str(workflow.pk), "created_at": workflow.updated_at.isoformat(),
                           "reasoning": "", **_renamed(pending, MARKDOWN)}
            else:
                pending = _order(pending)
            outputs["pending_approval"] = pending
        if isinstance(outputs.get("manufacturing_approval"), dict):
            outputs["manufacturing_approval"] = _order(outputs["manufacturing_approval"])
        if outputs != workflow.step_outputs:
            workflow.step_outputs = outputs
            workflow.save(update_fields=["step_outputs"])


class Migration(migrations.Migration):
    dependencies = [("planning", "0005_extraction")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
