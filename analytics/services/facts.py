"""Fact-table maintenance outside the sink: backfill from stored sessions (written before the table existed). Both
writes go through the sink's upkeep or `delete_facts`, so the replica's day versions move with them."""
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from sessions.models import AnalysisTemplate, Session

from ..facts.upkeep import FactUpkeep, delete_facts
from ..models import SessionFact
from ..query.printers import dialect_of
from ..rollups.dimensions import TemplateDimensions
from .macro import template_dimensions
from .stored import stored_documents

BACKFILL_BATCH = 5000


def backfill(template: AnalysisTemplate, batch: int = BACKFILL_BATCH, ids: list[int] | None = None) -> int:
    """Write the fact rows of a template's stored sessions (all, or `ids`), one transaction per batch, and drop
    rows of sessions that no longer exist. Safe beside a running job: both write the latest revision."""
    dimensions = template_dimensions(template)
    pinned = TemplateDimensions(template.pk, "")
    pinned.pin(dimensions)
    upkeep = FactUpkeep(template.pk, dialect_of(connection), pinned, enabled=True)
    written, after = 0, None
    while True:
        if ids is None:
            sessions = Session.objects.filter(template=template).order_by("pk")
            chunk = list((sessions.filter(pk__gt=after) if after is not None else sessions).values_list("pk", flat=True)[:batch])
        else:
            chunk, ids = ids[:batch], ids[batch:]
        if not chunk:
            break
        with transaction.atomic(), connection.cursor() as cur:
            upkeep.write(cur, stored_documents(template, chunk, dimensions), [])
        written, after = written + len(chunk), chunk[-1]
    orphans = SessionFact.objects.filter(template=template).exclude(Exists(Session.objects.filter(pk=OuterRef("session_id"))))
    while gone := list(orphans.values_list("session_id", flat=True)[:batch]):
        with transaction.atomic(), connection.cursor() as cur:
            delete_facts(cur, dialect_of(connection), gone)
    return written
