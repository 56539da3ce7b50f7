"""Where jobs run. A job is a Celery task (``@shared_task`` in planning.tasks, found by the Celery
app's autodiscovery). ``submit(task, *args)`` sends it to the Celery workers when
CELERY_BROKER_URL is set; otherwise it runs the same task function on an in-process worker
thread. Either way a request handler never blocks on a job."""
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from celery import current_app
from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

_executor = None
_executor_lock = threading.Lock()


def uses_celery():
    return bool(settings.CELERY_BROKER_URL)


def _pool():
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="season-job")
        return _executor


def _on_job_thread(task, *args):
    """Run a task on a job thread. Its database connection is checked before and closed after: a
    job takes seconds, so keeping a connection between jobs (CONN_MAX_AGE, meant for the HTTP
    workers) would only hold it idle. (Celery workers do the same: forecast_site.celery.)"""
    close_old_connections()
    try:
        return task(*args)
    except Exception:
        logger.exception("Job %s%r failed", getattr(task, "name", task), args)
        raise
    finally:
        connections.close_all()


def submit(task, *args):
    """Run ``task(*args)`` as a job; arguments are sent as strings (ids)."""
    args = [str(a) for a in args]
    if uses_celery():
        return task.delay(*args)
    return _pool().submit(_on_job_thread, task, *args)


def health():
    if not uses_celery():
        return {"backend": "in-process"}
    with current_app.connection_for_write() as conn:  # the project's app (forecast_site/__init__.py)
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"backend": "celery"}
