"""Celery app, used only when CELERY_BROKER_URL is set. Start workers with
``celery -A forecast_site worker -l info``. Jobs are registered in planning.jobs; Celery runs
them through one generic task so the in-process runner and Celery run the same code."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forecast_site.settings")

app = Celery("forecast_site")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task(name="season_planner.run_job", acks_late=True)
def run_job(name, *args):
    import django

    django.setup()
    from planning import jobs
    import planning.services.workflow  # noqa: F401  (registers the workflow jobs)

    return jobs.run_registered(name, *args)
