"""The fact path's evaluator for the columnar replica: the same typed spec and plan as the SQL printers, over a
pyarrow table of fact rows, returning the same additive columns (`g_<name>` groups, `x_bucket` when percentiles
fold, `x_sessions`, `x_share_i`, `x_completeness`, `x_duration_sum`, `x_open`, `x_node_i`), so rows from the replica
and from the row store add up per group key (analytics/services/replica_read.py).

It mirrors analytics/query/compiler.py `_fact_table_queryset`: the time bucket is `TimeBucket`'s arithmetic or
`boundary_bucket`'s CASE, in numpy; filters are `IN` lists and the `,a,b,` node text matched as a substring.
"""
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..facts.row import dim_key
from .compiler import OPEN, node_column, share_column
from .planner import Plan
from .spec import Dimension, MacroQuery


def needed_columns(query: MacroQuery, plan: Plan) -> list[str]:
    """The file columns a query reads (the rest of the file is not read)."""
    names = {"start_ms", "status"}
    items = [*query.dimensions, *query.filters]
    if any(item.kind == "field" for item in items):
        names.add("dim_key")
    names.update(_column(item, plan) for item in items if item.kind != "time")
    names.update(MEASURE_INPUTS[m.kind] for m in query.measures if m.kind in MEASURE_INPUTS)
    return sorted(names)


MEASURE_INPUTS = {"share": "conclusion", "completeness": "completeness_e4", "sum": "duration_ms", "avg": "duration_ms",
                  "percentile": "duration_bucket"}


def _column(item: Any, plan: Plan) -> str:
    if item.kind == "field":
        return f"d{plan.slots.index(item.field) + 1}"
    return "nodes" if item.kind == "node" else item.kind


def evaluate(table: pa.Table, query: MacroQuery, plan: Plan, columns: list[str]) -> pa.Table:
    """The compiled SQL's `columns` over the rows of `table` (groups as plain values, aggregates as int64)."""
    table = table.filter(_mask(table, query, plan))
    data: dict[str, Any] = {}
    for dimension in query.dimensions:
        if dimension.kind != "node":
            data[f"g_{dimension.name}"] = _group(table, dimension, plan)
    keys = list(data)
    if "x_bucket" in columns:
        data["x_bucket"] = pc.cast(table["duration_bucket"], pa.int64())
        keys.append("x_bucket")
    ones = pa.array(np.ones(table.num_rows, dtype=np.int64))
    sums: dict[str, Any] = {"x_sessions": ones}
    for i, measure in enumerate(query.measures):
        if measure.kind == "share":
            sums[share_column(i)] = _count(_test(table["conclusion"], lambda values: pc.equal(values, measure.conclusion)))
        elif measure.kind == "completeness":
            sums["x_completeness"] = table["completeness_e4"]
        elif measure.kind in ("sum", "avg"):
            sums["x_duration_sum"] = table["duration_ms"]
    sums[OPEN] = _count(_test(table["status"], lambda values: pc.equal(values, "open")))
    if any(d.kind == "node" for d in query.dimensions):
        for i, node in enumerate(plan.nodes):
            sums[node_column(i)] = _count(_reached(table, node))
    data.update(sums)
    wanted = [name for name in columns if name in data]
    assert wanted == columns, f"the evaluator cannot give {sorted(set(columns) - set(data))}"
    frame = pa.table({name: data[name] for name in columns})
    if not keys:
        return pa.table({name: [pc.sum(frame[name]).as_py() or 0] for name in columns})
    grouped = frame.group_by(keys, use_threads=False).aggregate([(name, "sum") for name in sums])
    named = {f"{name}_sum": name for name in sums}
    return grouped.rename_columns([named.get(name, name) for name in grouped.column_names]).select(columns)


def _mask(table: pa.Table, query: MacroQuery, plan: Plan) -> pa.Array:
    start = table["start_ms"]
    mask = pc.and_(pc.greater_equal(start, query.since_ms), pc.less(start, query.until_ms))
    if any(item.kind == "field" for item in [*query.dimensions, *query.filters]):
        layout = dim_key(plan.slots)
        mask = pc.and_(mask, _test(table["dim_key"], lambda values: pc.equal(values, layout)))
    for item in query.filters:
        if item.kind == "node":
            hits = [_reached(table, value) for value in item.values]
            condition = hits[0]
            for hit in hits[1:]:
                condition = pc.or_(condition, hit)
        else:
            allowed = pa.array(item.values, pa.string())
            condition = _test(table[_column(item, plan)], lambda values: pc.is_in(values, value_set=allowed))
        mask = pc.and_(mask, condition)
    return mask


def _group(table: pa.Table, dimension: Dimension, plan: Plan) -> Any:
    if dimension.kind != "time":
        return _text(table[_column(dimension, plan)])
    starts = table["start_ms"].to_numpy()
    buckets = plan.bucketing
    if buckets.size_ms:  # TimeBucket: floor((t + offset) / size) * size - offset, t ≥ 0
        return pa.array((starts + buckets.offset_ms) // buckets.size_ms * buckets.size_ms - buckets.offset_ms)
    bounds = np.asarray(buckets.boundaries, dtype=np.int64)  # boundary_bucket: the last start ≤ t, else the first
    return pa.array(bounds[np.searchsorted(bounds[1:], starts, side="right")])


def _text(column: Any) -> Any:
    """Dictionary columns as plain strings: the files' dictionaries differ, and the row store's keys are strings."""
    return pc.cast(column, pa.string()) if pa.types.is_dictionary(column.type) else column


def _test(column: Any, predicate: Any) -> pa.ChunkedArray:
    """A predicate on a (dictionary) column: on each chunk's few distinct values, then spread by its indices."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return pa.chunked_array([pc.take(predicate(chunk.dictionary), chunk.indices) if pa.types.is_dictionary(chunk.type)
                             else predicate(chunk) for chunk in chunks], type=pa.bool_())


def _reached(table: pa.Table, node: str) -> pa.ChunkedArray:
    """`nodes LIKE '%,node,%'` (the compiler's `contains`)."""
    return _test(table["nodes"], lambda values: pc.match_substring(values, f",{node},"))


def _count(condition: Any) -> Any:
    return pc.cast(pc.fill_null(condition, False), pa.int64())
