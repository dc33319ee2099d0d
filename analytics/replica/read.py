"""A fact-path query answered from the replica where it is current and from the row store elsewhere, exactly.

In one transaction on the analytics connection (one snapshot): the range's day versions and replica records are read,
the files of the days whose record names the day's version are read, and the SQL runs limited to the other days
(stale, never built, the current day, a file found bad). Both sides return the compiler's additive columns; they
are summed per group key, so what the service does after the fetch is unchanged.
"""
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import transaction

from ..db import is_tidb
from ..models import FactDay, ReplicaDay
from ..query.arrow import evaluate, needed_columns
from ..query.compiler import Compiled, compile_query
from ..query.planner import Plan
from ..query.printers import printer_for
from ..query.spec import MacroQuery
from ..services.answer import collection_paused
from . import build, files
from .versions import DAY_MS, day_of


@dataclass
class Fetched:
    raw: list[tuple]
    compiled: Compiled  # the row store's part (what `sql` shows)
    note: str  # which days came from where, for the answer's reason


def enabled(connection: Any) -> bool:
    """On MariaDB/MySQL/SQLite unless LUNA_FACT_REPLICA=off; never on TiDB (TiFlash is its replica)."""
    return bool(settings.LUNA_FACT_REPLICA) and not is_tidb(connection)


def fetch(query: MacroQuery, plan: Plan, template_id: int, connection: Any) -> Fetched | None:
    """None when no day of the range is current in the replica (the caller runs the plain SQL)."""
    first, bad, outer = day_of(query.since_ms), [], connection.in_atomic_block
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "mysql" and not outer:  # Django's READ COMMITTED would give each statement its own
            with connection.cursor() as cursor:           # snapshot: the versions and the SQL must see one
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        versions = dict(FactDay.objects.using(connection.alias).filter(template_id=template_id, day_ms__gte=first,
                                                                       day_ms__lt=query.until_ms).values_list("day_ms", "version"))
        records = ReplicaDay.objects.using(connection.alias).filter(template_id=template_id, day_ms__gte=first, day_ms__lt=query.until_ms)
        current = {day: rows for day, version, rows in records.values_list("day_ms", "version", "rows") if versions.get(day) == version}
        if not current:
            return None
        with ThreadPoolExecutor(max_workers=1) as pool:
            while True:  # the files are read and evaluated on a thread while the row store answers the other days
                ranges = _complement(sorted(current), query.since_ms, query.until_ms)
                compiled = compile_query(query, replace(plan, ranges=tuple(ranges)), template_id, connection, printer_for(connection))
                days = sorted(day for day, rows in current.items() if rows)
                paths = [files.path_of(template_id, day, versions[day]) for day in days]
                columnar = pool.submit(_columnar, paths, [current[day] for day in days], query, plan, compiled.columns)
                raw: list[tuple] = []
                if ranges:
                    with connection.cursor() as cursor:
                        cursor.execute(compiled.sql, compiled.params)
                        raw = cursor.fetchall()
                try:
                    columnar = columnar.result()
                    break
                except files.ReplicaFileError as exc:  # that day from the row store too, in the same snapshot
                    day = days[[str(path) for path in paths].index(exc.args[0])]
                    bad.append(day)
                    del current[day]
    for day in bad:
        build.forget(template_id, day)
    with collection_paused():
        rows = merge(columnar, raw, compiled.columns)
    return Fetched(rows, compiled, _note(sorted(current), ranges, bad))


def _columnar(paths: list, rows: list[int], query: MacroQuery, plan: Plan, columns: list[str]) -> pa.Table:
    return evaluate(files.read(paths, rows, needed_columns(query, plan)), query, plan, columns)


def _complement(days: list[int], since: int, until: int) -> list[tuple[int, int]]:
    """[since, until) minus the given whole days, as few ranges as possible."""
    ranges, low = [], since
    for day in days:
        if day > low:
            ranges.append((low, min(day, until)))
        low = max(low, day + DAY_MS)
    if low < until:
        ranges.append((low, until))
    return [(a, b) for a, b in ranges if a < b]


def merge(columnar: pa.Table, raw: list[tuple], columns: list[str]) -> list[tuple]:
    """Replica rows + row-store rows → one row per group key (sums), ordered by the keys like the SQL's ORDER BY."""
    keys = [name for name in columns if name.startswith("g_") or name == "x_bucket"]
    if raw:
        values = list(zip(*raw))
        arrays = [pa.array(values[i], type=columnar.schema.field(name).type) if name in keys
                  else pa.array([int(v or 0) if isinstance(v, (int, Decimal, float)) or v is None else int(v) for v in values[i]],
                                type=pa.int64())
                  for i, name in enumerate(columns)]
        combined = pa.concat_tables([columnar, pa.Table.from_arrays(arrays, schema=columnar.schema)])
        if keys:
            combined = combined.group_by(keys, use_threads=False).aggregate([(n, "sum") for n in columns if n not in keys])
            named = {f"{n}_sum": n for n in columns if n not in keys}
            combined = combined.rename_columns([named.get(n, n) for n in combined.column_names]).select(columns)
        else:
            combined = pa.table({name: [combined[name].to_numpy().sum().item()] for name in columns})
    else:
        combined = columnar
    if keys:
        combined = combined.sort_by([(name, "ascending") for name in keys])
    return list(zip(*(_values(column) for column in combined.columns)))


def _values(column: pa.ChunkedArray) -> list:
    """A column as Python values: numbers through numpy, strings through their dictionary (to_pylist builds a scalar
    per value: ~0.2 s for a 51,840-point answer)."""
    if pa.types.is_integer(column.type):
        return column.to_numpy().tolist()
    encoded = pc.dictionary_encode(column.combine_chunks())
    values = np.array(encoded.dictionary.to_pylist() + [None], dtype=object)
    indices = encoded.indices.fill_null(len(values) - 1) if encoded.null_count else encoded.indices
    return values[indices.to_numpy(zero_copy_only=False)].tolist()


def _note(current: list[int], ranges: list[tuple[int, int]], bad: list[int]) -> str:
    stale = [f"{_date(a)}" + (f"…{_date(b - 1)}" if _date(b - 1) != _date(a) else "") for a, b in ranges]
    text = f"columnar replica: {len(current)} day{'' if len(current) == 1 else 's'}; row store: {', '.join(stale) or 'nothing'}"
    return text + (f" (replica file unreadable: {', '.join(map(_date, bad))}, rebuilt by the next refresh)" if bad else "")


def _date(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).date().isoformat()
