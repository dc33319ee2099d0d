"""Read-only ad-hoc SQL over the results (SPEC §6) for editors: one SELECT, on the Luna tables only, in a read-only
transaction, with a row and a time limit, audited. The limits are printed per backend (one printer each): MariaDB's
`SET STATEMENT max_statement_time`, MySQL's and TiDB's `MAX_EXECUTION_TIME` hint (TiDB also reads the analytic
replica: `READ_FROM_STORAGE(TIFLASH[...])`), SQLite's `query_only` and a progress handler."""
import re
import time
from dataclasses import dataclass, field
from typing import Any

import sqlparse
from django.conf import settings
from django.db import connections

from ..models import QueryRun

MAX_SQL = 10_000
# Identifiers no ad-hoc query may name: accounts, tokens, web sessions, the server's own schemas.
FORBIDDEN = re.compile(r"\b(auth_\w*|authtoken_\w*|django_\w*|celery_\w*|information_schema|performance_schema|mysql|sys|"
                       r"sqlite_\w*|pragma|load_file|into\s+outfile|into\s+dumpfile|sleep|benchmark|get_lock|"
                       r"for\s+update|lock\s+in\s+share\s+mode|attach)\b", re.IGNORECASE)


class QueryRefused(ValueError):
    """The statement is not a single read-only SELECT on the Luna tables (the message says which rule it broke)."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    duration_ms: int
    backend: str
    notes: list[str] = field(default_factory=list)


def check(sql: str) -> str:
    """The one statement, without a trailing semicolon; raises QueryRefused with the reason."""
    text = (sql or "").strip()
    if not text:
        raise QueryRefused("the query is empty")
    if len(text) > MAX_SQL:
        raise QueryRefused(f"the query is {len(text)} characters long; at most {MAX_SQL} are allowed")
    statements = [s for s in sqlparse.parse(text) if str(s).strip().strip(";").strip()]
    if len(statements) != 1:
        raise QueryRefused(f"one statement at a time, please (found {len(statements)})")
    statement = statements[0]
    if statement.get_type() != "SELECT":
        raise QueryRefused(f"only SELECT (or WITH … SELECT) is allowed, not {statement.get_type() or 'this statement'}")
    code = _without_literals(str(statement))
    found = FORBIDDEN.search(code)
    if found:
        raise QueryRefused(f"'{found.group(0)}' is not allowed in ad-hoc queries (Luna tables only, read-only)")
    return str(statement).strip().rstrip(";").strip()


def _without_literals(sql: str) -> str:
    """The SQL with string literals and comments blanked, so a word inside a string is not mistaken for a table."""
    parts = []
    for token in sqlparse.parse(sql)[0].flatten():
        kind = token.ttype
        if kind in sqlparse.tokens.Literal.String.Single or kind in sqlparse.tokens.Comment or kind in sqlparse.tokens.Literal.String.Symbol:
            parts.append(" ")
        else:
            parts.append(str(token))
    return "".join(parts)


def run(sql: str, user, max_rows: int | None = None, timeout_ms: int | None = None) -> QueryResult:
    """Check, run read-only with the limits, audit (refusals too)."""
    max_rows = max_rows or settings.LUNA_ADHOC_MAX_ROWS
    timeout_ms = timeout_ms or settings.LUNA_ADHOC_TIMEOUT_MS
    audit = QueryRun(sql=(sql or "")[:MAX_SQL * 2], author=user)
    started = time.perf_counter()
    try:
        statement = check(sql)
        result = _execute(statement, max_rows, timeout_ms)
    except Exception as exc:
        audit.error = f"{type(exc).__name__}: {exc}"[:500]
        audit.duration_ms = int((time.perf_counter() - started) * 1000)
        audit.save()
        if isinstance(exc, QueryRefused):
            raise
        raise QueryRefused(f"the database refused or stopped the query: {exc}"[:500]) from None
    audit.duration_ms, audit.rows, audit.truncated = result.duration_ms, len(result.rows), result.truncated
    audit.save()
    return result


def _execute(statement: str, max_rows: int, timeout_ms: int) -> QueryResult:
    connection = connections[settings.LUNA_ADHOC_DB_ALIAS]
    printer = PRINTERS[_backend(connection)]
    sql, notes = printer(statement, max_rows + 1, timeout_ms)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if _backend(connection) == "sqlite":
            rows, columns = _run_sqlite(connection, cursor, sql, timeout_ms)
        else:
            cursor.execute("START TRANSACTION READ ONLY")
            try:
                cursor.execute(sql)
                columns = [c[0] for c in cursor.description or ()]
                rows = cursor.fetchmany(max_rows + 1)
            finally:
                cursor.execute("ROLLBACK")
    elapsed = int((time.perf_counter() - started) * 1000)
    return QueryResult(columns, [tuple(r) for r in rows[:max_rows]], len(rows) > max_rows, elapsed, _backend(connection), notes)


def _run_sqlite(connection, cursor, sql: str, timeout_ms: int):
    deadline = time.monotonic() + timeout_ms / 1000
    native = connection.connection
    native.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    cursor.execute("PRAGMA query_only = ON")
    try:
        cursor.execute(sql)
        return cursor.fetchall(), [c[0] for c in cursor.description or ()]
    finally:
        cursor.execute("PRAGMA query_only = OFF")
        native.set_progress_handler(None, 0)


def _backend(connection) -> str:
    if connection.vendor == "sqlite":
        return "sqlite"
    if connection.settings_dict["ENGINE"] == "django_tidb":
        return "tidb"
    return "mariadb" if getattr(connection, "mysql_is_mariadb", False) else "mysql"


def _limited(statement: str, rows: int) -> str:
    return f"SELECT * FROM ({statement}) AS adhoc LIMIT {int(rows)}"


def _print_mariadb(statement: str, rows: int, timeout_ms: int) -> tuple[str, list[str]]:
    return f"SET STATEMENT max_statement_time={timeout_ms / 1000:.3f} FOR {_limited(statement, rows)}", []


def _print_mysql(statement: str, rows: int, timeout_ms: int) -> tuple[str, list[str]]:
    return f"SELECT /*+ MAX_EXECUTION_TIME({int(timeout_ms)}) */ * FROM ({statement}) AS adhoc LIMIT {int(rows)}", []


def _print_tidb(statement: str, rows: int, timeout_ms: int) -> tuple[str, list[str]]:
    hint = f"/*+ MAX_EXECUTION_TIME({int(timeout_ms)}) READ_FROM_STORAGE(TIFLASH[adhoc]) */"
    return f"SELECT {hint} * FROM ({statement}) AS adhoc LIMIT {int(rows)}", ["read from the TiFlash replica"]


def _print_sqlite(statement: str, rows: int, timeout_ms: int) -> tuple[str, list[str]]:
    return _limited(statement, rows), []


PRINTERS = {"mariadb": _print_mariadb, "mysql": _print_mysql, "tidb": _print_tidb, "sqlite": _print_sqlite}
