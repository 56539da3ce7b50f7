"""Where workflow steps run: in-process worker threads by default, Celery when
CELERY_BROKER_URL is set. Callers use ``submit(task_name, *args)`` and never block a request."""
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

_executor = None
_executor_lock = threading.Lock()
_TASKS = {}


def task(name):
    """Register a job function under ``name`` (the Celery task of the same name calls it)."""

    def register(func):
        _TASKS[name] = func
        return func

    return register


def uses_celery():
    return bool(settings.CELERY_BROKER_URL)


def _pool():
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="season-job")
        return _executor


def run_registered(name, *args):
    """Run a registered job here and now (on a job thread or a Celery worker). Its database
    connection is checked before and closed after: a job takes seconds, so keeping a connection
    between jobs (CONN_MAX_AGE, meant for the HTTP workers) would only hold it idle."""
    close_old_connections()
    try:
        return _TASKS[name](*args)
    except Exception:
        logger.exception("Job %s%r failed", name, args)
        raise
    finally:
        connections.close_all()


def submit(name, *args):
    if name not in _TASKS:
        raise KeyError(f"unknown job {name!r}")
    if uses_celery():
        from forecast_site.celery import run_job

        return run_job.delay(name, *[str(a) for a in args])
    return _pool().submit(run_registered, name, *args)


def health():
    if not uses_celery():
        return {"backend": "in-process"}
    from forecast_site.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"backend": "celery"}
