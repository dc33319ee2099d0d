"""What the job could not use: rejected lines (dead letters) and events too late for the live job."""
from django.db import models

from .templates import AnalysisTemplate


class DeadLetter(models.Model):
    """A rejected input line with the reason; nothing is dropped silently."""

    template = models.ForeignKey(AnalysisTemplate, on_delete=models.CASCADE, related_name="dead_letters", db_constraint=False)
    source = models.CharField(max_length=100)
    reason = models.CharField(max_length=500)
    raw = models.TextField()
    origin = models.CharField(max_length=500, blank=True, default="", help_text="File (or topic/offset) it came from.")
    line_uid = models.CharField(max_length=32, help_text="Content hash; a line re-read after a restart is stored once.")
    created_ms = models.BigIntegerField()

    class Meta:
        db_table = "luna_dead_letter"
        ordering = ["-created_ms"]
        constraints = [models.UniqueConstraint(fields=["template", "line_uid"], name="luna_dead_letter_unique")]
        indexes = [models.Index(fields=["template", "source", "reason"], name="luna_dead_letter_reason_idx")]


class LateEvent(models.Model):
    """An event beyond allowed_lateness, queued with its context for replay against the stored session."""

    template = models.ForeignKey(AnalysisTemplate, on_delete=models.CASCADE, related_name="late_events", db_constraint=False)
    source = models.CharField(max_length=100)
    node = models.CharField(max_length=100)
    session_key = models.CharField(max_length=191, blank=True, default="")
    join_key = models.CharField(max_length=191, blank=True, default="")
    event_ms = models.BigIntegerField()
    reason = models.CharField(max_length=200)
    raw = models.TextField()
    origin = models.CharField(max_length=500, blank=True, default="")
    line_uid = models.CharField(max_length=32)
    created_ms = models.BigIntegerField()
    replayed_ms = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "luna_late_event"
        ordering = ["created_ms"]
        constraints = [models.UniqueConstraint(fields=["template", "line_uid"], name="luna_late_event_unique")]
        indexes = [models.Index(fields=["template", "replayed_ms"], name="luna_late_pending_idx")]
