"""The columnar replica's status and refresh (thin: analytics/replica does the work)."""
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, Max, OuterRef, Sum

from sessions.models import AnalysisTemplate

from ..models import FactDay, ReplicaDay
from ..replica import build
from ..replica.read import enabled
from ..replica.versions import DAY_MS


def refresh(limit: int | None = None, template: AnalysisTemplate | None = None) -> list[build.Built]:
    """Stale days rebuilt, newest first (`limit` per run: the beat task's bounded work). Nothing on TiDB or when off."""
    if not enabled(connection):
        return []
    return build.refresh(limit, template.pk if template else None)


def status(template: AnalysisTemplate) -> dict[str, Any]:
    """What the replica holds for a template and how far behind it is (days the row store still answers)."""
    now = int(time.time() * 1000)
    today = now - now % DAY_MS
    days = FactDay.objects.filter(template=template)
    current = ReplicaDay.objects.filter(template_id=OuterRef("template_id"), day_ms=OuterRef("day_ms"), version=OuterRef("version"))
    stale = list(days.filter(day_ms__lt=today).exclude(Exists(current)).order_by("day_ms").values_list("day_ms", flat=True))
    held = ReplicaDay.objects.filter(template=template).aggregate(rows=Sum("rows"), built=Max("built_ms"))
    return {
        "template": template.name, "enabled": enabled(connection), "days": days.count(),
        "current_days": days.filter(Exists(current)).count(), "stale_days": len(stale), "stale": stale[:100],
        "oldest_stale_ms": stale[0] if stale else None, "today_ms": today, "rows": int(held["rows"] or 0),
        "last_built_ms": held["built"], "directory": str(settings.LUNA_FACT_REPLICA_DIR) if enabled(connection) else None,
    }
