"""The season's jobs as Celery tasks (found by autodiscovery; planning.jobs.submit runs them on
Celery or, by default, on an in-process worker thread: the same functions either way)."""
from celery import shared_task

from planning import jobs
from planning.services import pipeline


@shared_task(name="planning.run_workflow", acks_late=True)
def run_workflow(workflow_id):
    """Run (or resume) a workflow from its current step until it pauses, completes or fails."""
    return pipeline.run_workflow(workflow_id)


def start_workflow(workflow_id, *, background=True):
    """Run a workflow as a job (never blocking a request), or here and now (the CLI, tests)."""
    if background:
        return jobs.submit(run_workflow, workflow_id)
    return pipeline.run_workflow(str(workflow_id))
