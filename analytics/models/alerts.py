"""Alerts on a macro series (threshold or ratio over a sliding window), their firings, and trend snapshots."""
from django.conf import settings
from django.db import models


class AlertRule(models.Model):
    """`numerator` sessions per window above `threshold`; with a `denominator`, their ratio in % above it.

    E.g. lost orders per 10 min above 5: numerator [{kind: conclusion, values: [lost_order]}]; or above 2 % of paid
    orders: the same numerator, denominator [{kind: node, values: [verified]}], threshold 2.
    """

    name = models.CharField(max_length=200)
    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="alert_rules")
    numerator = models.JSONField(default=list, help_text="[Filter] of the sessions counted (analytics/query/spec.py).")
    denominator = models.JSONField(null=True, blank=True, help_text="[Filter] of the base for a ratio; empty: a threshold.")
    window_minutes = models.PositiveIntegerField(default=10)
    threshold = models.FloatField(help_text="Sessions per window, or percent for a ratio.")
    emails = models.CharField(max_length=500, blank=True, default="", help_text="Comma-separated addresses.")
    webhook_url = models.URLField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    silenced_until = models.DateTimeField(null=True, blank=True, help_text="Firings are recorded but not notified until then.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "analytics_alert_rule"
        ordering = ["template", "name"]
        constraints = [models.UniqueConstraint(fields=["template", "name"], name="analytics_alert_rule_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ratio(self) -> bool:
        return bool(self.denominator)


class AlertFiring(models.Model):
    """One time a rule's condition held; resolved when it clears (or by hand)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    fired_at = models.DateTimeField()
    window_start_ms = models.BigIntegerField()
    window_end_ms = models.BigIntegerField()
    value = models.FloatField(help_text="Sessions, or percent for a ratio.")
    numerator = models.BigIntegerField()
    denominator = models.BigIntegerField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True, default="", help_text="'condition cleared' or a username.")
    notified = models.JSONField(default=dict, blank=True, help_text="What each channel answered (or 'silenced').")

    class Meta:
        db_table = "analytics_alert_firing"
        ordering = ["-fired_at", "-id"]
        indexes = [models.Index(fields=["rule", "resolved_at"], name="analytics_firing_open_idx")]

    def __str__(self) -> str:
        return f"{self.rule} {self.value:g} at {self.fired_at:%Y-%m-%d %H:%M}"


class TrendSnapshot(models.Model):
    """Live state at one moment: sessions in flight per furthest node reached, open vs recently finished.

    Taken periodically, so a stuck channel shows as a rising 'waiting at verified' line.
    """

    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="+")
    taken_ms = models.BigIntegerField()
    open_sessions = models.PositiveIntegerField(default=0)
    finished_last_hour = models.PositiveIntegerField(default=0)
    waiting_at = models.JSONField(default=dict, help_text="Furthest node reached → open sessions waiting there.")

    class Meta:
        db_table = "analytics_trend_snapshot"
        ordering = ["template", "taken_ms"]
        indexes = [models.Index(fields=["template", "taken_ms"], name="analytics_trend_time_idx")]
