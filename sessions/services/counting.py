"""How many sessions match, without ever paying for a count that scans (SPEC §5, issue 12).

A count is bounded twice: by rows (`LIMIT cap + 1` inside, so it stops at LUNA_COUNT_CAP matches) and by time (the
server aborts it after LUNA_COUNT_TIME_MS). An unselective search probed session by session (channel = wechat AND
region = eu) reaches the cap only after ~200,000 probes (≈0.5 s at 1 M sessions); there the answer is "at least what
the page showed" instead. Each backend spells the time limit its own way: one small printer each.
"""
import hashlib
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connections, transaction
from django.db.models import QuerySet

from ..tidb import is_tidb

# exact: the number; more_than: past the cap; at_least: the time limit stopped counting, the rows already seen;
# estimate: the time limit stopped counting, the number extrapolated from the newest page (services/paging.py).
EXACT, MORE_THAN, AT_LEAST, ESTIMATE = "exact", "more_than", "at_least", "estimate"
KINDS = (EXACT, MORE_THAN, AT_LEAST, ESTIMATE)
# Server errors meaning "your time limit stopped this statement": MariaDB 1969, MySQL/TiDB 3024, interrupted 1317.
TIMEOUT_CODES = {1969, 3024, 1317}


@dataclass(frozen=True)
class Count:
    """`value` matches, exactly or as a bound (`kind`): the page and the API say which."""

    value: int
    kind: str = EXACT

    @property
    def exact(self) -> bool:
        return self.kind == EXACT


def _mariadb(sql: str, ms: int) -> str:
    return f"SET STATEMENT max_statement_time={ms / 1000:.3f} FOR {sql}"


def _mysql(sql: str, ms: int) -> str:
    """MySQL and TiDB: the optimizer hint right after the outer SELECT."""
    return sql.replace("SELECT", f"SELECT /*+ MAX_EXECUTION_TIME({ms}) */", 1)


def _unlimited(sql: str, ms: int) -> str:
    return sql  # SQLite (development, tests): bounded by rows only


def time_limit_printer(connection) -> Callable[[str, int], str]:
    """The printer that adds a server-side statement time limit in this backend's dialect."""
    if connection.vendor != "mysql":
        return _unlimited
    if is_tidb(connection):
        return _mysql
    return _mariadb if connection.mysql_is_mariadb else _mysql


def bounded_count(queryset: QuerySet, seen: int = 0, cap: int | None = None, time_ms: int | None = None) -> Count:
    """Matches of `queryset` up to `cap` (then "more than cap"); when the time limit stops the count, "at least
    `seen`" (what the caller already knows exists, e.g. the rows before and on the current page)."""
    cap = settings.LUNA_COUNT_CAP if cap is None else cap
    rows = limited_rows(queryset.order_by().values("pk")[: cap + 1], time_ms, "SELECT COUNT(*) FROM ({}) bounded")
    if rows is None:
        return Count(seen, AT_LEAST)
    value = int(rows[0][0]) if rows else 0
    return Count(cap, MORE_THAN) if value > cap else Count(value)


def limited_rows(queryset: QuerySet, time_ms: int | None = None, wrap: str = "{}") -> list[tuple] | None:
    """The rows of `queryset` (its SQL put into `wrap`), or None when the statement time limit (LUNA_COUNT_TIME_MS by
    default) stopped it: for figures a page can do without (a count, a histogram sample)."""
    time_ms = settings.LUNA_COUNT_TIME_MS if time_ms is None else time_ms
    connection = connections[queryset.db]
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # queryset.none(), an IN () …: no rows
        return []
    statement = time_limit_printer(connection)(wrap.format(sql), time_ms)
    # A savepoint when inside a transaction, so an aborted statement does not poison the rest of it.
    guard = transaction.atomic(using=queryset.db) if connection.in_atomic_block else nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())
    except DatabaseError as error:
        if not _timed_out(error):
            raise
        return None


def _timed_out(error: DatabaseError) -> bool:
    cause = error.__cause__ if error.__cause__ is not None else error
    code = cause.args[0] if cause.args else None
    return code in TIMEOUT_CODES


def remembered(purpose: str, queryset: QuerySet, compute: Callable[[], Any], keep: Callable[[Any], bool] = lambda _: True,
               statement: tuple[str, Sequence] | None = None) -> Any:
    """`compute()` for this queryset, kept in the cache (per worker by default, settings.CACHES) for
    LUNA_COUNT_CACHE_S seconds when `keep(value)`. For figures that only steer a plan or label a page, where a minute
    old is as good as new: selectivity checks, and counts past the cap or estimated (an unselective search paid 20 ms
    of database CPU per request for a count the time limit stopped, issue 12). Exact counts are never kept.
    `statement`: SQL and parameters the caller already compiled that select by the same conditions (a page's ids
    query), as the key instead of compiling the queryset again (~0.5 ms of CPU for an unselective search's)."""
    seconds = settings.LUNA_COUNT_CACHE_S
    if seconds <= 0:
        return compute()
    try:
        sql, params = statement if statement is not None else queryset.query.sql_with_params()
    except EmptyResultSet:
        return compute()
    key = "luna-count:" + hashlib.sha256(repr((purpose, queryset.db, sql, params)).encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = compute()
        if keep(value):
            cache.set(key, value, seconds)
    return value


def bounded_size(queryset: QuerySet, limit: int) -> int:
    """min(matches, limit + 1): how selective a condition is, for choosing a plan (remembered, see above)."""
    return remembered(f"size {limit}", queryset, lambda: queryset[: limit + 1].count())
