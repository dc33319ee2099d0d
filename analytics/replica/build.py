"""Build replica days: one consistent read (the day's version and its rows in one transaction), a file written
atomically, then its record. Stale days are those whose record is missing or names another version; the current UTC
day is left to the row store (it changes with every batch)."""
import logging
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from ..models import FactDay, ReplicaDay
from . import files
from .versions import DAY_MS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Built:
    template_id: int
    day_ms: int
    version: int
    rows: int
    seconds: float


def build_day(template_id: int, day_ms: int) -> Built | None:
    """The file of one day at its current version (None: the fact table has never held that day)."""
    started = time.perf_counter()
    # The version is read first: rows read after it can only be newer, and then the version has moved too, so such a
    # file is never current (safe under Django's READ COMMITTED as under a snapshot)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT version FROM analytics_fact_days WHERE template_id = %s AND day_ms = %s", [template_id, day_ms])
        found = cur.fetchone()
        if found is None:
            return None
        cur.execute(f"SELECT {', '.join(files.COLUMNS)} FROM analytics_session_fact WHERE template_id = %s "
                    f"AND start_ms >= %s AND start_ms < %s", [template_id, day_ms, day_ms + DAY_MS])
        rows = cur.fetchall()
    version = int(found[0])
    columns = list(zip(*rows)) if rows else [() for _ in files.COLUMNS]
    if rows:
        files.write(template_id, day_ms, version, files.table_of(columns))
    record(template_id, day_ms, version, len(rows))
    return Built(template_id, day_ms, version, len(rows), time.perf_counter() - started)


def record(template_id: int, day_ms: int, version: int, rows: int) -> None:
    """The record names the new file unless a build of a later version got there first; other files go."""
    with transaction.atomic():
        held = ReplicaDay.objects.select_for_update().filter(template_id=template_id, day_ms=day_ms).first()
        if held is not None and held.version > version:
            files.remove_others(template_id, day_ms, held.version)
            return
        ReplicaDay.objects.update_or_create(template_id=template_id, day_ms=day_ms,
                                            defaults={"version": version, "rows": rows, "built_ms": int(time.time() * 1000)})
    files.remove_others(template_id, day_ms, version if rows else None)


def forget(template_id: int, day_ms: int) -> None:
    """A file found bad by a reader: its record goes, so the next refresh rebuilds the day."""
    ReplicaDay.objects.filter(template_id=template_id, day_ms=day_ms).delete()
    log.warning("replica file of template %s, day %s unreadable: its record dropped, the day is read from the row store",
                template_id, day_ms)


def stale_days(template_id: int | None = None, now_ms: int | None = None):
    """Days (newest first) whose record is missing or older than the day's version, before the current UTC day."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    current = ReplicaDay.objects.filter(template_id=OuterRef("template_id"), day_ms=OuterRef("day_ms"), version=OuterRef("version"))
    days = FactDay.objects.filter(day_ms__lt=now_ms - now_ms % DAY_MS).exclude(Exists(current))
    if template_id is not None:
        days = days.filter(template_id=template_id)
    return days.order_by("-day_ms", "template_id").values_list("template_id", "day_ms")


def refresh(limit: int | None = None, template_id: int | None = None, now_ms: int | None = None) -> list[Built]:
    """Build up to `limit` stale days (all when None): the beat task's bounded run and the command's."""
    days = stale_days(template_id, now_ms)
    built = []
    for template, day in (days[:limit] if limit is not None else days):
        done = build_day(template, day)
        if done is not None:
            built.append(done)
    return built
