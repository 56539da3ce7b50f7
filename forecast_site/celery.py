"""Celery app, used only when CELERY_BROKER_URL is set. Start workers with
``celery -A forecast_site worker -l info``. The tasks live in each app's ``tasks.py``
(planning.tasks), found by autodiscovery; planning.jobs runs the same tasks in-process when no
broker is configured."""
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections, connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forecast_site.settings")

app = Celery("forecast_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _fresh_connection(**_):
    close_old_connections()


@task_postrun.connect
def _close_connections(**_):
    """A job takes seconds; keeping its connection between jobs would only hold it idle."""
    connections.close_all()
