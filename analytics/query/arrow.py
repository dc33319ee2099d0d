"""The fact path's evaluator for the columnar replica: the same typed spec and plan as the SQL printers, over a
pyarrow table of fact rows, returning the same additive columns (`g_<name>` groups, `x_bucket` when percentiles
fold, `x_sessions`, `x_share_i`, `x_completeness`, `x_duration_sum`, `x_open`, `x_node_i`), so rows from the replica
and from the row store add up per group key (analytics/replica/read.py).

It mirrors analytics/query/compiler.py `_fact_table_queryset`: the time bucket is `TimeBucket`'s arithmetic or
`boundary_bucket`'s CASE, in numpy; filters are `IN` lists and the `,a,b,` node text matched as a substring.
"""
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..facts.row import dim_key
from ..rollups.histogram import BUCKETS
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


@dataclass
class Key:
    """A group key as integer codes (0 ≤ code < size) and how codes become the key's values."""

    codes: np.ndarray
    size: int
    values: Callable[[np.ndarray], pa.Array]


def evaluate(table: pa.Table, query: MacroQuery, plan: Plan, columns: list[str]) -> pa.Table:
    """The compiled SQL's `columns` over the rows of `table` (groups as plain values, aggregates as int64).

    Why codes: grouping 10 M rows by strings hashes 10 M strings; the keys' dictionary codes (and time bucket numbers)
    combined into one int64 are grouped by pyarrow in a fraction of that, and only the groups are decoded."""
    mask = _mask(table, query, plan)
    table = table.filter(mask) if mask is not None else table
    keyed = [d for d in query.dimensions if d.kind != "node"]
    keys = {f"g_{d.name}": _key(table, d, plan) for d in keyed}
    if "x_bucket" in columns:
        keys["x_bucket"] = Key(_numpy(table["duration_bucket"]).astype(np.int64), BUCKETS, lambda codes: pa.array(codes, pa.int64()))
    sums: dict[str, Any] = {"x_sessions": pa.array(np.ones(table.num_rows, dtype=np.int64))}
    for i, measure in enumerate(query.measures):
        if measure.kind == "share":
            sums[share_column(i)] = _flags(table["conclusion"], lambda values: pc.equal(values, measure.conclusion))
        elif measure.kind == "completeness":
            sums["x_completeness"] = table["completeness_e4"]
        elif measure.kind in ("sum", "avg"):
            sums["x_duration_sum"] = table["duration_ms"]
    sums[OPEN] = _flags(table["status"], lambda values: pc.equal(values, "open"))
    if any(d.kind == "node" for d in query.dimensions):
        for i, node in enumerate(plan.nodes):
            sums[node_column(i)] = _flags(table["nodes"], lambda values: pc.match_substring(values, f",{node},"))
    missing = set(columns) - set(keys) - set(sums)
    assert not missing, f"the evaluator cannot give {sorted(missing)}"
    if not keys:
        return pa.table({name: pa.array([pc.sum(sums[name]).as_py() or 0], pa.int64()) for name in columns})
    combined = np.zeros(table.num_rows, dtype=np.int64)
    for key in keys.values():  # mixed radix: one int64 per group (sizes are small: values seen, buckets in range)
        combined *= key.size  # in place: no 80 MB temporaries per step
        combined += key.codes
    frame = pa.table({"k": combined, **sums})
    grouped = frame.group_by("k", use_threads=False).aggregate([(name, "sum") for name in sums])
    out = {f"{name}_sum": name for name in sums}
    grouped = grouped.rename_columns([out.get(name, name) for name in grouped.column_names])
    codes, decoded = _numpy(grouped["k"]), {}
    for name, key in reversed(keys.items()):
        codes, code = np.divmod(codes, key.size)
        decoded[name] = key.values(code)
    return pa.table({name: decoded[name] if name in keys else grouped[name] for name in columns})


def _key(table: pa.Table, dimension: Dimension, plan: Plan) -> Key:
    if dimension.kind != "time":
        codes, dictionary = _codes(table[_column(dimension, plan)])
        return Key(codes, max(1, len(dictionary)), lambda codes: dictionary.take(pa.array(codes)))
    starts = _numpy(table["start_ms"])
    buckets = plan.bucketing
    if buckets.size_ms:  # TimeBucket: floor((t + offset) / size) * size - offset, t ≥ 0
        size, offset = buckets.size_ms, buckets.offset_ms
        numbers = (starts + offset) // size
        first = int(numbers.min()) if len(numbers) else 0
        return Key(numbers - first, int(numbers.max()) - first + 1 if len(numbers) else 1,
                   lambda codes: pa.array((codes + first) * size - offset, pa.int64()))
    bounds = np.asarray(buckets.boundaries, dtype=np.int64)  # boundary_bucket: the last start ≤ t, else the first
    return Key(np.searchsorted(bounds[1:], starts, side="right").astype(np.int64), len(bounds),
               lambda codes: pa.array(bounds[codes], pa.int64()))


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """A (dictionary) column as codes into one dictionary of its distinct values: each file's dictionary is mapped
    through a small lookup array (what `unify_dictionaries` does, without rebuilding the table)."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    seen: dict[str, int] = {}
    parts = []
    for chunk in column.chunks:
        lookup = np.array([seen.setdefault(value, len(seen)) for value in chunk.dictionary.to_pylist()] or [0], dtype=np.int64)
        parts.append(lookup[chunk.indices.to_numpy(zero_copy_only=False)])
    codes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return codes, pa.array(list(seen), pa.string())


def _flags(column: pa.ChunkedArray, predicate: Any) -> pa.Array:
    """1 where a (dictionary) column's value passes, else 0, as int64 to sum: the predicate runs on each file's few
    distinct values, the rows take theirs by index."""
    parts = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            passed = pc.fill_null(predicate(chunk.dictionary), False).to_numpy(zero_copy_only=False)
            parts.append(np.append(passed, False)[chunk.indices.to_numpy(zero_copy_only=False)])
        else:
            parts.append(pc.fill_null(predicate(chunk), False).to_numpy(zero_copy_only=False))
    return pa.array(np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64))


def _numpy(column: Any) -> np.ndarray:
    return column.to_numpy() if isinstance(column, pa.ChunkedArray) else column.to_numpy(zero_copy_only=False)


def _mask(table: pa.Table, query: MacroQuery, plan: Plan) -> pa.ChunkedArray | None:
    """The rows the query keeps (None: all of them; a filter every value passes costs nothing per row)."""
    conditions = []
    start = table["start_ms"]
    if table.num_rows and (pc.min(start).as_py() < query.since_ms or pc.max(start).as_py() >= query.until_ms):
        conditions.append(pc.and_(pc.greater_equal(start, query.since_ms), pc.less(start, query.until_ms)))
    if any(item.kind == "field" for item in [*query.dimensions, *query.filters]):
        layout = dim_key(plan.slots)
        conditions.append(_test(table["dim_key"], lambda values: pc.equal(values, layout)))
    for item in query.filters:
        if item.kind == "node":
            patterns = [f",{value}," for value in item.values]
            conditions.append(_test(table["nodes"], lambda values: _any_of(values, patterns)))
        else:
            allowed = pa.array(item.values, pa.string())
            conditions.append(_test(table[_column(item, plan)], lambda values: pc.is_in(values, value_set=allowed)))
    mask = None
    for condition in conditions:
        if condition is not None:
            mask = condition if mask is None else pc.and_(mask, condition)
    return mask


def _any_of(values: pa.Array, patterns: list[str]) -> pa.Array:
    hits = pc.match_substring(values, patterns[0])
    for pattern in patterns[1:]:
        hits = pc.or_(hits, pc.match_substring(values, pattern))
    return hits


def _test(column: Any, predicate: Any) -> pa.ChunkedArray | None:
    """A filter on a (dictionary) column: the predicate on each chunk's few distinct values, spread by its indices;
    None when every value passes (nothing to filter)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    tested = [(chunk, pc.fill_null(predicate(chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk), False)) for chunk in chunks]
    if all(pc.all(passed).as_py() is not False for _, passed in tested):
        return None
    return pa.chunked_array([pc.take(passed, chunk.indices) if pa.types.is_dictionary(chunk.type) else passed
                             for chunk, passed in tested], type=pa.bool_())
