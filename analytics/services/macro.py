"""Run a macro query on the `analytics` alias and shape the answer (derived measures computed here)."""
from dataclasses import replace
from typing import Any

from django.db import connections
from django.db.models import Sum

from sessions.models import AnalysisTemplate, Session, TemplateVersion

from ..db import ALIAS
from ..models import Rollup, RollupSpan, SessionContribution
from ..query.buckets import BucketError
from ..query.compiler import OPEN, Compiled, compile_query
from ..query.planner import Plan, PlanError, coarsest_grain, plan
from ..query.printers import dialect_of, printer_for
from ..query.spec import MacroQuery
from ..replica import read as replica
from ..rollups.contribution import slots
from .answer import MacroResult, axes, collection_paused, fold_histograms, folded_columns, hour_series, shape, to_series, unpivot_nodes

__all__ = ["MacroResult", "QueryError", "prepare", "run", "template_for"]


class QueryError(ValueError):
    """Bad query for this installation (unknown template, uncovered forced source, too many buckets): a 400."""


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
    fetched = replica.fetch(query, chosen, template.pk, connection) if chosen.source == "facts" and replica.enabled(connection) else None
    if fetched is not None:  # current days from the columnar replica, the others from the row store
        raw, compiled = fetched.raw, fetched.compiled
        chosen = replace(chosen, reason=f"{chosen.reason}; {fetched.note}")
    else:
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params)
            raw = cursor.fetchall()
    dims = [d.name for d in query.dimensions]
    columns = compiled.columns
    counted = None
    if OPEN in columns:  # the open sessions among the rows read: no second query
        at = columns.index(OPEN)
        counted = int(sum(row[at] or 0 for row in raw))
    if compiled.hours:
        series = hour_series(raw, columns, query)
    else:
        if compiled.fold or compiled.pivot:
            records = [dict(zip(columns, values)) for values in raw]
            if compiled.fold:
                records = fold_histograms(records, columns[:len(dims)])
            if compiled.pivot:
                records = unpivot_nodes(records, query, compiled.pivot)
            columns = list(records[0]) if records else folded_columns(columns, len(dims), compiled.fold)
            raw = [tuple(record.values()) for record in records]
        with collection_paused():
            series = to_series(shape(raw, columns, query, chosen.source, compiled.histogram_from), query)
    x, keyed = axes(query)
    return MacroResult(dims, [m.name for m in query.measures], None if x is None else dims[x], [dims[i] for i in keyed], series,
                       chosen.source, chosen.reason, dialect_of(connection), compiled.sql, compiled.params, chosen.grain,
                       provisional(query, template, chosen, counted))


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
