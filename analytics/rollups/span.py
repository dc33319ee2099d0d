"""The histogram buckets a template's rollups can hold (analytics_rollup_span): widened by the upkeep in the rows'
transaction, read by percentile queries so they sum only those buckets (see RollupSpan)."""
from typing import Any, Iterable

from .histogram import BUCKETS, COLUMNS as HISTOGRAM
from .sql import HOURS_TABLE, RollupSQL

SPAN_TABLE = "analytics_rollup_span"


def widen(cur: Any, sql: RollupSQL, template_id: int, buckets: Iterable[int]) -> None:
    """Make the stored span cover `buckets`. A plain read by primary key per batch (no lock); the upsert, which locks
    the template's span row until commit, runs only when the batch widens it (a handful of times in a template's
    life). A stale read only causes a redundant widening: spans never narrow."""
    buckets = list(buckets)
    if not buckets:
        return
    low, high = min(buckets), max(buckets)
    cur.execute(f"SELECT low, high FROM {SPAN_TABLE} WHERE template_id = {sql.mark}", [template_id])
    row = cur.fetchone()
    if row is not None and int(row[0]) <= low and high <= int(row[1]):
        return
    cur.execute(_widen_statement(sql), [template_id, low, high])


def _widen_statement(sql: RollupSQL) -> str:
    head = f"INSERT INTO {SPAN_TABLE} (template_id, low, high) VALUES ({sql.marks(3)})"
    if sql.name == "sqlite":
        return f"{head} ON CONFLICT(template_id) DO UPDATE SET low = MIN(low, excluded.low), high = MAX(high, excluded.high)"
    return f"{head} ON DUPLICATE KEY UPDATE low = LEAST(low, VALUES(low)), high = GREATEST(high, VALUES(high))"


def fill(cur: Any, sql: RollupSQL, template_id: int | None = None) -> None:
    """The span of rows written before the table existed (migration 0005, the bench's loader): the buckets any day
    row without status/severity holds (those rows hold every applied session)."""
    where = f" WHERE template_id = {sql.mark}" if template_id is not None else ""
    cur.execute(f"SELECT template_id, {', '.join(f'MAX({c})' for c in HISTOGRAM)} FROM {HOURS_TABLE}{where} GROUP BY template_id",
                [] if template_id is None else [template_id])
    for template, *maxima in cur.fetchall():
        used = [i for i in range(BUCKETS) if maxima[i] and int(maxima[i]) > 0]
        widen(cur, sql, int(template), used)
