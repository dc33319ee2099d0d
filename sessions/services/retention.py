"""Retention (SPEC §5): a template's `retention` (e.g. "90d") deletes its sessions that started longer ago, with
their rows, in batches (no long lock, no huge transaction), plus dead letters and replayed late events of the same age.

On TiDB the session, conclusion and rule-error tables are partitioned by day of the session start
(sessions/tidb_partitions.py): days that every template has given up are dropped whole first (their field, node and
revision rows, which carry no start time, deleted in batches by session before), and day partitions are kept ready
ahead. What is left (a template with a longer retention shares the day) goes the batched way, as on every backend.
"""
import time
from dataclasses import dataclass

from django.db import connection, transaction

from analytics.facts.upkeep import delete_facts
from analytics.query.printers import dialect_of

from ..models import AnalysisTemplate, DeadLetter, LateEvent, Session, SessionRevision
from ..models.sessions import SessionConclusion, SessionField, SessionNode, SessionRuleError
from ..tidb import is_tidb
from ..tidb_partitions import TIME_PARTITIONED, expired, extend_ddl, partitions_of
from .paging import after

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
            with connection.cursor() as cursor:  # the rollups keep their totals; the replica's day versions go up
                delete_facts(cursor, dialect_of(connection), ids)
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


def retention_horizon(now_ms: int) -> int | None:
    """The start time before which no template keeps anything; None when some template keeps sessions forever."""
    cutoffs = []
    for template in AnalysisTemplate.objects.all():
        version = template.current_version
        retention_ms = version.compile().retention_ms if version else None
        if retention_ms is None:
            return None
        cutoffs.append(now_ms - retention_ms)
    return min(cutoffs) if cutoffs else None


def drop_expired_partitions(now_ms: int | None = None, batch: int = BATCH) -> list[str]:
    """TiDB: keep day partitions ready ahead, then drop the days every template has given up ("table.partition"
    names returned). Elsewhere: nothing (the batched deletes do it all)."""
    if not is_tidb(connection):
        return []
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    listed = {table: partitions_of(connection, table) for table in TIME_PARTITIONED}
    with connection.cursor() as cursor:
        for table, partitions in listed.items():
            statement = extend_ddl(table, partitions, now_ms)
            if statement:
                cursor.execute(statement)
    horizon = retention_horizon(now_ms)
    doomed = {table: expired(partitions, horizon) for table, partitions in listed.items()} if horizon is not None else {}
    if not doomed.get("luna_session"):
        return []
    bound = max(int(b) for name, b in listed["luna_session"] if name in doomed["luna_session"])
    _purge_unpartitioned_rows(bound, batch)
    with connection.cursor() as cursor:
        for table, names in doomed.items():
            if names:
                cursor.execute(f"ALTER TABLE `{table}` DROP PARTITION {', '.join(names)}")
    return [f"{table}.{name}" for table, names in doomed.items() for name in names]


def _purge_unpartitioned_rows(bound_ms: int, batch: int) -> None:
    """Field, node and revision rows of every session starting before `bound_ms`, in batches walked by keyset."""
    last = None
    while True:
        sessions = Session.objects.filter(start_ms__lt=bound_ms).order_by("start_ms", "id")
        if last is not None:
            sessions = sessions.filter(after("start_ms", False, *last))
        rows = list(sessions.values_list("start_ms", "id")[:batch])
        if not rows:
            return
        ids = [row_id for _, row_id in rows]
        with transaction.atomic():
            for model in (SessionField, SessionNode):
                model.objects.filter(session_id__in=ids).delete()
            SessionRevision.objects.filter(session_id__in=ids).delete()
        last = rows[-1]
