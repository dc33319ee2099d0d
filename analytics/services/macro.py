"""Run a macro query on the `analytics` alias and shape the answer (derived measures computed here)."""
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections

from sessions.models import AnalysisTemplate, Session

from ..db import ALIAS
from ..models import Rollup, SessionContribution
from ..query.buckets import BucketError
from ..query.compiler import Compiled, compile_query, share_column
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


def prepare(query: MacroQuery, connection: Any = None) -> tuple[AnalysisTemplate, Plan, Compiled]:
    """Plan and compile for `connection` (default: the analytics alias) without running anything."""
    connection = connection or connections[ALIAS]
    template = template_for(query.template)
    try:
        chosen = plan(query, template_dimensions(template))
    except (PlanError, BucketError) as exc:
        raise QueryError(str(exc)) from None
    return template, chosen, compile_query(query, chosen, template.pk, connection, printer_for(connection))


def run(query: MacroQuery) -> MacroResult:
    connection = connections[ALIAS]
    template, chosen, compiled = prepare(query, connection)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params)
        raw = cursor.fetchall()
    dims = [d.name for d in query.dimensions]
    rows = []
    for values in raw:
        record = dict(zip(compiled.columns, values))
        if not record.get("x_sessions"):
            continue  # rollup rows whose sessions were all retracted, or an empty range
        rows.append([_plain(v) for v in values[:len(dims)]] + [_measure(i, m, record, chosen.source) for i, m in enumerate(query.measures)])
    return MacroResult(dims + [m.name for m in query.measures], rows, chosen.source, chosen.reason, dialect_of(connection),
                       compiled.sql, compiled.params, chosen.grain, provisional(query, template, chosen))


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _measure(index: int, measure: Measure, record: dict[str, Any], source: str) -> Any:
    sessions = int(record["x_sessions"])
    if measure.kind == "sessions":
        return sessions
    if measure.kind == "share":
        return round(int(record[share_column(index)] or 0) / sessions, 6)
    if measure.kind == "completeness":
        value = float(record["x_completeness"] or 0)
        return round(value / sessions / 10_000 if source == "rollups" else value, 6)
    if source == "rollups":
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
        counted = sum(rows.values_list("sessions", flat=True))
    else:
        counted = Session.objects.using(ALIAS).filter(template=template, status="open", start_ms__gte=query.since_ms,
                                                      start_ms__lt=query.until_ms).count()
    settling = SessionContribution.objects.using(ALIAS).filter(template=template, pending_since_ms__isnull=False).count()
    return {"open_sessions": int(counted), "settling": settling}
