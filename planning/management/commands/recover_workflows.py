from django.core.management.base import BaseCommand

from planning.services.recovery import recover_interrupted_workflows


class Command(BaseCommand):
    help = ("Resume (or, after WORKFLOW_MAX_RECOVERIES attempts, fail) workflows left pending or running "
            "by a process that died, and process again season weeks whose upload was cut short. "
            "Safe to run any time, e.g. from cron: live workflows (fresh heartbeat) are left alone.")

    def add_arguments(self, parser):
        parser.add_argument("--stale-after", type=float, default=None,
                            help="Seconds without a heartbeat before a workflow counts as interrupted "
                                 "(default WORKFLOW_STALE_SECONDS, 120)")

    def handle(self, *args, stale_after=None, **options):
        actions = recover_interrupted_workflows(stale_after=stale_after)
        if not actions:
            self.stdout.write("No interrupted workflows.")
        for action in actions:
            detail = f" week {action['week']}" if "week" in action else f" at step {action.get('step')}"
            self.stdout.write(f"{action['workflow_id']}: {action['action']}{detail}")
