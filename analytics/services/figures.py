"""Macro results → Plotly figures (JSON for Plotly.newPlot); each point carries its search URL as customdata."""
import datetime as dt
from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go
from django.urls import reverse

from ..panels import PanelSpec
from ..query.buckets import Bucketing
from ..query.spec import MacroQuery
from .macro import MacroResult


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def search_url(query: MacroQuery, point: dict[str, Any], buckets: Bucketing | None) -> str:
    """The search page with the same template, time bucket, conclusion, status and field filter as the point."""
    params: dict[str, str] = {"template": query.template}
    since, until = query.since_ms, query.until_ms
    if "time" in point and buckets is not None and point["time"] is not None:
        since, until = max(since, int(point["time"])), min(until, buckets.end_of(int(point["time"])))
    params.update(since=iso(since), until=iso(until))
    conclusion = point.get("conclusion") or next((f.values[0] for f in query.filters if f.kind == "conclusion"), None)
    if conclusion:
        params["conclusion"] = conclusion
    status = point.get("status") or next((f.values[0] for f in query.filters if f.kind == "status"), None)
    if status:
        params["status"] = status
    fields = [(d.field, point.get(d.field)) for d in query.dimensions if d.kind == "field" and point.get(d.field) is not None]
    fields += [(f.field, f.values[0]) for f in query.filters if f.kind == "field"]
    if fields:  # the search form takes one field = value pair
        params.update(field=fields[0][0], value=str(fields[0][1]))
    return f"{reverse('sessions:search')}?{urlencode(params)}"


def figure(panel: PanelSpec, query: MacroQuery, result: MacroResult, buckets: Bucketing | None) -> dict[str, Any]:
    dims = [d.name for d in query.dimensions]
    records = [dict(zip(result.columns, row)) for row in result.rows]
    x_name = dims[0] if dims else None
    split = dims[1] if len(dims) > 1 else None
    traces = []
    for measure in query.measures:
        series: dict[Any, list[dict[str, Any]]] = {}
        for record in records:
            series.setdefault(record[split] if split else measure.name, []).append(record)
        for name, points in series.items():
            if panel.chart == "funnel":  # widest stage first: the behaviour tree's order for a funnel of nodes
                points = sorted(points, key=lambda p: -(p[measure.name] or 0))
            xs = [_x(p.get(x_name), x_name) for p in points] if x_name else [measure.name]
            ys = [p[measure.name] for p in points]
            urls = [search_url(query, p, buckets) for p in points]
            label = str(name) if split else measure.name
            if panel.chart == "funnel":
                traces.append(go.Funnel(y=xs, x=ys, name=label, customdata=urls))
            elif panel.chart in ("bar", "stacked"):
                traces.append(go.Bar(x=xs, y=ys, name=label or "(none)", customdata=urls))
            else:
                traces.append(go.Scatter(x=xs, y=ys, name=label or "(none)", mode="lines+markers", customdata=urls))
    layout = go.Layout(barmode="stack" if panel.chart == "stacked" else None, margin=dict(l=50, r=10, t=10, b=40),
                       height=300, legend=dict(orientation="h"))
    return go.Figure(data=traces, layout=layout).to_plotly_json()


def _x(value: Any, name: str | None) -> Any:
    return iso(int(value)) if name == "time" and value is not None else ("(none)" if value in (None, "") else value)


def trend_figure(snapshots: list) -> dict[str, Any]:
    """In-flight trend: open sessions, finished in the last hour, and open sessions per furthest node reached."""
    xs = [iso(s.taken_ms) for s in snapshots]
    nodes = sorted({node for s in snapshots for node in s.waiting_at})
    traces = [go.Scatter(x=xs, y=[s.open_sessions for s in snapshots], name="open", mode="lines"),
              go.Scatter(x=xs, y=[s.finished_last_hour for s in snapshots], name="finished (last hour)", mode="lines")]
    traces += [go.Scatter(x=xs, y=[s.waiting_at.get(node, 0) for s in snapshots], name=f"waiting at {node}", mode="lines")
               for node in nodes]
    layout = go.Layout(margin=dict(l=50, r=10, t=10, b=40), height=300, legend=dict(orientation="h"))
    return go.Figure(data=traces, layout=layout).to_plotly_json()
