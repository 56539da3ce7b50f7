"""The project package. The Celery app is loaded with Django so that ``@shared_task`` tasks use
it (and its broker settings) in web processes as well as in workers."""
from forecast_site.celery import app as celery_app

__all__ = ("celery_app",)
