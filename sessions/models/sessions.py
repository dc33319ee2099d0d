"""Restored business sessions, stored column-to-row so any field is searchable (SPEC §5).

The Flink sink writes these tables with plain SQL (jobs/sessionize/sink); `db_table` names and columns
here are that contract, checked by tests/test_sink_schema.py.
"""
from django.db import models

from ..choices import SessionStatus, Severity
from .templates import AnalysisTemplate


class Session(models.Model):
    """One session: core columns for the fixed filters; the id is a hash of (template, key, first event)."""

    id = models.BigIntegerField(primary_key=True)
    # No single-column FK indexes here or in the child tables: each composite index below leads with the column
    # (1 M sessions: 230 MiB of duplicate field-table indexes, written on every insert, read by nothing).
    template = models.ForeignKey(AnalysisTemplate, on_delete=models.CASCADE, related_name="sessions", db_constraint=False, db_index=False)
    session_key = models.CharField(max_length=191)
    start_ms = models.BigIntegerField(help_text="First baseline event time, epoch ms (UTC).")
    end_ms = models.BigIntegerField(help_text="Last event time, epoch ms (UTC).")
    duration_ms = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=SessionStatus.choices)
    revision = models.PositiveIntegerField(help_text="Grows with every emission; storage never goes backwards.")
    completeness = models.FloatField(help_text="Share of complete_when nodes present, 0..1.")
    primary_conclusion = models.CharField(max_length=100, blank=True, default="")
    split = models.BooleanField(default=False, help_text="Part of a session split by a gap (crash-resume).")
    prev_id = models.BigIntegerField(null=True, blank=True)
    next_id = models.BigIntegerField(null=True, blank=True)
    updated_ms = models.BigIntegerField(help_text="Wall-clock time of the last write, epoch ms.")
    template_version = models.PositiveIntegerField(null=True, blank=True,
                                                   help_text="Template version that produced the stored revision.")

    class Meta:
        db_table = "luna_session"
        ordering = ["-start_ms"]
        indexes = [
            models.Index(fields=["template", "session_key"], name="luna_session_key_idx"),
            models.Index(fields=["template", "start_ms"], name="luna_session_start_idx"),
            models.Index(fields=["template", "primary_conclusion", "start_ms"], name="luna_session_concl_idx"),
            models.Index(fields=["template", "status", "start_ms"], name="luna_session_status_idx"),
            # sort by duration (keyset on duration, id: InnoDB and TiDB keep the id in every secondary index), so
            # that order reads its page from the index instead of sorting every session (2.5 s at 1 M, issue 12)
            models.Index(fields=["template", "duration_ms"], name="luna_session_duration_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.session_key} r{self.revision}"


class SessionField(models.Model):
    """One extracted or computed field of a session (column-to-row): adding a field is DML, not DDL."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="fields", db_constraint=False, db_index=False)
    template = models.ForeignKey(AnalysisTemplate, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    name = models.CharField(max_length=100)
    str_value = models.CharField(max_length=191, null=True, blank=True)
    num_value = models.FloatField(null=True, blank=True)
    node = models.CharField(max_length=100, blank=True, default="",
                            help_text="Node whose event carried this value; empty for computed fields.")

    class Meta:
        db_table = "luna_session_field"
        indexes = [
            # session last: the field = value lookups read only the index (no row lookup per match, measured 20x)
            models.Index(fields=["template", "name", "str_value", "session"], name="luna_field_str_cover_idx"),
            models.Index(fields=["template", "name", "num_value", "session"], name="luna_field_num_cover_idx"),
            models.Index(fields=["session", "name"], name="luna_field_session_idx"),
        ]

    @property
    def value(self):
        return self.num_value if self.num_value is not None and self.str_value is None else self.str_value


class SessionNode(models.Model):
    """One event attached to a node of the behaviour tree, with its raw record."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="nodes", db_constraint=False, db_index=False)
    node = models.CharField(max_length=100)
    seq = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=100)
    event_ms = models.BigIntegerField()
    supplement = models.BooleanField(default=False)
    event_uid = models.CharField(max_length=32)
    raw = models.TextField()

    class Meta:
        db_table = "luna_session_node"
        ordering = ["event_ms", "seq"]
        indexes = [models.Index(fields=["session", "node"], name="luna_node_session_idx")]


class SessionConclusion(models.Model):
    """A conclusion rule that holds for the session at its current revision."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="conclusions", db_constraint=False, db_index=False)
    template = models.ForeignKey(AnalysisTemplate, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    name = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    start_ms = models.BigIntegerField(help_text="Copied from the session so macro queries need no join.")

    class Meta:
        db_table = "luna_session_conclusion"
        indexes = [
            models.Index(fields=["template", "name", "start_ms"], name="luna_concl_name_idx"),
            models.Index(fields=["session", "name"], name="luna_concl_session_name_idx"),  # the per-session probe (search)
        ]


class SessionRuleError(models.Model):
    """A field or conclusion rule that failed on this session's data: its value is null, the reason is kept."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="rule_errors", db_constraint=False, db_index=False)
    template = models.ForeignKey(AnalysisTemplate, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    rule = models.CharField(max_length=200, help_text="e.g. fields.amount.expr or conclusions.lost_order.when")
    message = models.CharField(max_length=500)
    start_ms = models.BigIntegerField(help_text="Copied from the session so the per-rule counts need no join.")

    class Meta:
        db_table = "luna_session_rule_error"
        indexes = [
            models.Index(fields=["template", "rule", "start_ms"], name="luna_rule_error_rule_idx"),
            models.Index(fields=["session"], name="luna_rule_error_session_idx"),
        ]


class SessionRevision(models.Model):
    """One stored revision of a session: when, why it was emitted and what changed against the one before."""

    session_id = models.BigIntegerField()
    template = models.ForeignKey(AnalysisTemplate, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    revision = models.PositiveIntegerField()
    template_version = models.PositiveIntegerField(null=True, blank=True)
    cause = models.CharField(max_length=32, help_text="early_fire, close, timeout, update, merge or late_replay.")
    status = models.CharField(max_length=16, choices=SessionStatus.choices)
    written_ms = models.BigIntegerField()
    changes = models.JSONField(default=dict, blank=True,
                               help_text="{nodes_added, nodes_removed, fields: {name: [old, new]}, conclusions_added, ...}")

    class Meta:
        db_table = "luna_session_revision"
        ordering = ["session_id", "revision"]
        indexes = [models.Index(fields=["session_id", "revision"], name="luna_revision_session_idx")]
