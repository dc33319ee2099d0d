"""A session's child rows (fields, nodes, conclusions, rule errors) rewritten by difference, not wholesale.

A session is written 2–3 times on its way (early fire, then the supplements that arrive late, then close), and
most revisions add a node or a value: deleting and re-inserting every row (each node row carries its raw line)
was most of the sink's rows and client CPU. Rows are compared on what they store; a node row's raw line is left
out of the comparison because its `event_uid` is a hash of the line (same uid → same line). The stored rows read
here are also what the revision history compares against (`rows.stored_summary`).
"""
from dataclasses import dataclass, field
from typing import Any, Callable

from . import rows
from .dialects import CONCLUSION_COLUMNS, FIELD_COLUMNS, NODE_COLUMNS, RULE_ERROR_COLUMNS, Dialect


@dataclass(frozen=True)
class ChildTable:
    name: str
    columns: tuple[str, ...]  # as inserted
    compared: tuple[str, ...]  # what two rows of one session must agree on to be the same row
    key: Callable[[tuple], tuple]  # an inserted row → its compared values


TABLES = (  # a session's child tables (the revision history, only appended to, is not one)
    ChildTable("luna_session_field", FIELD_COLUMNS, ("name", "str_value", "num_value", "node"), lambda r: r[2:6]),
    ChildTable("luna_session_node", NODE_COLUMNS, ("node", "seq", "source", "event_ms", "supplement", "event_uid"), lambda r: r[1:7]),
    ChildTable("luna_session_conclusion", CONCLUSION_COLUMNS, ("name", "label", "severity", "start_ms"), lambda r: r[2:6]),
    ChildTable("luna_session_rule_error", RULE_ERROR_COLUMNS, ("rule", "message", "start_ms"), lambda r: r[2:5]),
)


@dataclass
class StoredChildren:
    """The stored child rows of some sessions: table → session id → compared values → row ids."""

    rows: dict[str, dict[int, dict[tuple, list[int]]]] = field(default_factory=dict)

    @classmethod
    def read(cls, cur: Any, dialect: Dialect, ids: list[int]) -> "StoredChildren":
        stored = cls({table.name: {} for table in TABLES})
        if not ids:
            return stored
        for table in TABLES:
            cur.execute(dialect.select_children(table.name, ("id", *table.compared), len(ids)), ids)
            by_session = stored.rows[table.name]
            for session_id, row_id, *values in cur.fetchall():
                by_session.setdefault(int(session_id), {}).setdefault(tuple(values), []).append(int(row_id))
        return stored

    def summary(self, session_id: int, status: str) -> dict[str, Any]:
        """What the stored revision showed, for the new revision's history."""
        def keys(table: str) -> list[tuple]:
            return [key for key, ids in self.rows[table].get(session_id, {}).items() for _ in ids]
        return rows.stored_summary(
            [k[0] for k in keys("luna_session_node")],
            [(k[0], k[1] if k[1] is not None else k[2]) for k in keys("luna_session_field")],
            [k[0] for k in keys("luna_session_conclusion")],
            status,
        )

    def difference(self, table: ChildTable, session_id: int, new_rows: list[tuple]) -> tuple[list[tuple], list[int]]:
        """(rows to insert, row ids to delete) that turn the stored rows into `new_rows` (as multisets)."""
        remaining = {key: list(ids) for key, ids in self.rows[table.name].get(session_id, {}).items()}
        inserts = []
        for row in new_rows:
            ids = remaining.get(table.key(row))
            if ids:
                ids.pop()
            else:
                inserts.append(row)
        return inserts, [row_id for ids in remaining.values() for row_id in ids]


def write_children(cur: Any, dialect: Dialect, template_id: int, documents: list[dict[str, Any]],
                   field_rows: dict[int, list[tuple]], stored: StoredChildren) -> int:
    """Bring every document's child rows to what it shows; returns the rows written or deleted."""
    made = {
        "luna_session_field": lambda doc: field_rows[doc["uid"]],
        "luna_session_node": rows.node_rows,
        "luna_session_conclusion": lambda doc: rows.conclusion_rows(template_id, doc),
        "luna_session_rule_error": lambda doc: rows.rule_error_rows(template_id, doc),
    }
    changed = 0
    for table in TABLES:
        inserts, deletes = [], []
        for doc in documents:
            added, removed = stored.difference(table, doc["uid"], made[table.name](doc))
            inserts += added
            deletes += removed
        if deletes:
            cur.execute(dialect.delete_where_in(table.name, "id", len(deletes)), deletes)
        if inserts:
            cur.executemany(dialect.insert(table.name, table.columns), inserts)
        changed += len(inserts) + len(deletes)
    return changed
