"""Retention (SPEC §5): a template's `retention` (e.g. "90d") deletes its sessions that started longer ago, with
their rows, in batches (no long lock, no huge transaction), plus dead letters and replayed late events of the same age.

Batched deletes on every backend; TiDB's time partitions would make this a partition drop, but they need the session
start in the primary key (not the case today): noted in the architecture page as the next step on TiDB."""
import time
from dataclasses import dataclass

from django.db import transaction

from analytics.models import SessionFact

from ..models import AnalysisTemplate, DeadLetter, LateEvent, Session, SessionRevision
from ..models.sessions import SessionConclusion, SessionField, SessionNode, SessionRuleError

BATCH = 1000


@dataclass
class Purged:
    sessions: int = 0
    dead_letters: int = 0
    late_events: int = 0


def apply_retention(template: AnalysisTemplate, now_ms: int | None = None, batch: int = BATCH) -> Purged:
    version = template.current_version
    retention_ms = version.compile().retention_ms if version else None
    if retention_ms is None:
        return Purged()
    cutoff = (now_ms if now_ms is not None else int(time.time() * 1000)) - retention_ms
    purged = Purged()
    while True:
        ids = list(Session.objects.filter(template=template, start_ms__lt=cutoff).order_by("start_ms").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        with transaction.atomic():
            for model in (SessionField, SessionNode, SessionConclusion, SessionRuleError):
                model.objects.filter(session_id__in=ids).delete()
            SessionRevision.objects.filter(session_id__in=ids).delete()
            SessionFact.objects.filter(session_id__in=ids).delete()  # the rollups keep their totals
            purged.sessions += Session.objects.filter(pk__in=ids).delete()[0]
    purged.dead_letters = _batched(DeadLetter.objects.filter(template=template, created_ms__lt=cutoff), batch)
    purged.late_events = _batched(LateEvent.objects.filter(template=template, created_ms__lt=cutoff, replayed_ms__isnull=False), batch)
    return purged


def _batched(queryset, batch: int) -> int:
    total = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        total += queryset.model.objects.filter(pk__in=ids).delete()[0]
