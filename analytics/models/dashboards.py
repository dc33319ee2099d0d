"""Dashboards: a list of panels (typed specs, analytics/panels.py), personal to an editor or shared."""
from django.conf import settings
from django.db import models


class Dashboard(models.Model):
    """Panels over one template; `owner` empty or `shared` set means everyone with the viewer role sees it."""

    title = models.CharField(max_length=200)
    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="dashboards")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    shared = models.BooleanField(default=True, help_text="Visible to every viewer; otherwise only to its owner.")
    panels = models.JSONField(default=list, help_text="[PanelSpec]: title, chart, measures, dimensions, filters.")
    refresh_s = models.PositiveIntegerField(default=30, help_text="Auto-refresh interval of the page, seconds (0: off).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "analytics_dashboard"
        ordering = ["template", "title"]
        constraints = [models.UniqueConstraint(fields=["template", "owner", "title"], name="analytics_dashboard_title_unique")]

    def __str__(self) -> str:
        return self.title
