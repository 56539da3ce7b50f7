from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = "Season planning"
    default_auto_field = "django.db.models.BigAutoField"
