"""Template studio (SPEC §6, issue 9): a wizard that builds a template document step by step from sample
lines, checks every rule as it is typed and dry-runs the draft through the job's own engine. Talks to
`sessions` only through its services (templates, tree, source_locations) and its public models."""
from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    label = "luna_studio"
    verbose_name = "Luna template studio"
    default_auto_field = "django.db.models.BigAutoField"
