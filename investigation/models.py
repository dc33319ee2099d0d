"""Cases, comments, verdicts and split decisions: every row names who did it and when (the audit trail)."""
from django.conf import settings
from django.db import models


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    RESOLVED = "resolved", "Resolved"


class VerdictKind(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    FALSE_POSITIVE = "false_positive", "False positive"


class SplitDecisionKind(models.TextChoices):
    MERGE = "merge", "Merged"
    KEEP = "keep", "Kept apart"


class Case(models.Model):
    """A session under investigation: who works on it and how far they got (one case per session)."""

    session_id = models.BigIntegerField(unique=True)
    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="cases")
    session_key = models.CharField(max_length=191, help_text="Copied so the queue needs no join.")
    conclusion = models.CharField(max_length=100, blank=True, default="", help_text="The session's primary conclusion when opened.")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="luna_cases")
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "luna_case"
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["assignee", "status", "updated_at"], name="luna_case_queue_idx"),
            models.Index(fields=["template", "conclusion", "status"], name="luna_case_conclusion_idx"),
        ]

    def __str__(self) -> str:
        return f"case {self.session_key} ({self.status})"


class CaseEvent(models.Model):
    """What happened to a case: a comment, an assignment or a status change, by whom and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, help_text="comment, assign, status or verdict")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "luna_case_event"
        ordering = ["created_at", "id"]


class Verdict(models.Model):
    """An analyst's judgement of one conclusion on one session; the rule's precision is computed from these."""

    session_id = models.BigIntegerField()
    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="verdicts")
    template_version = models.PositiveIntegerField(null=True, blank=True, help_text="Version that drew the conclusion.")
    conclusion = models.CharField(max_length=100)
    verdict = models.CharField(max_length=16, choices=VerdictKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "luna_verdict"
        constraints = [models.UniqueConstraint(fields=["session_id", "conclusion"], name="luna_verdict_unique")]
        indexes = [models.Index(fields=["template", "conclusion", "template_version"], name="luna_verdict_rule_idx")]


class SplitDecision(models.Model):
    """An analyst's decision on a split pair (SPEC §4: both halves are fired; analysts merge or keep them)."""

    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="split_decisions")
    session_key = models.CharField(max_length=191)
    first_id = models.BigIntegerField()
    second_id = models.BigIntegerField()
    decision = models.CharField(max_length=8, choices=SplitDecisionKind.choices)
    merged_id = models.BigIntegerField(null=True, blank=True)
    halves = models.JSONField(default=list, blank=True, help_text="Both halves as they were stored (kept as history on a merge).")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "luna_split_decision"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["first_id"], name="luna_split_first_idx"),
            models.Index(fields=["second_id"], name="luna_split_second_idx"),
            models.Index(fields=["merged_id"], name="luna_split_merged_idx"),
        ]


class SavedQuery(models.Model):
    """A named read-only SQL query an editor kept for reuse."""

    name = models.CharField(max_length=100, unique=True)
    sql = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "luna_saved_query"
        ordering = ["name"]


class QueryRun(models.Model):
    """Every ad-hoc query run, refused or not: who, what, how long, how many rows (the audit trail)."""

    sql = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    truncated = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "luna_query_run"
        ordering = ["-started_at"]
