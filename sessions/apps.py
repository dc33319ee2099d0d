"""The domain app. Label `luna_sessions` keeps it apart from django.contrib.sessions."""
from django.apps import AppConfig


class LunaSessionsConfig(AppConfig):
    name = "sessions"
    label = "luna_sessions"
    verbose_name = "Luna sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .services import stamps

        stamps.connect()  # per-worker caches dropped when their tables change (services/stamps.py)
