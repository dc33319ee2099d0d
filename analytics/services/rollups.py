"""Rollup maintenance outside the sink: settle provisional sessions (beat), rebuild from stored sessions."""
from collections import defaultdict

from django.db import connection, transaction

from sessions.models import AnalysisTemplate, Session, SessionConclusion, SessionField

from ..models import Rollup, SessionContribution
from ..query.printers import dialect_of
from ..rollups.upkeep import RollupUpkeep, settle_ms_from_env
from .macro import template_dimensions

REBUILD_CHUNK = 2000


def settle(now_ms: int | None = None) -> int:
    """Apply every pending provisional session that has been stable for the settle time; returns how many."""
    settled = 0
    for template_id in SessionContribution.objects.filter(pending_since_ms__isnull=False).values_list("template_id", flat=True).distinct():
        with transaction.atomic(), connection.cursor() as cur:
            settled += RollupUpkeep(template_id, dialect_of(connection), settle_ms=settle_ms_from_env()).settle(cur, now_ms=now_ms)
    return settled


def rebuild(template: AnalysisTemplate) -> int:
    """Recompute a template's rollups from its stored sessions (sessions written before the rollups existed).

    Run it while the template's job is stopped: the sink keeps the rollups from then on.
    """
    dimensions = template_dimensions(template)
    upkeep = RollupUpkeep(template.pk, dialect_of(connection), settle_ms=0)
    upkeep._dimensions, upkeep._dimensions_at = tuple(dimensions), float("inf")
    written = 0
    with transaction.atomic():
        Rollup.objects.filter(template=template).delete()
        SessionContribution.objects.filter(template=template).delete()
        ids = list(Session.objects.filter(template=template).order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), REBUILD_CHUNK):
            chunk = ids[start:start + REBUILD_CHUNK]
            with connection.cursor() as cur:
                upkeep.write(cur, _documents(template, chunk, dimensions), [])
            written += len(chunk)
    return written


def _documents(template: AnalysisTemplate, ids: list[int], dimensions: list[str]) -> list[dict]:
    """The parts of the session documents the rollups read, from the stored rows."""
    fields: dict[int, dict] = defaultdict(dict)
    for session_id, name, text, number in (SessionField.objects.filter(session_id__in=ids, name__in=dimensions)
                                           .order_by("id").values_list("session_id", "name", "str_value", "num_value")):
        fields[session_id].setdefault(name, text if text is not None else number)
    conclusions: dict[int, list] = defaultdict(list)
    for session_id, name, severity in SessionConclusion.objects.filter(session_id__in=ids).values_list("session_id", "name", "severity"):
        conclusions[session_id].append({"name": name, "severity": severity})
    return [
        {"uid": s.id, "start_ms": s.start_ms, "duration_ms": s.duration_ms, "status": s.status, "completeness": s.completeness,
         "primary_conclusion": s.primary_conclusion, "conclusions": conclusions[s.id], "fields": fields[s.id]}
        for s in Session.objects.filter(pk__in=ids).order_by("id")
    ]
