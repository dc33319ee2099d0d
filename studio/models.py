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


class Proposal(models.Model):
    """A document an editor proposes; an admin (not its author) approves it, then activates it as a version."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ACTIVATED = "activated", "Activated"

    template_name = models.CharField(max_length=100, db_index=True)
    document = models.JSONField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    base_version = models.PositiveIntegerField(null=True, help_text="The active version when it was proposed.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True)
    comment = models.TextField(blank=True)
    version = models.PositiveIntegerField(null=True, help_text="The version it became when activated.")
    outcome = models.CharField(max_length=20, blank=True,
                               help_text="What the activation did to the running job: hot update, restart needed or no running job.")

    class Meta:
        db_table = "luna_studio_proposal"
        ordering = ["-created_at", "-pk"]


class AuditEntry(models.Model):
    """One row per import, proposal, approval, rejection, activation, rollback and restart: who, when, what."""

    class Action(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ACTIVATED = "activated", "Activated"
        ROLLED_BACK = "rolled_back", "Rolled back"
        RESTARTED = "restarted", "Restart requested"
        IMPORTED = "imported", "Imported as a draft"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=12, choices=Action.choices)
    template_name = models.CharField(max_length=100, db_index=True)
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    version = models.PositiveIntegerField(null=True)
    detail = models.TextField(blank=True)

    class Meta:
        db_table = "luna_studio_audit"
        ordering = ["-at", "-pk"]


class Backtest(models.Model):
    """A draft run over a time range of the stored input next to the live version. Its comparison lives in
    `result`; the Flink path's sessions in scratch databases under var/backtests/<id>/: nothing is written to the
    live session tables. Deleted (scratch too) after LUNA_STUDIO_BACKTEST_KEEP_HOURS."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    template_name = models.CharField(max_length=100)
    document = models.JSONField(help_text="The draft's document when the backtest was asked for.")
    live_version = models.PositiveIntegerField()
    start_ms = models.BigIntegerField()
    end_ms = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveIntegerField(default=0, help_text="Lines correlated so far (both versions).")
    total = models.PositiveIntegerField(default=0, help_text="Lines to correlate (both versions).")
    engine = models.CharField(max_length=8, blank=True, help_text="pure (in the worker) or flink (bounded job), as planned.")
    phase = models.CharField(max_length=300, blank=True, help_text="What runs now (shown with the progress).")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "luna_studio_backtest"
        ordering = ["-created_at", "-pk"]
