"""Late-data replay (SPEC §4): events beyond allowed_lateness, queued by the job in luna_late_event, are
re-applied to the stored sessions of their key by the same correlation code, producing new revisions.

For a late supplement the session key is found through the key-value rows (join field = join value): the
column-to-row storage is what makes this lookup an indexed query instead of a scan.
"""
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.errors import job_error
from jobs.sessionize.logic.records import Event, Rejection, parse_line
from jobs.sessionize.logic.sessions import Emission, Orphan
from jobs.sessionize.logic.template import CompiledTemplate
from jobs.sessionize.sink.dialects import connect
from jobs.sessionize.sink.writer import SessionWriter

from ..models import AnalysisTemplate, LateEvent, Session, SessionField
from .sink_database import database_url_for_jobs
from .session_store import stored_events


@dataclass
class ReplayResult:
    replayed: int = 0
    sessions_written: int = 0
    keys: list[str] = field(default_factory=list)
    dead_letters: int = 0


def replay_late_events(template: AnalysisTemplate, limit: int = 1000) -> ReplayResult:
    """Apply up to `limit` pending late events of the template; safe to run again (idempotent)."""
    version = template.current_version
    if version is None:
        return ReplayResult()
    tpl = version.compile()
    pending = list(LateEvent.objects.filter(template=template, replayed_ms__isnull=True).order_by("event_ms", "id")[:limit])
    if not pending:
        return ReplayResult()
    result = ReplayResult(replayed=len(pending))
    by_key, rejects = _group_by_session_key(template, tpl, pending)
    dialect, factory = connect(database_url_for_jobs())
    writer = SessionWriter(template.pk, dialect, factory)
    try:
        writer.write(rejects)
        for session_key, late_events in by_key.items():
            try:
                batch = _recorrelate(template, tpl, session_key, late_events)
            except Exception as exc:  # one key's failure must not keep the others (or the queue) stuck
                batch = [job_error(event, exc, "late replay") for event in late_events]
                result.dead_letters += len(batch)
            writer.write(batch)
            result.keys.append(session_key)
    finally:
        writer.close()
    result.sessions_written = writer.stats.sessions_written
    result.dead_letters += len(rejects)
    with transaction.atomic():
        LateEvent.objects.filter(pk__in=[p.pk for p in pending]).update(replayed_ms=int(time.time() * 1000))
    return result


def _group_by_session_key(
    template: AnalysisTemplate, tpl: CompiledTemplate, pending: list[LateEvent]
) -> tuple[dict[str, list[Event]], list[Rejection | Orphan]]:
    by_key: dict[str, list[Event]] = defaultdict(list)
    rejects: list[Rejection | Orphan] = []
    for late in pending:
        parsed = parse_line(tpl, late.source, late.raw, late.origin) if late.source in tpl.sources else None
        if not isinstance(parsed, Event):
            reason = parsed.reason if isinstance(parsed, Rejection) else "the current template version no longer uses this line"
            rejects.append(Rejection(late.source, f"late replay: {reason}", late.raw, late.origin))
            continue
        if not parsed.supplement:
            by_key[parsed.session_key].append(parsed)
            continue
        join_field = tpl.nodes[parsed.node].join.on
        owners = list(
            Session.objects.filter(
                template=template,
                pk__in=SessionField.objects.filter(template=template, name=join_field, str_value=parsed.join_key).values("session_id"),
            ).values_list("session_key", flat=True).distinct()
        )
        if not owners:
            rejects.append(Orphan(parsed, f"late, and no stored session carries {join_field}={parsed.join_key}"))
        for owner in owners:
            by_key[owner].append(parsed)
    return by_key, rejects


def _recorrelate(template: AnalysisTemplate, tpl: CompiledTemplate, session_key: str, late: list[Event]) -> list:
    """Stored events of the key + the late ones, through the pure engine; revisions continue upwards."""
    stored = list(Session.objects.filter(template=template, session_key=session_key).prefetch_related("nodes"))
    events = stored_events(stored, tpl)
    correlator = Correlator(tpl)
    for event in sorted([*events, *late], key=lambda e: (e.ts, e.uid)):
        correlator.add_event(event)
        correlator.advance(max(correlator.max_ts, event.ts))
    correlator.finish()
    base = max((s.revision for s in stored), default=0)
    stale = [s.pk for s in stored if s.pk not in correlator.store]
    emissions = [
        Emission(base + item.revision, item.document, stale, cause="late_replay")
        for item in sorted(correlator.store.values(), key=lambda s: s.document["start_ms"])
    ]
    return [*emissions, *correlator.orphans]
