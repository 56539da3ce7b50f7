"""Issue #13, first step: the Season (the plan) and Run (one execution) tables, beside Workflow.
The rows are copied in 0008, the foreign keys move in 0009 and Workflow goes in 0010: four
migrations, because PostgreSQL cannot alter or index a table in the transaction that just wrote
its rows (and a schema editor runs its deferred index creation after the migration's operations)."""
import uuid

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0006_contract_field_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Season",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("parameters", models.JSONField(default=dict)),
                ("phase", models.CharField(choices=[("pre_season", "Pre Season"), ("in_season", "In Season"),
                                                    ("season_complete", "Season Complete")],
                                           default="pre_season", max_length=16)),
                ("pending_approval", models.CharField(
                    blank=True, choices=[("", "None"), ("approve_manufacturing_order", "Manufacturing"),
                                         ("approve_markdown", "Markdown")], default="", max_length=32)),
                ("approval_data", models.JSONField(blank=True, default=dict)),
                ("current_week", models.PositiveSmallIntegerField(
                    default=0, help_text="Last season week with uploaded actuals")),
                ("last_seq", models.PositiveIntegerField(
                    default=0, help_text="Sequence number of the season's last event")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("category", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="seasons",
                                               to="planning.category")),
                ("owner", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="seasons", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["category", "-created_at"], name="season_category_created")],
            },
        ),
        migrations.CreateModel(
            name="Run",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("kind", models.CharField(choices=[("pre_season", "Pre Season"), ("week", "Week"),
                                                   ("reforecast", "Reforecast")], max_length=12)),
                ("week", models.PositiveSmallIntegerField(blank=True, null=True,
                                                          help_text="The season week a week run processes")),
                ("reason", models.CharField(blank=True, max_length=255)),
                ("status", models.CharField(choices=[("pending", "Pending"), ("running", "Running"),
                                                     ("awaiting_approval", "Awaiting Approval"),
                                                     ("completed", "Completed"), ("failed", "Failed")],
                                            default="pending", max_length=20)),
                ("step", models.CharField(max_length=32)),
                ("current_agent", models.CharField(blank=True, max_length=32)),
                ("progress_pct", models.PositiveSmallIntegerField(
                    default=0, validators=[django.core.validators.MaxValueValidator(100)])),
                ("error", models.TextField(blank=True)),
                ("runner", models.CharField(default="deterministic", max_length=16)),
                ("token_usage", models.JSONField(blank=True, default=dict)),
                ("outputs", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("heartbeat_at", models.DateTimeField(blank=True, help_text="Refreshed by the job running this run",
                                                      null=True)),
                ("recovery_attempts", models.PositiveSmallIntegerField(default=0)),
                ("owner", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="runs", to=settings.AUTH_USER_MODEL)),
                ("season", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="runs",
                                             to="planning.season")),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["status"], name="run_status")],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(progress_pct__lte=100), name="run_progress_pct"),
                    models.CheckConstraint(condition=models.Q(kind="week", week__isnull=False) | ~models.Q(kind="week"),
                                           name="run_week_has_week"),
                    models.UniqueConstraint(condition=models.Q(kind="pre_season"), fields=("season",),
                                            name="run_one_pre_season"),
                ],
            },
        ),
        migrations.AddField(
            model_name="season",
            name="current_run",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="planning.run"),
        ),
        migrations.AddField(
            model_name="workflowevent",
            name="season",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="events",
                                    to="planning.season"),
        ),
        migrations.AddField(
            model_name="workflowevent",
            name="run",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="events", to="planning.run"),
        ),
    ]
