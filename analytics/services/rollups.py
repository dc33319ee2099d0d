"""Rollup maintenance outside the sink: settle provisional sessions (beat), rebuild from stored sessions."""
from django.db import connection, transaction

from sessions.models import AnalysisTemplate, Session

from ..models import Rollup, RollupDays, RollupHours, SessionContribution
from ..query.printers import dialect_of
from ..rollups.upkeep import RollupUpkeep, settle_ms_from_env
from .facts import backfill
from .macro import template_dimensions
from .stored import stored_documents

REBUILD_CHUNK = 2000


def settle(now_ms: int | None = None) -> int:
    """Apply every pending provisional session that has been stable for the settle time; returns how many."""
    settled = 0
    for template_id in SessionContribution.objects.filter(pending_since_ms__isnull=False).values_list("template_id", flat=True).distinct():
        with transaction.atomic(), connection.cursor() as cur:
            settled += RollupUpkeep(template_id, dialect_of(connection), settle_ms=settle_ms_from_env()).settle(cur, now_ms=now_ms)
    return settled


def rebuild(template: AnalysisTemplate) -> int:
    """Recompute a template's rollups and fact rows from its stored sessions (sessions written before they existed).

    Run it while the template's job is stopped: the sink keeps the rollups from then on.
    """
    dimensions = template_dimensions(template)
    upkeep = RollupUpkeep(template.pk, dialect_of(connection), settle_ms=0, enabled=True)
    upkeep.dimensions.pin(dimensions)
    written = 0
    with transaction.atomic():
        Rollup.objects.filter(template=template).delete()
        RollupHours.objects.filter(template=template).delete()
        RollupDays.objects.filter(template=template).delete()
        SessionContribution.objects.filter(template=template).delete()
        ids = list(Session.objects.filter(template=template).order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), REBUILD_CHUNK):
            chunk = ids[start:start + REBUILD_CHUNK]
            with connection.cursor() as cur:
                upkeep.write(cur, stored_documents(template, chunk, dimensions), [])
            written += len(chunk)
    backfill(template)
    return written

