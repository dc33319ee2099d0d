"""A draft is the wizard's document between steps: stored, so the analyst can leave and resume it."""
from django.conf import settings
from django.db import models


class Draft(models.Model):
    """A template document being built; `document` holds whatever the steps filled so far."""

    name = models.CharField(max_length=100, help_text="The template's name (a new template or an existing one).")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    document = models.JSONField(default=dict)
    step = models.CharField(max_length=30, default="sources")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "luna_studio_draft"
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"draft {self.pk} of {self.name}"
