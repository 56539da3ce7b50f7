"""Issue #13, third step: everything that hung off a Workflow now hangs off its Season (same ids,
see 0008), forecasts name the run that produced them, and events belong to their season."""
import django.db.models.deletion
from django.db import migrations, models


def season_fk(related_name, **extra):
    return models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name=related_name,
                             to="planning.season", **extra)


class Migration(migrations.Migration):
    dependencies = [("planning", "0008_copy_workflows_to_seasons")]

    operations = [
        migrations.RemoveConstraint(model_name="workflowevent", name="event_unique_seq"),
        migrations.RemoveField(model_name="workflowevent", name="workflow"),
        migrations.AlterField(model_name="workflowevent", name="season", field=season_fk("events")),
        migrations.AlterModelOptions(name="workflowevent", options={"ordering": ["season", "seq"]}),
        migrations.AddConstraint(
            model_name="workflowevent",
            constraint=models.UniqueConstraint(fields=("season", "seq"), name="event_unique_season_seq"),
        ),
        migrations.RenameModel(old_name="WorkflowEvent", new_name="SeasonEvent"),
        migrations.AlterField(
            model_name="extraction", name="season",
            field=models.OneToOneField(blank=True, help_text="The season started from this extraction", null=True,
                                       on_delete=django.db.models.deletion.SET_NULL, related_name="extraction",
                                       to="planning.season"),
        ),
        migrations.AlterField(model_name="forecast", name="season", field=season_fk("forecasts")),
        migrations.RenameField(model_name="forecast", old_name="workflow", new_name="run"),
        migrations.AlterField(
            model_name="forecast", name="run",
            field=models.ForeignKey(help_text="The run that produced it", on_delete=django.db.models.deletion.CASCADE,
                                    related_name="forecasts", to="planning.run"),
        ),
        migrations.AlterField(
            model_name="allocation", name="season",
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="allocation",
                                       to="planning.season"),
        ),
        migrations.RemoveConstraint(model_name="weeklyactual", name="actual_unique_week"),
        migrations.RenameField(model_name="weeklyactual", old_name="workflow", new_name="season"),
        migrations.AlterField(model_name="weeklyactual", name="season", field=season_fk("actuals")),
        migrations.AddConstraint(
            model_name="weeklyactual",
            constraint=models.UniqueConstraint(fields=("season", "week", "store"), name="actual_unique_season_week"),
        ),
        migrations.AlterField(model_name="variancecheck", name="season", field=season_fk("variance_checks")),
        migrations.AlterField(model_name="replenishment", name="season", field=season_fk("replenishments")),
        migrations.AlterField(model_name="markdowndecision", name="season", field=season_fk("markdowns")),
        migrations.RenameField(model_name="approval", old_name="workflow", new_name="season"),
        migrations.AlterField(model_name="approval", name="season", field=season_fk("approvals")),
    ]
