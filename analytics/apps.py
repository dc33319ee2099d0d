"""The analytics app: rollup tables, the query compiler, dashboards."""
from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    label = "analytics"
    verbose_name = "Luna analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .db import register_sqlite_functions

        register_sqlite_functions()
