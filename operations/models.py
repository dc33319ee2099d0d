"""Runs of a template's Flink job and the monitor's repair attempts (launched and watched by Celery)."""
from django.db import models
from django.utils import timezone

from sessions.models import TemplateVersion

from .choices import AttemptKind, AttemptOutcome, JobMode, JobState


class JobRun(models.Model):
    """One launch of the sessionize job for a template version, with what the monitor last saw of it.

    A run lives from Start until an operator stops or cancels it (or it fails for good). When the monitor
    resubmits a failed job from its latest checkpoint the run keeps its row: `flink_job_id` changes and a
    `JobAttempt` records the attempt. An operator's Restart is a new run whose `previous` is the old one.
    """

    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="job_runs")
    mode = models.CharField(max_length=16, choices=JobMode.choices)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.CREATED)
    target = models.CharField(max_length=200, help_text="'local' mini-cluster or the cluster REST URL.")
    flink_job_id = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="", help_text="Flink's or the submitter's error, in full.")
    stats = models.JSONField(default=dict, blank=True)

    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="The run this one was restarted from.")
    restored_from = models.CharField(max_length=500, blank=True, default="", help_text="Savepoint or checkpoint restored.")
    savepoint_path = models.CharField(max_length=500, blank=True, default="", help_text="Savepoint taken when stopped.")
    last_checkpoint_id = models.BigIntegerField(null=True, blank=True)
    last_checkpoint_at = models.DateTimeField(null=True, blank=True)
    last_checkpoint_path = models.CharField(max_length=500, blank=True, default="")
    running_since = models.DateTimeField(null=True, blank=True, help_text="When the current Flink job last became RUNNING.")
    uptime_ms = models.BigIntegerField(null=True, blank=True)
    records_in = models.BigIntegerField(default=0, help_text="Lines read by the sources.")
    records_out = models.BigIntegerField(default=0, help_text="Records handed to the database writer.")
    throughput = models.FloatField(null=True, blank=True, help_text="Records in per second between two polls.")
    backpressure = models.CharField(max_length=8, blank=True, default="", help_text="Worst vertex: ok, low or high.")
    backpressure_ratio = models.FloatField(null=True, blank=True)
    watermark_ms = models.BigIntegerField(null=True, blank=True)
    lag_ms = models.BigIntegerField(null=True, blank=True, help_text="Newest input file time minus the watermark.")
    restarts = models.IntegerField(default=0, help_text="Flink's own restarts plus the monitor's resubmissions.")
    carried_restarts = models.IntegerField(default=0, help_text="Restarts of earlier Flink jobs of this run.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Back-off: no resubmission before this.")
    state_since = models.DateTimeField(null=True, blank=True,
                                       help_text="When a task put the run in a transitional state (submitting, stopping).")
    polled_at = models.DateTimeField(null=True, blank=True)
    live_version = models.PositiveIntegerField(null=True, blank=True,
                                               help_text="Newest template version published to the running job (hot update).")
    notice = models.TextField(blank=True, default="", help_text="What the operator must do, e.g. restart for a source change.")

    class Meta:
        db_table = "luna_job_run"
        ordering = ["-id"]
        verbose_name = "job run"
        indexes = [models.Index(fields=["state"], name="luna_job_run_state_idx")]

    def __str__(self) -> str:
        return f"{self.version} {self.mode} {self.state}"

    @property
    def template(self):
        return self.version.template

    @property
    def running_version(self) -> int:
        """The template version the job applies now: its launch version or a newer one published to it."""
        return max(self.version.number, self.live_version or 0)

    @property
    def is_active(self) -> bool:
        return self.state in JobState.active()

    @property
    def live_uptime_ms(self) -> int | None:
        """Uptime now (not as of the last poll) while running."""
        if self.state == JobState.RUNNING and self.running_since:
            return int((timezone.now() - self.running_since).total_seconds() * 1000)
        return None

    @property
    def restore_point(self) -> str:
        """The newest state to restart from: the stop savepoint, else the last retained checkpoint."""
        return self.savepoint_path or self.last_checkpoint_path


class JobAttempt(models.Model):
    """One repair by the monitor: a resubmission from a checkpoint, or a lost TaskManager/cluster started."""

    run = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField(help_text="1 for the first consecutive resubmission, and so on.")
    kind = models.CharField(max_length=16, choices=AttemptKind.choices)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    reason = models.TextField(blank=True, default="", help_text="Why: Flink's failure cause or what was missing.")
    failed_job_id = models.CharField(max_length=64, blank=True, default="")
    new_job_id = models.CharField(max_length=64, blank=True, default="")
    restored_from = models.CharField(max_length=500, blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "luna_job_attempt"
        ordering = ["-id"]
        verbose_name = "job repair attempt"

    def __str__(self) -> str:
        return f"run {self.run_id} #{self.number} {self.kind} {self.outcome}"


class SinkOutage(models.Model):
    """A time the job's database writer could not reach the database and retried (recorded once it could again)."""

    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="sink_outages", db_constraint=False)
    started_ms = models.BigIntegerField()
    ended_ms = models.BigIntegerField()
    retries = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, help_text="The first error the writer saw.")

    class Meta:
        db_table = "luna_sink_outage"
        ordering = ["-started_ms"]
        indexes = [models.Index(fields=["template", "started_ms"], name="luna_sink_outage_idx")]
