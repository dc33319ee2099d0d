"""Macro results → Plotly figures (JSON for Plotly.newPlot); each point carries its search URL as customdata."""
import datetime as dt
from typing import Any
from urllib.parse import quote_plus, urlencode

import plotly.graph_objects as go
from django.urls import reverse

from ..panels import PanelSpec
from ..query.buckets import Bucketing
from ..query.spec import MacroQuery
from .answer import MacroResult


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SearchLinks:
    """Search URLs of a figure's points: the search page with the same template, time bucket, conclusion, status
    and field filter as the point. The path is reversed once and the encoded parts are kept (a bucket's times per
    time value, the filters per combination): one `reverse` and `urlencode` per point cost ~5 s of CPU for a 90-day
    hourly chart of 51,840 points. The text equals `urlencode` of the same parameters in the same order."""

    def __init__(self, query: MacroQuery, buckets: Bucketing | None) -> None:
        self.query, self.buckets = query, buckets
        self.head = f"{reverse('sessions:search')}?{urlencode({'template': query.template})}"
        self.conclusion = next((f.values[0] for f in query.filters if f.kind == "conclusion"), None)
        self.status = next((f.values[0] for f in query.filters if f.kind == "status"), None)
        self.fields = [d.field for d in query.dimensions if d.kind == "field"]
        self.filtered = next(((f.field, f.values[0]) for f in query.filters if f.kind == "field"), None)
        self.times: dict[int | None, str] = {}
        self.rests: dict[tuple, str] = {}

    def url(self, point: dict[str, Any]) -> str:
        return f"{self.head}{self._times(point.get('time') if self.buckets is not None else None)}{self._rest(point)}"

    def urls(self, fixed: dict[str, Any], x_name: str | None, xs: list) -> list[str]:
        """The links of a series' points: `fixed` holds its key dimensions, `xs` its x values (of `x_name`). Along
        the time axis only the time part changes: the rest is encoded once per series."""
        if x_name is None or (x_name == "time" and self.buckets is not None):
            rest = self._rest(fixed)
            return [f"{self.head}{self._times(x)}{rest}" for x in xs]
        times = self._times(None)
        return [f"{self.head}{times}{self._rest({**fixed, x_name: x})}" for x in xs]

    def _times(self, at: int | None) -> str:
        times = self.times.get(at)
        if times is None:  # the bucket's range, encoded once per time value
            since, until = self.query.since_ms, self.query.until_ms
            if at is not None:
                since, until = max(since, int(at)), min(until, self.buckets.end_of(int(at)))
            times = self.times[at] = f"&since={quote_plus(iso(since))}&until={quote_plus(iso(until))}"
        return times

    def _rest(self, point: dict[str, Any]) -> str:
        for name in self.fields:  # the search form takes one field = value pair: the point's, else a filter's
            if point.get(name) is not None:
                field = (name, point[name])
                break
        else:
            field = self.filtered
        key = (point.get("conclusion") or self.conclusion, point.get("status") or self.status, field)
        rest = self.rests.get(key)
        if rest is None:
            conclusion, status, _ = key
            params = {**({"conclusion": conclusion} if conclusion else {}), **({"status": status} if status else {}),
                      **({"field": field[0], "value": str(field[1])} if field else {})}
            rest = self.rests[key] = f"&{urlencode(params)}" if params else ""
        return rest


def search_url(query: MacroQuery, point: dict[str, Any], buckets: Bucketing | None) -> str:
    """The search page with the same template, time bucket, conclusion, status and field filter as the point."""
    return SearchLinks(query, buckets).url(point)


def figure(panel: PanelSpec, query: MacroQuery, result: MacroResult, buckets: Bucketing | None) -> dict[str, Any]:
    """One trace per measure × series (the answer is already columnar: its x list and value lists are the trace's),
    as plain dicts (what `to_plotly_json` gives for them); the layout through plotly (with its template): validating
    51,840-point traces through graph objects cost seconds of CPU and changed nothing in them."""
    links, labels = SearchLinks(query, buckets), {}  # labels: x axis text per value (a time's ISO text once)
    x_name = result.x
    traces = []
    for index, measure in enumerate(result.measures):
        for series in result.series:
            xs, ys = series.x, series.values[index]
            urls = links.urls(dict(zip(result.key, series.key)), x_name, xs)
            if panel.chart == "funnel":  # widest stage first: the behaviour tree's order for a funnel of nodes
                order = sorted(range(len(ys)), key=lambda i: -(ys[i] or 0))
                xs, ys, urls = [xs[i] for i in order], [ys[i] for i in order], [urls[i] for i in order]
            xs = [labels[v] if v in labels else labels.setdefault(v, _x(v, x_name)) for v in xs] if x_name else [measure]
            label = " · ".join("(none)" if v in (None, "") else str(v) for v in series.key) if series.key else measure
            if panel.chart == "funnel":
                traces.append({"customdata": urls, "name": label, "x": ys, "y": xs, "type": "funnel"})
            elif panel.chart in ("bar", "stacked"):
                traces.append({"customdata": urls, "name": label, "x": xs, "y": ys, "type": "bar"})
            else:
                traces.append({"customdata": urls, "mode": "lines+markers", "name": label, "x": xs, "y": ys, "type": "scatter"})
    layout = go.Layout(barmode="stack" if panel.chart == "stacked" else None, margin=dict(l=50, r=10, t=10, b=40),
                       height=300, legend=dict(orientation="h"))
    return {**go.Figure(layout=layout).to_plotly_json(), "data": traces}


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
