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
    return "'" + converters.escape_string(value) + "'"


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
