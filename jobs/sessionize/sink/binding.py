"""PyMySQL's parameter binding for the sink's batches, without its per-value dispatch; writes whose answer the
sink does not read are pipelined with the Python work that follows them.

PyMySQL binds on the client: every value goes through `Connection.escape` → `escape_item` → an encoder lookup →
the encoder, about 16 µs a row of the sink's shapes; a batch of sessions binds ~20 rows per session, so this was
the largest part of the sink's CPU (profiled). Here the value's exact type picks PyMySQL's own encoder directly
(the same functions, so the same SQL text — a property test compares them); anything else, and servers in
NO_BACKSLASH_ESCAPES mode, take PyMySQL's path unchanged.
"""
from typing import Any

from pymysql import converters
from pymysql.connections import Connection
from pymysql.constants import COMMAND, SERVER_STATUS
from pymysql.cursors import Cursor


def _text(value: str) -> str:
    """converters.escape_str as seven C passes: its `translate` maps some characters to two, which takes CPython's
    slow per-character path (a node's raw line: 11.8 → 2.6 µs); backslashes first, and no replacement makes a
    character a later one replaces, so the result is the same text."""
    return ("'" + value.replace("\\", "\\\\").replace("\0", "\\0").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\032", "\\Z").replace("'", "\\'").replace('"', '\\"') + "'")


_ENCODERS = {
    str: _text,
    int: str,  # PyMySQL's escape_int
    bool: lambda value: str(int(value)),  # escape_bool
    float: converters.escape_float,
    type(None): lambda value: "NULL",
}


_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", b"INSERT", b"UPDATE", b"DELETE"})  # a statement's first 6 characters


class PipelinedConnection(Connection):
    """A connection that can send a statement without waiting for its answer (`send_deferred`): the answer is read
    before the next command of any kind (a statement, COMMIT, ROLLBACK, ping), so the server executes a write while
    the client builds the next one. An error of the deferred statement is raised by that next command, inside the
    same transaction: the transaction fails as a whole, as it would have one statement earlier."""

    _pending = False

    def _execute_command(self, command, sql):
        self.drain()
        return super()._execute_command(command, sql)

    def drain(self) -> None:
        """Read the answer of a deferred statement, if one is outstanding (its error is raised here)."""
        if self._pending:
            self._pending = False  # cleared first: a failed answer is consumed, the next command may proceed
            self._affected_rows = self._read_query_result()

    def send_deferred(self, sql: Any) -> None:
        self._execute_command(COMMAND.COM_QUERY, sql)
        self._pending = True

    def _force_close(self):
        self._pending = False  # a dropped connection has no answer to wait for
        super()._force_close()


class BatchCursor(Cursor):
    """A PyMySQL cursor whose binding of a row of plain values skips the dispatch layers.

    With `defer_writes` set (the sink's transactions), an INSERT, UPDATE or DELETE is sent without waiting for its
    answer when the connection can (PipelinedConnection): nothing in the sink's transaction reads a write's row
    count, and any other statement (its SELECTs) waits for what was sent before it."""

    defer_writes = False

    def _query(self, q: Any) -> int:
        conn = self._get_db()
        if self.defer_writes and isinstance(conn, PipelinedConnection) and q[:6].upper() in _WRITES:
            self._clear_result()
            conn.send_deferred(q)
            self.rowcount = -1  # not known yet, and not asked for
            return -1
        return super()._query(q)

    def _mogrify(self, query: Any, args: Any = None) -> str:
        conn = self._get_db()
        if type(args) not in (tuple, list) or conn.server_status & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES:
            return super()._mogrify(query, args)
        encoders, fallback = _ENCODERS, conn.escape
        return query % tuple([encoders.get(value.__class__, fallback)(value) for value in args])

    def _do_execute_many(self, prefix: Any, values: str, postfix: Any, args: Any, max_stmt_length: int, encoding: str) -> int:
        """PyMySQL's multi-row INSERT, cut at the same row boundaries into the same statements, with each row bound
        in one expression and each statement encoded once (PyMySQL encodes and appends row by row: the sink
        sends ~30 rows a session, most of them short)."""
        conn = self._get_db()
        rows = args if isinstance(args, (list, tuple)) else list(args)
        if conn.server_status & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES or any(type(row) not in (tuple, list) for row in rows):
            return super()._do_execute_many(prefix, values, postfix, rows, max_stmt_length, encoding)
        encoding = conn.encoding
        prefix = prefix if isinstance(prefix, bytes) else prefix.encode(encoding)
        postfix = postfix if isinstance(postfix, bytes) else postfix.encode(encoding)
        encoders, fallback = _ENCODERS, conn.escape
        count, chunk, size = 0, [], len(prefix)
        for row in rows:  # bound as the statement grows: with deferred writes the server runs the last one meanwhile
            text = values % tuple([encoders.get(value.__class__, fallback)(value) for value in row])
            length = len(text) if text.isascii() else len(text.encode(encoding))
            if chunk and size + length + len(postfix) + 1 > max_stmt_length:
                count += self.execute(prefix + ",".join(chunk).encode(encoding) + postfix)
                chunk, size = [], len(prefix)
            size += length + (1 if chunk else 0)
            chunk.append(text)
        count += self.execute(prefix + ",".join(chunk).encode(encoding) + postfix)
        self.rowcount = -1 if count < 0 else count
        return count
