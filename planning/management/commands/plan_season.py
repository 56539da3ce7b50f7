"""manage.py plan_season "<text>" --category womens_dresses [--auto-approve]: the whole pre-season
run from the command line, synchronously, printing the plan (for scripts and benchmarks)."""
import json
import time
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agents.parameters import ParameterError
from planning.errors import PlanningError
from planning.models import Allocation
from planning.selectors import workflows as workflow_reads
from planning.services import allocation as plans
from planning.services import approvals, season_start
from planning.services import extraction as extractions


class Command(BaseCommand):
    help = ("Extract season parameters from text, run the pre-season workflow (forecast, clusters, order, "
            "allocation) here and now and print the plan. With --auto-approve the manufacturing order is "
            "accepted (at --safety-stock or the default) and the pricing step runs too.")

    def add_arguments(self, parser):
        parser.add_argument("text", help='e.g. "12-week season starting March 1, weekly replenishment"')
        parser.add_argument("--category", required=True, help="Category id, e.g. womens_dresses")
        parser.add_argument("--auto-approve", action="store_true", help="Accept the manufacturing order")
        parser.add_argument("--safety-stock", type=float, default=None, help="0.10..0.30 (with --auto-approve)")
        parser.add_argument("--reference-date", default=None, help="YYYY-MM-DD (default today)")
        parser.add_argument("--user", default=None, help="Owner and approver (a username)")
        parser.add_argument("--json", action="store_true", help="Print the results as JSON")

    def handle(self, *args, text, category, auto_approve, safety_stock, reference_date, user, json, **options):
        try:
            reference = date.fromisoformat(reference_date) if reference_date else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--reference-date: {exc}") from exc
        owner = None
        if user:
            owner = get_user_model().objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"No user named {user!r}.")
        started = time.perf_counter()
        try:
            extracted, extraction = extractions.record_extraction(text, reference, owner)
            workflow = season_start.start_forecast(category, extracted.parameters.model_dump(mode="json"), user=owner,
                                                   extraction_id=extraction.pk, background=False)
            workflow.refresh_from_db()
            to_approval = time.perf_counter() - started
            if workflow.status == "failed":
                raise CommandError(f"The run failed: {workflow.current_run.error}")
            if auto_approve:
                approvals.approve_manufacturing(workflow.pk, "accept", safety_stock, note="plan_season --auto-approve",
                                                user=owner, background=False)
                workflow.refresh_from_db()
        except ParameterError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        except PlanningError as exc:
            raise CommandError(exc.detail) from exc
        total = time.perf_counter() - started
        if json:
            done = workflow.status == "completed"
            body = workflow_reads.results_dict(workflow) if done else workflow_reads.status_dict(workflow)
            self.stdout.write(_dumps({"timing": {"to_approval_seconds": to_approval, "total_seconds": total}, **body}))
            return
        self._print(workflow, extracted, to_approval, total)

    def _print(self, workflow, extracted, to_approval, total):
        out = self.stdout.write
        p = workflow.parameters
        out(f"Season {workflow.pk} ({workflow.category.name}): {workflow.status}")
        out(f"  Parameters ({extracted.extractor}, confidence {extracted.confidence}): {p['forecast_horizon_weeks']} "
            f"weeks {p['season_start_date']}..{p['season_end_date']}, replenishment {p['replenishment_strategy']}, "
            f"holdback {p['dc_holdback_percentage']:.0%}, markdown week {p['markdown_checkpoint_week'] or '-'}")
        forecast = plans.original_forecast(workflow)
        if forecast:
            models = ", ".join(f"{k} {v:,.0f}" for k, v in forecast.model_totals.items())
            out(f"  Forecast: {forecast.total_units:,.0f} units by {forecast.method} ({models})")
            for warning in forecast.warnings:
                out(f"    warning: {warning}")
            out("  Clusters: " + ", ".join(f"{c['cluster_id']} {c['share']:.1%} -> {c['units']:,}"
                                           for c in forecast.cluster_distribution))
        allocation = Allocation.objects.filter(season=workflow).first()
        if allocation:
            out(f"  Order ({allocation.status}): {allocation.manufacturing_qty:,} units = {allocation.demand_units:,} "
                f"x (1 + {allocation.safety_stock_pct:.0%} safety stock); initial {allocation.initial_qty:,}, "
                f"holdback {allocation.holdback_qty:,} at the DC")
            for cluster in allocation.cluster_totals:
                out(f"    {cluster['cluster_id']:<16} {cluster['store_count']:>3} stores  initial "
                    f"{cluster['initial_qty']:>8,}  holdback {cluster['holdback_qty']:>8,}")
            top = allocation.stores.order_by("-initial_qty")[:5]
            out("  Largest initial shipments: " + ", ".join(f"{s.store_id} {s.initial_qty:,}" for s in top))
        outputs = workflow.runs.filter(kind="pre_season").values_list("outputs", flat=True).first() or {}
        checkpoint = outputs.get("pricing", {}).get("checkpoint")
        if checkpoint:
            out(f"  Markdown: {checkpoint['reasoning']}")
        if workflow.status == "awaiting_approval":
            out("  Waiting for the manufacturing approval (use --auto-approve, the API or the season page).")
        out(f"  Time: {to_approval:.2f} s to the approval point, {total:.2f} s in total")


def _dumps(body):
    return json.dumps(body, default=str, indent=2)
