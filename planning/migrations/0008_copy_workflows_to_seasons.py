"""Issue #13: the season (the plan) and its runs (executions) become two models.

Every forecast workflow becomes a Season with the same id, and its pre-season Run, also with that
id (so forecasts and events that named the workflow name the run); every re-forecast workflow
becomes a re-forecast Run, with its id, on its season. A season paused at its markdown (or resuming
after an accepted one) was a finished forecast workflow re-opened in season; the new engine runs
the markdown on the week's run, so that part becomes a week Run (the markdown's week, at the
apply_markdown step, the season's current run) and the pre-season run is completed. Events move
to their season's stream (one sequence per season, in the order they happened) and name their
run. The tables are made in 0007; the foreign keys move to them in 0009, and the Workflow table goes
in 0010."""
from django.db import migrations, models

OFFSET = 10_000_000
# What moves from a season paused at (or resuming after) its markdown to the week run that now holds
# the markdown: the markdown step's outputs and the planner's decision; and the run fields it takes.
MARKDOWN_OUTPUTS = ("markdown", "markdown_approval", "apply_markdown")
WEEK_RUN_FIELDS = ("status", "current_agent", "progress_pct", "error", "runner", "owner_id", "heartbeat_at",
                   "recovery_attempts")


def forwards(apps, schema_editor):
    Workflow = apps.get_model("planning", "Workflow")
    Season = apps.get_model("planning", "Season")
    Run = apps.get_model("planning", "Run")
    Event = apps.get_model("planning", "WorkflowEvent")
    MarkdownDecision = apps.get_model("planning", "MarkdownDecision")
    run_fields = ("status", "step", "current_agent", "progress_pct", "error", "runner", "token_usage", "owner_id",
                  "started_at", "completed_at", "heartbeat_at", "recovery_attempts")
    for wf in Workflow.objects.filter(type="forecast").order_by("created_at").iterator():
        outputs = dict(wf.step_outputs or {})
        pending_data = outputs.pop("pending_approval", None) or {}
        season = Season.objects.create(
            id=wf.id, category_id=wf.category_id, parameters=wf.parameters, phase=wf.phase,
            pending_approval=wf.pending_approval, approval_data=pending_data if wf.pending_approval else {},
            current_week=wf.current_week, owner_id=wf.owner_id)
        fields = {name: getattr(wf, name) for name in run_fields}
        week_run = None
        if wf.pending_approval == "approve_markdown" or wf.step == "apply_markdown":
            week_run = {"outputs": {key: outputs.pop(key) for key in MARKDOWN_OUTPUTS if key in outputs},
                        **{name: fields[name] for name in WEEK_RUN_FIELDS}}
            fields.update(status="completed", step="done", current_agent="", progress_pct=100, error="",
                          recovery_attempts=0)
        run = Run.objects.create(id=wf.id, season=season, kind="pre_season", outputs=outputs, **fields)
        Run.objects.filter(pk=run.pk).update(created_at=wf.created_at)
        current = run
        if week_run is not None:
            week = (MarkdownDecision.objects.filter(season_id=wf.id).values_list("week", flat=True).first()
                    or pending_data.get("week_number") or wf.current_week)
            current = Run.objects.create(season=season, kind="week", week=week, step="apply_markdown",
                                         token_usage={}, started_at=wf.updated_at, **week_run)
            Run.objects.filter(pk=current.pk).update(created_at=wf.updated_at)
        Season.objects.filter(pk=season.pk).update(current_run=current, created_at=wf.created_at)
    for wf in Workflow.objects.filter(type="reforecast").order_by("created_at").iterator():
        reason = ((wf.parameters or {}).get("reason") or "")[:255]
        run = Run.objects.create(id=wf.id, season_id=wf.season_id, kind="reforecast", reason=reason,
                                 outputs=wf.step_outputs or {}, **{name: getattr(wf, name) for name in run_fields})
        Run.objects.filter(pk=run.pk).update(created_at=wf.created_at)
    # One sequence per season: its own events and its re-forecasts', in the order they happened.
    Event.objects.update(seq=models.F("seq") + OFFSET)
    roots = dict(Workflow.objects.values_list("id", "season_id"))
    counters = {}
    for event in Event.objects.order_by("created_at", "id").iterator():
        season_id = roots.get(event.workflow_id) or event.workflow_id
        counters[season_id] = counters.get(season_id, 0) + 1
        Event.objects.filter(pk=event.pk).update(season_id=season_id, run_id=event.workflow_id,
                                                 seq=counters[season_id])
    for season_id, last in counters.items():
        Season.objects.filter(pk=season_id).update(last_seq=last)


class Migration(migrations.Migration):
    dependencies = [("planning", "0007_season_and_run")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
