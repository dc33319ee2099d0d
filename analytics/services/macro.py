"""Run a macro query on the `analytics` alias and shape the answer (derived measures computed here)."""
import gc
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import groupby
from decimal import Decimal
from typing import Any, Callable, Iterator

from django.db import connections
from django.db.models import Sum

from sessions.models import AnalysisTemplate, Session, TemplateVersion

from ..db import ALIAS
from ..models import Rollup, RollupSpan, SessionContribution
from ..query.buckets import BucketError
from ..query.compiler import OPEN, Compiled, compile_query, node_column, share_column
from ..query.planner import Plan, PlanError, coarsest_grain, plan
from ..query.printers import dialect_of, printer_for
from ..query.spec import MacroQuery, Measure
from ..rollups.contribution import HOUR_MS, slots
from ..rollups.histogram import COLUMNS as HISTOGRAM, percentile


class QueryError(ValueError):
    """Bad query for this installation (unknown template, uncovered forced source, too many buckets): a 400."""


@dataclass
class MacroResult:
    columns: list[str]
    rows: list[list[Any]]
    source: str
    reason: str
    dialect: str
    sql: str
    params: list
    grain: str | None = None
    provisional: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns, "rows": self.rows, "source": self.source, "reason": self.reason, "grain": self.grain,
            "dialect": self.dialect, "sql": self.sql, "params": [str(p) for p in self.params], "provisional": self.provisional,
        }


def template_for(name: str) -> AnalysisTemplate:
    template = AnalysisTemplate.objects.filter(name=name).first()
    if template is None:
        raise QueryError(f"no template named {name!r}")
    return template


def template_dimensions(template: AnalysisTemplate, version: TemplateVersion | None = None) -> list[str]:
    version = version or template.current_version
    return list((version.document or {}).get("dimensions") or []) if version else []


def template_nodes(template: AnalysisTemplate, version: TemplateVersion | None = None) -> tuple[str, ...]:
    version = version or template.current_version
    return tuple(n["name"] for n in (version.document or {}).get("nodes") or () if n.get("name")) if version else ()


def rollup_layouts(template: AnalysisTemplate) -> tuple[str, ...]:
    """Every `dim_names` the template's rollup rows can hold: the slot layout of each of its versions (the sink and
    the rebuild write a version's layout; versions are never edited). Rows of all of them count in a query without a
    field dimension, and naming them lets the index range over bucket_ms. One small query on the versions: a DISTINCT
    over the rollups took 20–60 ms at 10 M sessions under load."""
    versions = TemplateVersion.objects.filter(template=template).values_list("document__dimensions", flat=True)
    return tuple(sorted({",".join(slots(dimensions or ())) for dimensions in versions}))


def histogram_span(template: AnalysisTemplate) -> tuple[int, int] | None:
    """The histogram buckets the template's rollup rows can hold (one primary-key read; None: not known, all 64)."""
    span = RollupSpan.objects.filter(template=template).values_list("low", "high").first()
    return (int(span[0]), int(span[1])) if span else None


def prepare(query: MacroQuery, connection: Any = None) -> tuple[AnalysisTemplate, Plan, Compiled]:
    """Plan and compile for `connection` (default: the analytics alias) without running anything."""
    connection = connection or connections[ALIAS]
    version = (TemplateVersion.objects.select_related("template").filter(template__name=query.template)
               .order_by("-number").first())  # the template and its current version in one read
    template = version.template if version else template_for(query.template)
    try:
        chosen = plan(query, template_dimensions(template, version), nodes=template_nodes(template, version))
    except (PlanError, BucketError) as exc:
        raise QueryError(str(exc)) from None
    if chosen.source == "rollups" and not any(item.kind == "field" for item in [*query.dimensions, *query.filters]):
        chosen = replace(chosen, layouts=rollup_layouts(template))
    if chosen.source == "rollups" and any(m.kind == "percentile" for m in query.measures):
        chosen = replace(chosen, span=histogram_span(template))
    return template, chosen, compile_query(query, chosen, template.pk, connection, printer_for(connection))


def run(query: MacroQuery) -> MacroResult:
    connection = connections[ALIAS]
    template, chosen, compiled = prepare(query, connection)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params)
        raw = cursor.fetchall()
    dims = [d.name for d in query.dimensions]
    columns = compiled.columns
    counted = None
    if OPEN in columns:  # the open sessions among the rows read: no second query
        at = columns.index(OPEN)
        counted = int(sum(row[at] or 0 for row in raw))
    if compiled.fold or compiled.pivot:
        records = [dict(zip(columns, values)) for values in raw]
        if compiled.fold:
            records = fold_histograms(records, columns[:len(dims)])
        if compiled.pivot:
            records = unpivot_nodes(records, query, compiled.pivot)
        columns = list(records[0]) if records else columns
        raw = [tuple(record.values()) for record in records]
    with collection_paused():
        rows = (hour_rows(raw, columns, query) if compiled.hours
                else shape(raw, columns, query, chosen.source, compiled.histogram_from))
    return MacroResult(dims + [m.name for m in query.measures], rows, chosen.source, chosen.reason, dialect_of(connection),
                       compiled.sql, compiled.params, chosen.grain, provisional(query, template, chosen, counted))


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large answer is built: 50k result rows are 50k new lists, and the
    collections they trigger walk every object of the process (measured: 40 ms → 40–130 ms of CPU for an hourly chart
    at 1 M sessions). The rows hold no cycles; anything else waits a few milliseconds for its collection."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def shape(raw: list[tuple], columns: list[str], query: MacroQuery, source: str, histogram_from: int = 0) -> list[list[Any]]:
    """SQL rows (dimensions, then additive aggregates) → result rows (dimensions, then measures). Tuples and
    per-measure readers, not a dict per row: 50k rows of an hour × conclusion × channel chart cost 3× less.
    `histogram_from`: the first histogram bucket the packed rollup histogram holds."""
    at = {name: i for i, name in enumerate(columns)}
    width = len(query.dimensions)
    blank = [i for i, d in enumerate(query.dimensions) if d.kind == "field" and source != "fields"]
    readers = [_reader(i, m, at, source, histogram_from) for i, m in enumerate(query.measures)]
    counted = at["x_sessions"]
    rows = []
    for values in raw:
        sessions = values[counted]
        if not sessions:
            continue  # rollup rows whose sessions were all retracted, or an empty range
        head = [_plain(v) for v in values[:width]] if source == "fields" else list(values[:width])
        for i in blank:
            if head[i] == "":
                head[i] = None  # a missing dimension value is stored as ''
        sessions = int(sessions)
        rows.append(head + [read(values, sessions) for read in readers])
    return rows


def hour_rows(raw: list[tuple], columns: list[str], query: MacroQuery) -> list[list[Any]]:
    """Rows per day with 24 packed hourly counts (the day rows by start hour; sessions is the only measure) → one
    result row per hour in range, in the order the hour rows' SQL returns (every dimension ascending): rows sharing
    the dimensions up to the time dimension and the day are emitted hour by hour. Dimension values are converted
    once per day and series, not per hour."""
    at = next(i for i, d in enumerate(query.dimensions) if d.kind == "time")
    width, packed = len(query.dimensions), columns.index("x_hours")
    blank = {i for i, d in enumerate(query.dimensions) if d.kind == "field"}
    rows: list[list[Any]] = []
    for key, same_day in groupby(raw, key=lambda row: row[:at + 1]):
        series = []
        for row in same_day:
            values = [None if i in blank and v == "" else v for i, v in enumerate(row[:width])]
            series.append((values[:at], values[at + 1:], _counts(row[packed])))
        day = int(key[at])
        for hour in range(24):
            start = day + hour * HOUR_MS
            if not query.since_ms <= start < query.until_ms:
                continue
            if at:
                rows += [[*head, start, *tail, counts[hour]] for head, tail, counts in series if counts[hour]]
            else:  # time first (the usual chart): no head to unpack, a third less CPU per point
                rows += [[start, *tail, counts[hour]] for _, tail, counts in series if counts[hour]]
    return rows


def _counts(packed: str) -> list[int]:
    """'n0,n1,…' (PackedSums) → ints (MariaDB prints a DOUBLE sum as a plain integer below 10^15, in exponent form
    above)."""
    parts = packed.split(",")
    try:
        return list(map(int, parts))
    except ValueError:
        return [int(float(n)) for n in parts]


def fold_histograms(records: list[dict[str, Any]], groups: list[str]) -> list[dict[str, Any]]:
    """Rows per group × duration bucket (the fact table) → one row per group with the rollups' histogram columns."""
    merged: dict[tuple, dict[str, Any]] = {}
    for record in records:
        key = tuple(record[g] for g in groups)
        into = merged.get(key)
        if into is None:
            into = merged[key] = {**{g: record[g] for g in groups}, **{f"x_{h}": 0 for h in HISTOGRAM}}
        for name, value in record.items():
            if name not in groups and name != "x_bucket":
                into[name] = (into.get(name) or 0) + (value or 0)
        into[f"x_{HISTOGRAM[int(record['x_bucket'])]}"] += int(record["x_sessions"] or 0)
    return list(merged.values())


def unpivot_nodes(records: list[dict[str, Any]], query: MacroQuery, nodes: tuple[str, ...]) -> list[dict[str, Any]]:
    """One count per node in each row (the fact table) → one row per node reached, ordered like the SQL of the
    key-value path (every dimension ascending, missing values first)."""
    rows = []
    for record in records:
        for i, node in enumerate(nodes):
            if record.get(node_column(i)):
                rows.append({**{f"g_{d.name}": node if d.kind == "node" else record[f"g_{d.name}"] for d in query.dimensions},
                             "x_sessions": record[node_column(i)]})
    return sorted(rows, key=lambda row: [(value is not None, value) for value in list(row.values())[:len(query.dimensions)]])


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _reader(index: int, measure: Measure, at: dict[str, int], source: str, histogram_from: int = 0) -> Callable[[tuple, int], Any]:
    """How a measure is read from a row (values, its session count). Rollups and the fact table return additive
    aggregates (see the compiler); the key-value path the measures themselves."""
    if measure.kind == "sessions":
        return lambda values, sessions: sessions
    if measure.kind == "share":
        share = at[share_column(index)]
        return lambda values, sessions: round(int(values[share] or 0) / sessions, 6)
    if measure.kind == "completeness":
        total = at["x_completeness"]
        if source == "fields":
            return lambda values, sessions: round(float(values[total] or 0), 6)
        return lambda values, sessions: round(float(values[total] or 0) / sessions / 10_000, 6)
    if source != "fields" and measure.name not in at:
        if measure.kind == "percentile" and "x_histogram" in at:  # the rollups: packed 'n_from,…' (the span)
            packed, skipped = at["x_histogram"], [0] * histogram_from
            return lambda values, sessions: percentile(skipped + _counts(values[packed]), measure.p)
        if measure.kind == "percentile":  # the fact table, folded by the service
            buckets = [at[f"x_{h}"] for h in HISTOGRAM]
            return lambda values, sessions: percentile([int(values[b] or 0) for b in buckets], measure.p)
        durations = at["x_duration_sum"]
        if measure.kind == "sum":
            return lambda values, sessions: int(values[durations] or 0)
        return lambda values, sessions: round(int(values[durations] or 0) / sessions, 3)
    column = at[measure.name]

    def read(values: tuple, sessions: int) -> Any:
        value = _plain(values[column])
        return round(value, 6) if isinstance(value, float) else value

    return read


def provisional(query: MacroQuery, template: AnalysisTemplate, chosen: Plan, counted: int | None = None) -> dict[str, int]:
    """How much of the answer may still change: open sessions counted (`counted`: from the answer's own rows, the
    rollups and the fact table; else counted here over the range), and revisions still settling."""
    if counted is None and chosen.source == "rollups":
        # an hourly chart from day rows over part of a day: the hour rows of the range (the coarsest grain it aligns
        # with), every layout named so the covering index ranges over bucket_ms (status is filtered within it)
        grain = coarsest_grain(query, None) or chosen.grain
        layouts = chosen.layouts or rollup_layouts(template)
        rows = Rollup.objects.using(ALIAS).filter(template=template, grain=grain, dim_names__in=layouts, status="open",
                                                  bucket_ms__gte=query.since_ms, bucket_ms__lt=query.until_ms)
        counted = rows.aggregate(n=Sum("sessions"))["n"] or 0  # one row back, not one per rollup row
    elif counted is None:  # the key-value path
        counted = Session.objects.using(ALIAS).filter(template=template, status="open", start_ms__gte=query.since_ms,
                                                      start_ms__lt=query.until_ms).count()
    # the settle queue is row-store bookkeeping with no TiFlash replica: read on the default connection, which TiDB
    # serves from TiKV (the analytics alias restricts reads to TiFlash and would find no access path)
    settling = SessionContribution.objects.filter(template=template, pending_since_ms__isnull=False).count()
    return {"open_sessions": int(counted), "settling": settling}
