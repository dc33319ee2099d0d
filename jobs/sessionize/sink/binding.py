"""PyMySQL's parameter binding for the sink's batches, without its per-value dispatch.

PyMySQL binds on the client: every value goes through `Connection.escape` → `escape_item` → an encoder lookup →
the encoder, about 16 µs a row of the sink's shapes; a batch of sessions binds ~20 rows per session, so this was
the largest part of the sink's CPU (profiled). Here the value's exact type picks PyMySQL's own encoder directly
(the same functions, so the same SQL text — a property test compares them); anything else, and servers in
NO_BACKSLASH_ESCAPES mode, take PyMySQL's path unchanged.
"""
from typing import Any

from pymysql import converters
from pymysql.constants import SERVER_STATUS
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


class BatchCursor(Cursor):
    """A PyMySQL cursor whose binding of a row of plain values skips the dispatch layers."""

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
        texts = [values % tuple([encoders.get(value.__class__, fallback)(value) for value in row]) for row in rows]
        count, chunk, size = 0, [], len(prefix)
        for text in texts:
            length = len(text) if text.isascii() else len(text.encode(encoding))
            if chunk and size + length + len(postfix) + 1 > max_stmt_length:
                count += self.execute(prefix + ",".join(chunk).encode(encoding) + postfix)
                chunk, size = [], len(prefix)
            size += length + (1 if chunk else 0)
            chunk.append(text)
        count += self.execute(prefix + ",".join(chunk).encode(encoding) + postfix)
        self.rowcount = count
        return count
