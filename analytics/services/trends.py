"""Trend snapshots: how many sessions are in flight and where they wait, stored as a time series."""
import time
from collections import Counter

from sessions.models import AnalysisTemplate, Session, SessionNode

from ..models import TrendSnapshot
from .macro import template_for

HOUR_MS = 3_600_000


def take(now_ms: int | None = None) -> int:
    """One snapshot per template; returns how many were stored."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    taken = 0
    for template in AnalysisTemplate.objects.all():
        version = template.current_version
        order = [n["name"] for n in (version.document.get("nodes") or [])] if version else []
        open_ids = list(Session.objects.filter(template=template, status="open").values_list("id", flat=True))
        furthest: dict[int, int] = {}
        for session_id, node in SessionNode.objects.filter(session_id__in=open_ids).values_list("session_id", "node").distinct():
            furthest[session_id] = max(furthest.get(session_id, -1), order.index(node) if node in order else -1)
        waiting = Counter(order[i] if i >= 0 else "(unknown)" for i in furthest.values())
        finished = Session.objects.filter(template=template, updated_ms__gte=now_ms - HOUR_MS).exclude(status="open").count()
        TrendSnapshot.objects.create(template=template, taken_ms=now_ms, open_sessions=len(open_ids),
                                     finished_last_hour=finished, waiting_at=dict(waiting))
        taken += 1
    return taken


def series(template_name: str, since_ms: int, until_ms: int) -> list[TrendSnapshot]:
    return list(TrendSnapshot.objects.filter(template=template_for(template_name), taken_ms__gte=since_ms, taken_ms__lt=until_ms)
                .order_by("taken_ms"))
