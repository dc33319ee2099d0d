"""A macro answer's shape: series, columnar. One series per combination of the dimensions other than the x axis
(the time dimension when there is one, else the first), each with one list of x values and one list per measure.

Why columnar: a 90-day hourly chart by conclusion × channel is 51,840 points; as per-point rows it was 51,840 lists
built by the service and 51,840 dicts again in the figure builder (~40 ms of CPU of a ~60 ms request at 10 M
sessions). As series it is 24 keys and 72 lists, and the day rows' packed hourly counts become them with a few array
operations per series. `points()` gives per-point rows back for small answers (alerts, tests).
"""
import gc
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..query.compiler import node_column, share_column
from ..query.spec import MacroQuery, Measure
from ..rollups.contribution import HOUR_MS
from ..rollups.histogram import COLUMNS as HISTOGRAM, percentile


@dataclass
class Series:
    key: tuple  # values of the result's `key` dimensions (None: missing)
    x: list  # x values, ascending (None when the query has no dimension: one point)
    values: list[list]  # one list per measure, aligned with x

    def as_dict(self) -> dict[str, Any]:
        return {"key": list(self.key), "x": self.x, "values": self.values}


@dataclass
class MacroResult:
    dimensions: list[str]  # the query's dimension names, in its order
    measures: list[str]
    x: str | None  # the dimension on the x axis
    key: list[str]  # the other dimensions, in the query's order: what a series' key holds
    series: list[Series]
    source: str
    reason: str
    dialect: str
    sql: str
    params: list
    grain: str | None = None
    provisional: dict[str, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Points in the answer."""
        return sum(len(s.x) for s in self.series)

    def points(self) -> list[list[Any]]:
        """Per-point rows (dimensions in the query's order, then measures), sorted by every dimension (missing
        first): for small answers (an alert's count, tests), not for charts."""
        at = self.dimensions.index(self.x) if self.x is not None else None
        rows = []
        for series in self.series:
            for i, x in enumerate(series.x):
                head = list(series.key)
                if at is not None:
                    head.insert(at, x)
                rows.append(head + [values[i] for values in series.values])
        return sorted(rows, key=lambda row: [(v is not None, v) for v in row[:len(self.dimensions)]])

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimensions": self.dimensions, "measures": self.measures, "x": self.x, "key": self.key,
            "series": [s.as_dict() for s in self.series], "source": self.source, "reason": self.reason, "grain": self.grain,
            "dialect": self.dialect, "sql": self.sql, "params": [str(p) for p in self.params], "provisional": self.provisional,
        }


def axes(query: MacroQuery) -> tuple[int | None, list[int]]:
    """(index of the x dimension, indexes of the key dimensions)."""
    names = [d.kind for d in query.dimensions]
    at = names.index("time") if "time" in names else (0 if names else None)
    return at, [i for i in range(len(names)) if i != at]


def _ordered(series: dict[tuple, Series]) -> list[Series]:
    return [series[k] for k in sorted(series, key=lambda key: [(v is not None, v) for v in key])]


def to_series(rows: Iterable[list[Any]], query: MacroQuery) -> list[Series]:
    """Per-point rows in SQL order (every dimension ascending) → series; x stays ascending within each."""
    at, keyed = axes(query)
    width, measures = len(query.dimensions), len(query.measures)
    series: dict[tuple, Series] = {}
    for row in rows:
        key = tuple(row[i] for i in keyed)
        into = series.get(key)
        if into is None:
            into = series[key] = Series(key, [], [[] for _ in range(measures)])
        into.x.append(row[at] if at is not None else None)
        for values, value in zip(into.values, row[width:]):
            values.append(value)
    return _ordered(series)


def hour_series(raw: list[tuple], columns: list[str], query: MacroQuery) -> list[Series]:
    """Day rows with 24 packed hourly counts (sessions is the only measure) → series by start hour, the hours outside
    the range and the empty ones dropped. The wire rows of a series are gathered first and its counts parsed and
    placed as arrays: a few operations per series instead of a list per point."""
    at, keyed = axes(query)
    packed = columns.index("x_hours")
    blank = {i for i, d in enumerate(query.dimensions) if d.kind == "field"}
    gathered: dict[tuple, tuple[list[int], list[str]]] = {}
    for row in raw:
        key = tuple(row[i] for i in keyed)
        days = gathered.get(key)
        if days is None:
            days = gathered[key] = ([], [])
        days[0].append(row[at])
        days[1].append(row[packed])
    offsets = np.arange(24, dtype=np.int64) * HOUR_MS
    series = {}
    for key, (days, texts) in gathered.items():
        starts = (np.asarray(days, dtype=np.int64)[:, None] + offsets).ravel()
        counts = parse_counts(",".join(texts), len(starts))
        keep = (counts != 0) & (starts >= query.since_ms) & (starts < query.until_ms)
        if keep.any():
            key = tuple(None if i in blank and v == "" else v for i, v in zip(keyed, key))
            series[key] = Series(key, starts[keep].tolist(), [counts[keep].tolist()])
    return _ordered(series)


def parse_counts(text: str, expected: int) -> np.ndarray:
    """'n,n,…' (PackedSums: integer sums, which MariaDB prints in exponent form from 10^15 up) → int64 array.
    numpy parses in C (51,840 counts: ~1 ms against ~7 ms for `int` per value); text it could not read goes to Python's
    parse, which says why."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # numpy warns (and stops short) at text it cannot read
        try:
            counts = np.fromstring(text, dtype=np.float64, sep=",") if text else np.zeros(0)
        except (DeprecationWarning, ValueError):
            counts = None
    if counts is None or len(counts) != expected:
        counts = np.array([float(n) for n in text.split(",")] if text else [], dtype=np.float64)
    return counts.astype(np.int64)


def counts_of(packed: str) -> list[int]:
    """One short packed sum column (a histogram's buckets) → ints: per value in Python, cheaper than an array for a
    few dozen."""
    parts = packed.split(",")
    try:
        return list(map(int, parts))
    except ValueError:
        return [int(float(n)) for n in parts]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large answer is built from per-row results (the fact table and
    key-value paths: 50k result rows are 50k new lists, and the collections they trigger walk every object of the
    process). The rows hold no cycles; anything else waits a few milliseconds for its collection."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def shape(raw: list[tuple], columns: list[str], query: MacroQuery, source: str, histogram_from: int = 0) -> list[list[Any]]:
    """SQL rows (dimensions, then additive aggregates) → per-point rows (dimensions, then measures). Tuples and
    per-measure readers, not a dict per row. `histogram_from`: the first histogram bucket the packed rollup
    histogram holds."""
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


def folded_columns(columns: list[str], width: int, fold: bool) -> list[str]:
    """The columns `fold_histograms` gives, for an answer without rows (its readers still need the histogram's)."""
    if not fold:
        return columns
    return [*columns[:width], *(c for c in columns[width:] if c != "x_bucket"), *(f"x_{h}" for h in HISTOGRAM)]


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
            return lambda values, sessions: percentile(skipped + counts_of(values[packed]), measure.p)
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
