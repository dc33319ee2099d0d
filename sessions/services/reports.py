"""The per-template correlation report: a handful of GROUP BY queries, stored as a CorrelationReport.

Every figure is an aggregate in the database (no Python loop over sessions or lines), so the cost is the
same few queries whatever the volume; all of them read one snapshot (one transaction), so the figures agree
with each other. Percentiles are nearest-rank, read as `ORDER BY duration_ms LIMIT 1 OFFSET k` over the
(template, start_ms) range: identical on TiDB, MySQL/MariaDB and SQLite, no window functions needed.
"""
import math
from collections import Counter

from django.db import transaction
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import StrIndex, Substr

from ..choices import SessionStatus
from ..models import AnalysisTemplate, CorrelationReport, DeadLetter, LateEvent, Session, SessionConclusion, SessionNode, SessionRuleError

# Rejection reasons that carry per-line detail (the parser's exception text, the bad value, the join value,
# CEL's message) are grouped by their fixed beginning, as written by jobs/sessionize/logic/records.py and the
# sink's orphan wrapper. The dead-letters page filters reasons by prefix, so each kind links to exactly its lines.
ORPHAN_REASON = "orphan supplement"
DETAILED_REASONS = (ORPHAN_REASON, "bad JSON", "not valid UTF-8 text", "unparseable time", "job error")
# "rule nodes.<node>.when failed: <message>": one kind per node, cut before the message.
RULE_FAILURE, RULE_FAILURE_END = "rule nodes.", ".when failed"
HISTORY_LENGTH = 10


def build_report(template: AnalysisTemplate, since_ms: int | None = None, until_ms: int | None = None) -> CorrelationReport:
    """Compute and store the report of `template` for [since_ms, until_ms) (None: unbounded)."""
    if since_ms is not None and until_ms is not None and since_ms >= until_ms:
        raise ValueError("the window start must be before its end")
    with transaction.atomic():
        sessions = _window(Session.objects.filter(template=template), "start_ms", since_ms, until_ms)
        report = CorrelationReport(template=template, since_ms=since_ms, until_ms=until_ms, **_session_counts(sessions))
        report.with_conclusion = _conclusion_counts(template, since_ms, until_ms)
        report.accepted_by_source = _accepted_by_source(template, since_ms, until_ms)
        report.rejected_by_reason = _rejected_by_reason(template, since_ms, until_ms)
        report.rule_errors = rule_error_counts(template, since_ms, until_ms)
        report.orphan_supplements = sum(r["count"] for r in report.rejected_by_reason if r["reason"] == ORPHAN_REASON)
        late = _window(LateEvent.objects.filter(template=template), "event_ms", since_ms, until_ms).aggregate(
            pending=Count("id", filter=Q(replayed_ms__isnull=True)), replayed=Count("id", filter=Q(replayed_ms__isnull=False))
        )
        report.late_pending, report.late_replayed = late["pending"], late["replayed"]
        report.duration_p50_ms = _duration_percentile(sessions, report.sessions, 0.50)
        report.duration_p95_ms = _duration_percentile(sessions, report.sessions, 0.95)
        report.save()
    return report


def latest_report(template: AnalysisTemplate) -> CorrelationReport | None:
    return template.correlation_reports.order_by("-created_at", "-id").first()


def report_history(template: AnalysisTemplate, limit: int = HISTORY_LENGTH) -> list[CorrelationReport]:
    """The newest reports first; the first one is the latest (one query serves the panel and its history)."""
    return list(template.correlation_reports.order_by("-created_at", "-id")[:limit])


def _window(queryset: QuerySet, column: str, since_ms: int | None, until_ms: int | None) -> QuerySet:
    if since_ms is not None:
        queryset = queryset.filter(**{f"{column}__gte": since_ms})
    if until_ms is not None:
        queryset = queryset.filter(**{f"{column}__lt": until_ms})
    return queryset


def _session_counts(sessions: QuerySet) -> dict[str, int]:
    """One pass over the (template, start_ms) range: totals by status and split."""
    counts = sessions.aggregate(
        sessions=Count("id"),
        complete=Count("id", filter=Q(status=SessionStatus.COMPLETE)),
        closed=Count("id", filter=Q(status=SessionStatus.CLOSED)),
        open=Count("id", filter=Q(status=SessionStatus.OPEN)),
        split=Count("id", filter=Q(split=True)),
    )
    return {name: value or 0 for name, value in counts.items()}


def rule_error_counts(template: AnalysisTemplate, since_ms: int | None = None, until_ms: int | None = None) -> dict[str, int]:
    """How often each rule failed: session rules from luna_session_rule_error (on its (template, rule, start) index),
    node `when` rules from the dead letters they sent there ("rule nodes.<node>.when failed: ..."), largest first."""
    counts: Counter = Counter()
    rows = _window(SessionRuleError.objects.filter(template=template), "start_ms", since_ms, until_ms)
    counts.update(dict(rows.values_list("rule").annotate(n=Count("id")).order_by()))
    letters = _window(DeadLetter.objects.filter(template=template, reason__startswith="rule nodes."), "created_ms", since_ms, until_ms)
    for reason, n in letters.values_list("reason").annotate(n=Count("id")).order_by():
        counts[reason.removeprefix("rule ").split(" failed", 1)[0]] += n
    return dict(counts.most_common())


def _conclusion_counts(template: AnalysisTemplate, since_ms: int | None, until_ms: int | None) -> dict[str, int]:
    """Sessions per conclusion that holds; the copied start_ms keeps this on luna_concl_name_idx, no join."""
    rows = _window(SessionConclusion.objects.filter(template=template), "start_ms", since_ms, until_ms)
    return dict(rows.values_list("name").annotate(n=Count("id")).order_by("name"))


def _accepted_by_source(template: AnalysisTemplate, since_ms: int | None, until_ms: int | None) -> dict[str, int]:
    """Stored events per source; the template's sources that stored nothing are listed with 0."""
    version = template.current_version
    counts = {str(source.get("name")): 0 for source in (version.document.get("sources") or []) if isinstance(source, dict)} if version else {}
    nodes = _window(SessionNode.objects.filter(session__template=template), "session__start_ms", since_ms, until_ms)
    counts.update(nodes.values_list("source").annotate(n=Count("id")).order_by("source"))
    return dict(sorted(counts.items()))


def reason_kind() -> Case:
    """SQL expression: the reason, or its fixed beginning when the rest is per-line detail."""
    rule_kind = Substr("reason", 1, StrIndex("reason", Value(RULE_FAILURE_END)) + len(RULE_FAILURE_END) - 1)
    return Case(
        *(When(reason__startswith=prefix, then=Value(prefix)) for prefix in DETAILED_REASONS),
        When(reason__startswith=RULE_FAILURE, reason__contains=RULE_FAILURE_END + ":", then=rule_kind),
        default=F("reason"),
        output_field=CharField(),
    )


def _rejected_by_reason(template: AnalysisTemplate, since_ms: int | None, until_ms: int | None) -> list[dict]:
    """Dead letters by source and reason kind, largest first (windowed by when they were stored)."""
    rows = (
        _window(DeadLetter.objects.filter(template=template), "created_ms", since_ms, until_ms)
        .values("source", kind=reason_kind())
        .annotate(count=Count("id"))
        .order_by("-count", "source", "kind")
    )
    return [{"source": row["source"], "reason": row["kind"], "count": row["count"]} for row in rows]


def _duration_percentile(sessions: QuerySet, total: int, fraction: float) -> int | None:
    """Nearest-rank percentile: the ceil(fraction·n)-th shortest duration (one row read, LIMIT 1 OFFSET k)."""
    if total == 0:
        return None
    offset = max(math.ceil(fraction * total) - 1, 0)
    values = list(sessions.order_by("duration_ms").values_list("duration_ms", flat=True)[offset:offset + 1])
    return values[0] if values else None
