"""Job operations: launching, watching, repairing and hot-updating the Flink jobs (Celery tasks, the jobs page)."""
from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Luna job operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sessions.signals import version_saved

        from .services import rollout

        version_saved.connect(rollout.on_version_saved, dispatch_uid="operations.rollout")
