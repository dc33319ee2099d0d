"""Dashboard data: each panel's query run for the page's range, as a Plotly figure plus where it came from."""
import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from pydantic import ValidationError

from sessions.models import AnalysisTemplate

from ..models import Dashboard
from ..panels import PanelSpec, default_panels
from ..query.buckets import bucketing
from ..query.spec import Granularity
from . import figures, macro, trends


def visible_dashboards(user: AbstractBaseUser) -> QuerySet:
    return Dashboard.objects.filter(Q(shared=True) | Q(owner=user)).select_related("template")


def panels_of(template: AnalysisTemplate, dashboard: Dashboard | None) -> list[PanelSpec]:
    if dashboard is None:
        return default_panels(macro.template_dimensions(template))
    return [PanelSpec.model_validate(p) for p in dashboard.panels]


def panel_data(template: AnalysisTemplate, panels: list[PanelSpec], since_ms: int, until_ms: int, granularity: Granularity,
               time_zone: str) -> list[dict[str, Any]]:
    """Every panel's figure; a panel whose query cannot run says why instead of failing the page."""
    out = []
    for index, panel in enumerate(panels):
        entry: dict[str, Any] = {"index": index, "title": panel.title, "chart": panel.chart}
        try:
            query = panel.query(template.name, since_ms, until_ms, granularity, time_zone)
            result = macro.run(query)
            time = query.time_dimension
            buckets = bucketing(time.granularity, time_zone, since_ms, until_ms) if time else None
            entry.update(source=result.source, reason=result.reason, provisional=result.provisional, points=result.size,
                         figure=json.loads(json.dumps(figures.figure(panel, query, result, buckets), default=str)))
        except (ValidationError, macro.QueryError, ValueError) as exc:
            entry.update(error=str(exc).splitlines()[0][:300])
        out.append(entry)
    return out


def trend_panel(template: AnalysisTemplate, since_ms: int, until_ms: int, index: int) -> dict[str, Any]:
    """The in-flight trend from the periodic snapshots (not a macro query: it is live state over time)."""
    snapshots = trends.series(template.name, since_ms, until_ms)
    return {"index": index, "title": "In flight: open sessions by furthest node reached", "chart": "line",
            "source": "trend snapshots", "reason": f"{len(snapshots)} snapshots in range", "provisional": {},
            "points": len(snapshots), "figure": json.loads(json.dumps(figures.trend_figure(snapshots), default=str))}
