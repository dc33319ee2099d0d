"""Investigation (SPEC §6): case work on sessions, verdicts and the precision they give each rule, compare two
sessions, merge or keep a split pair. Talks to `sessions` only through its services and models' public fields."""
from django.apps import AppConfig


class InvestigationConfig(AppConfig):
    name = "investigation"
    label = "luna_investigation"
    verbose_name = "Luna investigation"
    default_auto_field = "django.db.models.BigAutoField"
