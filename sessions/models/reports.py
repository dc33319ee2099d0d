"""Correlation reports: how well a template's input turned into sessions, kept as a dated history.

Only counts are stored; every percentage is a property derived from them, so the two can never disagree.
"""
from typing import Any

from django.db import models
from django.utils import timezone

from .templates import AnalysisTemplate


def percent(part: int, whole: int) -> float | None:
    """`part` as a percentage of `whole`, two decimals; None when there is nothing to divide by."""
    return round(100 * part / whole, 2) if whole else None


class CorrelationReport(models.Model):
    """Sessions by status, conclusions, accepted and rejected lines per source, late events, durations.

    Sessions, nodes and conclusions are windowed by session start and late events by event time (both event
    time); dead letters by the time they were stored, since a rejected line may have no readable time.
    """

    template = models.ForeignKey(AnalysisTemplate, on_delete=models.CASCADE, related_name="correlation_reports")
    created_at = models.DateTimeField(default=timezone.now)
    since_ms = models.BigIntegerField(null=True, blank=True, help_text="Window start, epoch ms, inclusive; empty: all time.")
    until_ms = models.BigIntegerField(null=True, blank=True, help_text="Window end, epoch ms, exclusive; empty: all time.")
    sessions = models.PositiveIntegerField(default=0)
    complete = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0, help_text="Closed by the gap without every complete_when node.")
    open = models.PositiveIntegerField(default=0, help_text="Still open (provisional) when the report was built.")
    split = models.PositiveIntegerField(default=0, help_text="Sessions marked split (crash-resume), both halves counted.")
    with_conclusion = models.JSONField(default=dict, blank=True, help_text="Conclusion name → sessions for which it holds.")
    accepted_by_source = models.JSONField(default=dict, blank=True, help_text="Source → stored events (node rows).")
    rejected_by_reason = models.JSONField(
        default=list, blank=True, help_text="[{source, reason, count}]: dead letters by source and reason (kind), largest first."
    )
    rule_errors = models.JSONField(default=dict, blank=True, help_text="Rule → how often it failed: on sessions (fields, "
                                   "conclusions) and on records (a node's when; those records are dead letters).")
    orphan_supplements = models.PositiveIntegerField(default=0, help_text="Supplements that never met a baseline event.")
    late_pending = models.PositiveIntegerField(default=0, help_text="Late events waiting for replay.")
    late_replayed = models.PositiveIntegerField(default=0, help_text="Late events already re-applied to their session.")
    duration_p50_ms = models.BigIntegerField(null=True, blank=True, help_text="Median session duration (nearest rank).")
    duration_p95_ms = models.BigIntegerField(null=True, blank=True, help_text="95th percentile session duration (nearest rank).")

    class Meta:
        db_table = "luna_correlation_report"
        ordering = ["-created_at", "-id"]
        verbose_name = "correlation report"
        indexes = [models.Index(fields=["template", "created_at"], name="luna_report_latest_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(since_ms__isnull=True) | models.Q(until_ms__isnull=True) | models.Q(since_ms__lt=models.F("until_ms")),
                name="luna_report_window_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} report {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def accepted(self) -> int:
        return sum(self.accepted_by_source.values())

    @property
    def rejected(self) -> int:
        return sum(row["count"] for row in self.rejected_by_reason)

    @property
    def late(self) -> int:
        return self.late_pending + self.late_replayed

    @property
    def complete_pct(self) -> float | None:
        return percent(self.complete, self.sessions)

    @property
    def split_pct(self) -> float | None:
        return percent(self.split, self.sessions)

    @property
    def late_pct(self) -> float | None:
        """Late events among every event that reached the correlation, each counted once: a replayed late
        event is a stored node row by now (in `accepted`), so only the pending ones are added."""
        return percent(self.late, self.accepted + self.late_pending)

    @property
    def rejected_pct(self) -> float | None:
        return percent(self.rejected, self.accepted + self.rejected)

    @property
    def rejected_by_source(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.rejected_by_reason:
            totals[row["source"]] = totals.get(row["source"], 0) + row["count"]
        return totals

    @property
    def by_source(self) -> list[dict[str, Any]]:
        """Accepted vs rejected lines per source (every source of the template, even silent ones)."""
        rejected = self.rejected_by_source
        rows = []
        for source in sorted(set(self.accepted_by_source) | set(rejected)):
            accepted, refused = self.accepted_by_source.get(source, 0), rejected.get(source, 0)
            rows.append({"source": source, "accepted": accepted, "rejected": refused, "rejected_pct": percent(refused, accepted + refused)})
        return rows

    @property
    def conclusions(self) -> list[tuple[str, int]]:
        """(name, sessions) largest first, for display."""
        return sorted(self.with_conclusion.items(), key=lambda item: (-item[1], item[0]))

    def as_stats(self) -> dict[str, Any]:
        """The JobRun.stats shape (the keys it had before reports existed) plus the report's headline figures."""
        return {
            "report_id": self.pk,
            "sessions": self.sessions,
            "accepted_by_source": dict(self.accepted_by_source),
            "rejected": list(self.rejected_by_reason),
            "late": self.late,
            "orphan_supplements": self.orphan_supplements,
            "complete_pct": self.complete_pct,
            "split_pct": self.split_pct,
            "late_pct": self.late_pct,
        }
