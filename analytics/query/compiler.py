"""Spec + plan → SQL: through the ORM (values + aggregates), and through the backend's printer for percentiles
over the key-value rows (MariaDB has no percentile aggregate) and statement hints (TiDB).

The SQL returns the dimensions (as `g_<name>`, in order), then aggregates; internal ones start with `x_`. The
rollups and the session fact table return the same additive aggregates (counts, sums, histogram), so the service
derives measures from either the same way; the fact table's histogram is a GROUP BY of the bucket (`fold`).
"""
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum, Value

from sessions.models import Session, SessionConclusion, SessionField, SessionNode

from ..facts.row import dim_key
from ..models import Rollup, RollupDays, RollupHours, SessionFact
from ..rollups.histogram import COLUMNS as HISTOGRAM
from ..rollups.contribution import GRAINS, HOUR_COLUMNS
from .functions import ApproxPercentile, CountSum, PackedSums, TimeBucket, boundary_bucket
from .planner import Plan
from .printers import Aggregate, Printer
from .spec import DURATION, Dimension, MacroQuery, Measure


@dataclass
class Compiled:
    sql: str
    params: list
    columns: list[str]  # what the SQL returns, in order
    post: list[Measure] = field(default_factory=list)  # measures derived from returned columns in Python
    fold: bool = False  # rows are per group × histogram bucket (`x_bucket`): the service sums them per group
    pivot: tuple[str, ...] = ()  # node dimension on the fact table: `x_node_<i>` counts sessions reaching pivot[i]
    hours: bool = False  # rows per day with `x_hours` = 24 packed hourly counts: the service makes one row per hour
    histogram_from: int = 0  # rollups: `x_histogram` packs the buckets from this one on (the template's span)


def compile_query(query: MacroQuery, plan: Plan, template_id: int, connection: Any, printer: Printer) -> Compiled:
    fold, pivot = False, ()
    histogram_from = plan.span[0] if plan.source == "rollups" and plan.span else 0
    if plan.source == "rollups" and plan.hours:
        qs, columns = _hours_queryset(query, plan, template_id)
    elif plan.source == "rollups":
        qs, columns = _rollup_queryset(query, plan, template_id)
    elif plan.source == "facts":
        qs, columns, fold = _fact_table_queryset(query, plan, template_id, printer.name == "tidb")
        pivot = plan.nodes if any(d.kind == "node" for d in query.dimensions) else ()
    else:
        if any(m.kind == "percentile" for m in query.measures):
            return _printed_fields(query, plan, template_id, connection, printer)
        qs, columns = _fields_queryset(query, plan, template_id)
    sql, params = qs.query.get_compiler(connection=connection).as_sql()
    return Compiled(printer.finalize(sql), list(params), columns, list(query.measures), fold, pivot, plan.hours, histogram_from)


OPEN = "x_open"  # rollups and fact table: open sessions among the rows read (the answer's provisional count)


def share_column(index: int) -> str:
    """Numerator of the index-th measure (a share): named by position, since a conclusion name is a value."""
    return f"x_share_{index}"


# -- rollups -----------------------------------------------------------------------------------------------
def _rollup_queryset(query: MacroQuery, plan: Plan, template_id: int) -> tuple[QuerySet, list[str]]:
    if plan.day_rows:  # the day rows without status/severity (or conclusion): fewer rows, stored in GROUP BY order
        time_column = "day_ms"
        qs = _day_rows(plan).objects.filter(template_id=template_id, day_ms__gte=query.since_ms, day_ms__lt=query.until_ms)
    else:
        time_column = "bucket_ms"
        qs = Rollup.objects.filter(template_id=template_id, grain=plan.grain, bucket_ms__gte=query.since_ms,
                                   bucket_ms__lt=query.until_ms)
    qs = _rollup_filters(qs, query, plan)
    groups = {f"g_{d.name}": _column_dimension(d, plan, time_column) for d in query.dimensions}
    aggregates = _additive(query, CountSum("sessions"), lambda q: CountSum("sessions", filter=q), "duration_sum", CountSum)
    aggregates[OPEN] = CountSum("open_sessions") if plan.day_rows else CountSum("sessions", filter=Q(status="open"))
    if any(m.kind == "percentile" for m in query.measures):
        low, high = plan.span or (0, len(HISTOGRAM) - 1)  # the buckets the rows can hold: ~30 sums of 64
        aggregates["x_histogram"] = PackedSums(*HISTOGRAM[low:high + 1])  # in one column: fewer values to parse
    qs = qs.values(**groups).annotate(**aggregates).order_by(*groups) if groups else _plain(qs, aggregates)
    return qs, [*groups, *aggregates]


def _rollup_filters(qs: QuerySet, query: MacroQuery, plan: Plan) -> QuerySet:
    """The layout (dim_names) and value filters, on either rollup table."""
    if any(item.kind == "field" for item in [*query.dimensions, *query.filters]):
        qs = qs.filter(dim_names=",".join(plan.slots))  # rows written with these dimension columns
    elif plan.layouts:
        qs = qs.filter(dim_names__in=plan.layouts)  # every layout: lets the index range over the time column
    for item in query.filters:
        column = _slot(item.field, plan) if item.kind == "field" else item.kind
        qs = qs.filter(**{f"{column}__in": item.values})
    return qs


def _hours_queryset(query: MacroQuery, plan: Plan, template_id: int) -> tuple[QuerySet, list[str]]:
    """Day rows covering the range (the service drops hours outside it), grouped by the day in the time
    dimension's place; the 24 hourly counts come back packed in one column (the day's total is not read: the
    answer does not use it), and the open sessions when the range is whole days (else they would include hours
    outside it: the service counts them apart)."""
    first_day = query.since_ms - query.since_ms % GRAINS["d"]
    qs = _rollup_filters(_day_rows(plan).objects.filter(template_id=template_id, day_ms__gte=first_day, day_ms__lt=query.until_ms),
                         query, plan)
    groups = {f"g_{d.name}": F("day_ms") if d.kind == "time" else _column_dimension(d, plan, "day_ms") for d in query.dimensions}
    aggregates = {"x_hours": PackedSums(*HOUR_COLUMNS)}
    if not (query.since_ms % GRAINS["d"] or query.until_ms % GRAINS["d"]):
        aggregates[OPEN] = CountSum("open_sessions")
    return qs.values(**groups).annotate(**aggregates).order_by(*groups), [*groups, *aggregates]


def _day_rows(plan: Plan) -> type:
    """The day rows with the conclusion, or without it when the query does not need it (a sixth of the rows with six
    conclusions)."""
    return RollupDays if plan.without_conclusion else RollupHours


def _additive(query: MacroQuery, sessions: Any, counted: Any, duration: str, total: type = Sum) -> dict[str, Any]:
    """The aggregates that add up over rollup rows and fact rows alike (`counted(q)`: sessions matching q; `total`
    the sum aggregate)."""
    aggregates: dict[str, Any] = {"x_sessions": sessions}
    for i, measure in enumerate(query.measures):
        if measure.kind == "share":
            aggregates[share_column(i)] = counted(Q(conclusion=measure.conclusion))
        elif measure.kind == "completeness":
            aggregates["x_completeness"] = total("completeness_e4")
        elif measure.kind in ("sum", "avg"):
            aggregates["x_duration_sum"] = total(duration)
    return aggregates


def _column_dimension(dimension: Dimension, plan: Plan, time_column: str) -> Any:
    """A dimension held in a column of the rollups or the fact table."""
    if dimension.kind == "time":
        return _bucket(time_column, plan)
    if dimension.kind == "field":
        return F(_slot(dimension.field, plan))  # '' for a missing value (the service shows None): no expression,
    return F(dimension.kind)                    # so MariaDB can group in the covering index's order


def _slot(name: str, plan: Plan) -> str:
    """The rollup or fact column (d1, d2, …) holding a dimension."""
    return f"d{plan.slots.index(name) + 1}"


# -- the session fact table ---------------------------------------------------------------------------------
def _fact_table_queryset(query: MacroQuery, plan: Plan, template_id: int, tidb: bool) -> tuple[QuerySet, list[str], bool]:
    """Percentiles: TiDB's APPROX_PERCENTILE; elsewhere one row per group × duration bucket, merged by the service
    into the rollups' histogram (the same ±16 % as from the rollups, and equal to their answer)."""
    qs = SessionFact.objects.filter(template_id=template_id, start_ms__gte=query.since_ms, start_ms__lt=query.until_ms)
    if plan.ranges is not None:  # the days the columnar replica does not answer
        qs = qs.filter(_any(Q(start_ms__gte=low, start_ms__lt=high) for low, high in plan.ranges))
    if any(item.kind == "field" for item in [*query.dimensions, *query.filters]):
        qs = qs.filter(dim_key=dim_key(plan.slots))
    for item in query.filters:
        if item.kind == "node":
            qs = qs.filter(_any(Q(nodes__contains=f",{value},") for value in item.values))
        else:
            qs = qs.filter(**{f"{_slot(item.field, plan) if item.kind == 'field' else item.kind}__in": item.values})
    groups = {f"g_{d.name}": _column_dimension(d, plan, "start_ms") for d in query.dimensions if d.kind != "node"}
    aggregates = _additive(query, Count("pk"), lambda q: Count("pk", filter=q), "duration_ms")
    aggregates[OPEN] = Count("pk", filter=Q(status="open"))
    if any(d.kind == "node" for d in query.dimensions):  # sessions only (the spec): one count per node, one pass
        aggregates.update({node_column(i): Count("pk", filter=Q(nodes__contains=f",{n},")) for i, n in enumerate(plan.nodes)})
    ranked = [m for m in query.measures if m.kind == "percentile"]
    fold = bool(ranked) and not tidb
    if tidb:
        aggregates.update({m.name: ApproxPercentile("duration_ms", m.p) for m in ranked})
    keys = {**groups, "x_bucket": F("duration_bucket")} if fold else groups
    qs = qs.values(**keys).annotate(**aggregates).order_by(*keys) if keys else _plain(qs, aggregates)
    return qs, [*keys, *aggregates], fold


def node_column(index: int) -> str:
    return f"x_node_{index}"


def _any(conditions) -> Q:
    combined = Q()
    for condition in conditions:
        combined |= condition
    return combined


# -- key-value field rows --------------------------------------------------------------------------------------------
def _fields_base(query: MacroQuery, template_id: int) -> QuerySet:
    qs = Session.objects.filter(template_id=template_id, start_ms__gte=query.since_ms, start_ms__lt=query.until_ms)
    for item in query.filters:
        if item.kind == "conclusion":
            qs = qs.filter(primary_conclusion__in=item.values)
        elif item.kind == "status":
            qs = qs.filter(status__in=item.values)
        elif item.kind == "severity":
            qs = qs.filter(Exists(SessionConclusion.objects.filter(session_id=OuterRef("pk"), name=OuterRef("primary_conclusion"),
                                                                   severity__in=item.values)))
        elif item.kind == "node":
            qs = qs.filter(Exists(SessionNode.objects.filter(session_id=OuterRef("pk"), node__in=item.values)))
        else:
            qs = qs.filter(pk__in=SessionField.objects.filter(template_id=template_id, name=item.field, str_value__in=item.values)
                           .values("session_id"))
    return qs


def _fields_dimension(dimension: Dimension, plan: Plan) -> Any:
    if dimension.kind == "time":
        return _bucket("start_ms", plan)
    if dimension.kind == "conclusion":
        return F("primary_conclusion")
    if dimension.kind == "status":
        return F("status")
    if dimension.kind == "node":
        return F("nodes__node")
    if dimension.kind == "severity":
        return Subquery(SessionConclusion.objects.filter(session_id=OuterRef("pk"), name=OuterRef("primary_conclusion"))
                        .values("severity")[:1])
    return F(f"{_field_join(dimension.field)}__str_value")


def _field_join(name: str) -> str:
    """Alias of the join to a field's key-value rows (one per value: a session with two values of a breakdown
    field counts under each). A join, not a subquery per session: MariaDB runs it about 5x faster."""
    return f"fv_{name}"


def _with_field_joins(qs: QuerySet, query: MacroQuery) -> QuerySet:
    joins = {_field_join(d.field): FilteredRelation("fields", condition=Q(fields__name=d.field))
             for d in query.dimensions if d.kind == "field"}
    return qs.annotate(**joins) if joins else qs


def _field_value(name: str, column: str) -> Any:
    """A session's (first) value of a field: an index lookup per session on luna_field_session_idx."""
    if name == DURATION:
        return F("duration_ms")
    return Subquery(SessionField.objects.filter(session_id=OuterRef("pk"), name=name).order_by("id").values(column)[:1])


def _fields_aggregates(query: MacroQuery) -> dict[str, Any]:
    counted = Count("pk", distinct=True) if any(d.kind == "node" for d in query.dimensions) else Count("pk")
    aggregates: dict[str, Any] = {"x_sessions": counted}
    for i, measure in enumerate(query.measures):
        if measure.kind == "distinct":
            aggregates[measure.name] = Count(_field_value(measure.field, "str_value"), distinct=True)
        elif measure.kind in ("sum", "avg"):
            value = _field_value(measure.field, "num_value")
            aggregates[measure.name] = Sum(value) if measure.kind == "sum" else Avg(value)
        elif measure.kind == "share":
            aggregates[share_column(i)] = Count("pk", filter=Q(primary_conclusion=measure.conclusion))
        elif measure.kind == "completeness":
            aggregates["x_completeness"] = Avg("completeness")
    return aggregates


def _fields_queryset(query: MacroQuery, plan: Plan, template_id: int) -> tuple[QuerySet, list[str]]:
    qs = _with_field_joins(_fields_base(query, template_id), query)
    groups = {f"g_{d.name}": _fields_dimension(d, plan) for d in query.dimensions}
    aggregates = _fields_aggregates(query)
    qs = qs.values(**groups).annotate(**aggregates).order_by(*groups) if groups else _plain(qs, aggregates)
    return qs, [*groups, *aggregates]


def _printed_fields(query: MacroQuery, plan: Plan, template_id: int, connection: Any, printer: Printer) -> Compiled:
    """Percentiles: the ORM selects one row per session (group keys and measure inputs), the printer aggregates."""
    groups = {f"g_{d.name}": _fields_dimension(d, plan) for d in query.dimensions}
    inputs: dict[str, Any] = {}
    aggregates = [Aggregate("x_sessions", "sessions")]
    for i, measure in enumerate(query.measures):
        column = f"v_{i}"
        if measure.kind == "share":
            inputs[column] = F("primary_conclusion")
            aggregates.append(Aggregate(share_column(i), "share", column, measure.conclusion))
        elif measure.kind == "completeness":
            inputs[column] = F("completeness")
            aggregates.append(Aggregate("x_completeness", "completeness", column))
        elif measure.kind != "sessions":
            inputs[column] = _field_value(measure.field, "str_value" if measure.kind == "distinct" else "num_value")
            aggregates.append(Aggregate(measure.name, measure.kind, column, measure.p))
    rows = _with_field_joins(_fields_base(query, template_id), query).values(**groups, **inputs).order_by()
    inner, params = rows.query.get_compiler(connection=connection).as_sql()
    sql, all_params = printer.grouped(inner, params, list(groups), aggregates)
    return Compiled(sql, all_params, [*groups, *(a.name for a in aggregates)], list(query.measures))


# -- shared -------------------------------------------------------------------------------------------------
def _bucket(column: str, plan: Plan) -> Any:
    buckets = plan.bucketing
    if plan.grain and buckets.size_ms == GRAINS[plan.grain] and not buckets.offset_ms:
        return F(column)  # rollup rows of the bucket's own size: the bucket is the column (grouped in index order)
    if buckets.size_ms:
        return TimeBucket(column, buckets.size_ms, buckets.offset_ms)
    return boundary_bucket(column, buckets.boundaries)


def _plain(qs: QuerySet, aggregates: dict[str, Any]) -> QuerySet:
    """No dimensions: one row of aggregates, still a queryset (so the SQL can be printed and hinted)."""
    return qs.annotate(x_all=Value(1)).values("x_all").annotate(**aggregates).values(*aggregates)
