"""Run a macro query on the `analytics` alias and shape the answer (derived measures computed here)."""
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Sum

from sessions.models import AnalysisTemplate, Session

from ..db import ALIAS
from ..models import Rollup, SessionContribution
from ..query.buckets import BucketError
from ..query.compiler import Compiled, compile_query, node_column, share_column
from ..query.planner import Plan, PlanError, plan
from ..query.printers import dialect_of, printer_for
from ..query.spec import MacroQuery, Measure
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


def template_dimensions(template: AnalysisTemplate) -> list[str]:
    version = template.current_version
    return list((version.document or {}).get("dimensions") or []) if version else []


def template_nodes(template: AnalysisTemplate) -> tuple[str, ...]:
    version = template.current_version
    return tuple(n["name"] for n in (version.document or {}).get("nodes") or () if n.get("name")) if version else ()


def rollup_layouts(template: AnalysisTemplate, grain: str) -> tuple[str, ...]:
    """Every `dim_names` the template's rollup rows of a grain hold: rows of all of them count in a query without a
    field dimension, and naming them lets the index range over bucket_ms (a loose index scan, a few ms)."""
    rows = Rollup.objects.using(ALIAS).filter(template=template, grain=grain)
    return tuple(rows.order_by("dim_names").values_list("dim_names", flat=True).distinct())


def prepare(query: MacroQuery, connection: Any = None) -> tuple[AnalysisTemplate, Plan, Compiled]:
    """Plan and compile for `connection` (default: the analytics alias) without running anything."""
    connection = connection or connections[ALIAS]
    template = template_for(query.template)
    try:
        chosen = plan(query, template_dimensions(template), nodes=template_nodes(template))
    except (PlanError, BucketError) as exc:
        raise QueryError(str(exc)) from None
    if chosen.source == "rollups" and not any(item.kind == "field" for item in [*query.dimensions, *query.filters]):
        chosen = replace(chosen, layouts=rollup_layouts(template, chosen.grain))
    return template, chosen, compile_query(query, chosen, template.pk, connection, printer_for(connection))


def run(query: MacroQuery) -> MacroResult:
    connection = connections[ALIAS]
    template, chosen, compiled = prepare(query, connection)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params)
        raw = cursor.fetchall()
    dims = [d.name for d in query.dimensions]
    records = [dict(zip(compiled.columns, values)) for values in raw]
    if compiled.fold:
        records = fold_histograms(records, compiled.columns[:len(dims)])
    if compiled.pivot:
        records = unpivot_nodes(records, query, compiled.pivot)
    blank = {i for i, d in enumerate(query.dimensions) if d.kind == "field" and chosen.source != "fields"}
    rows = []
    for record in records:
        if not record.get("x_sessions"):
            continue  # rollup rows whose sessions were all retracted, or an empty range
        values = list(record.values())[:len(dims)]
        rows.append([None if i in blank and v == "" else _plain(v) for i, v in enumerate(values)]
                    + [_measure(i, m, record, chosen.source) for i, m in enumerate(query.measures)])
    return MacroResult(dims + [m.name for m in query.measures], rows, chosen.source, chosen.reason, dialect_of(connection),
                       compiled.sql, compiled.params, chosen.grain, provisional(query, template, chosen))


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


def _measure(index: int, measure: Measure, record: dict[str, Any], source: str) -> Any:
    """Rollups and the fact table return additive aggregates (see the compiler); the key-value path the measures."""
    sessions = int(record["x_sessions"])
    if measure.kind == "sessions":
        return sessions
    if measure.kind == "share":
        return round(int(record[share_column(index)] or 0) / sessions, 6)
    if measure.kind == "completeness":
        value = float(record["x_completeness"] or 0)
        return round(value if source == "fields" else value / sessions / 10_000, 6)
    if source != "fields" and measure.name not in record:
        if measure.kind == "percentile":
            return percentile([int(record[f"x_{h}"] or 0) for h in HISTOGRAM], measure.p)
        total = int(record["x_duration_sum"] or 0)
        return total if measure.kind == "sum" else round(total / sessions, 3)
    value = _plain(record[measure.name])
    return round(value, 6) if isinstance(value, float) else value


def provisional(query: MacroQuery, template: AnalysisTemplate, chosen: Plan) -> dict[str, int]:
    """How much of the answer may still change: open sessions counted, and revisions still settling."""
    if chosen.source == "rollups":
        rows = Rollup.objects.using(ALIAS).filter(template=template, grain=chosen.grain, status="open",
                                                  bucket_ms__gte=query.since_ms, bucket_ms__lt=query.until_ms)
        counted = rows.aggregate(n=Sum("sessions"))["n"] or 0  # one row back, not one per rollup row
    else:
        counted = Session.objects.using(ALIAS).filter(template=template, status="open", start_ms__gte=query.since_ms,
                                                      start_ms__lt=query.until_ms).count()
    settling = SessionContribution.objects.using(ALIAS).filter(template=template, pending_since_ms__isnull=False).count()
    return {"open_sessions": int(counted), "settling": settling}
