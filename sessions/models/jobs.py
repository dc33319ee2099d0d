"""Runs of a template's Flink job (launched by the CLI now, by Celery later)."""
from django.db import models

from ..choices import JobMode, JobState
from .templates import TemplateVersion


class JobRun(models.Model):
    """One execution of the sessionize job for a template version, with what it counted."""

    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="job_runs")
    mode = models.CharField(max_length=16, choices=JobMode.choices)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.CREATED)
    target = models.CharField(max_length=200, help_text="'local' mini-cluster or the cluster REST URL.")
    flink_job_id = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    stats = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "luna_job_run"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.version} {self.mode} {self.state}"
