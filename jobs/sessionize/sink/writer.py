"""Batched writer: one transaction per batch, revision-guarded upserts, idempotent on replay.

A replay after a restart (or a re-run over the same files) re-sends emissions the database already holds;
the guard (stored revision >= incoming → skip) and insert-if-absent for dead letters and late events make
that a no-op, which is what gives the job its effectively-exactly-once effect.
"""
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from analytics.rollups.upkeep import RollupUpkeep

from ..logic.records import Rejection, line_uid
from ..logic.sessions import Emission, Late, Orphan
from .dialects import (
    CHILD_TABLES, CONCLUSION_COLUMNS, DEAD_LETTER_COLUMNS, FIELD_COLUMNS, LATE_COLUMNS, NODE_COLUMNS,
    SESSION_COLUMNS, Dialect,
)

MAX_STR_VALUE = 191


@dataclass
class WriteStats:
    sessions_written: int = 0
    sessions_skipped: int = 0
    dead_letters: int = 0
    late: int = 0
    batches: int = 0
    seconds: float = 0.0


@dataclass
class SessionWriter:
    """Writes batches for one template through a DB-API connection."""

    template_id: int
    dialect: Dialect
    connect: Callable[[], Any]
    stats: WriteStats = field(default_factory=WriteStats)
    _conn: Any = None
    rollups: RollupUpkeep = field(init=False)

    def __post_init__(self) -> None:
        self.rollups = RollupUpkeep(self.template_id, self.dialect.name)

    def write(self, batch: list[Emission | Rejection | Late | Orphan]) -> None:
        if not batch:
            return
        started = time.perf_counter()
        conn = self._connection()
        cur = conn.cursor()
        try:
            self._begin(cur)
            self._write_sessions(cur, [b for b in batch if isinstance(b, Emission)])
            self._write_dead_letters(cur, [b for b in batch if isinstance(b, (Rejection, Orphan))])
            self._write_late(cur, [b for b in batch if isinstance(b, Late)])
            self._commit(conn, cur)
        except Exception:
            self._rollback(conn, cur)
            self.close()
            raise
        finally:
            cur.close()
        self.stats.batches += 1
        self.stats.seconds += time.perf_counter() - started

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    # -- transaction plumbing (sqlite3 in autocommit mode gets an explicit BEGIN IMMEDIATE) ---------------
    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self.connect()
        return self._conn

    def _begin(self, cur: Any) -> None:
        if self.dialect.name == "sqlite":
            cur.execute("BEGIN IMMEDIATE")

    def _commit(self, conn: Any, cur: Any) -> None:
        if self.dialect.name == "sqlite":
            cur.execute("COMMIT")
        else:
            conn.commit()

    def _rollback(self, conn: Any, cur: Any) -> None:
        try:
            if self.dialect.name == "sqlite":
                cur.execute("ROLLBACK")
            else:
                conn.rollback()
        except Exception:  # the connection is discarded right after; the original error matters
            pass

    # -- sessions ---------------------------------------------------------------------------------------
    def _write_sessions(self, cur: Any, writes: list[Emission]) -> None:
        if not writes:
            return
        latest: dict[int, Emission] = {}
        for write in writes:
            uid = write.document["uid"]
            if uid not in latest or latest[uid].revision < write.revision:
                latest[uid] = write
        ids = sorted(latest)  # a fixed lock order avoids deadlocks between concurrent writers
        cur.execute(self.dialect.select_revisions(len(ids)), ids)
        stored = {int(row[0]): int(row[1]) for row in cur.fetchall()}
        accepted = [latest[i] for i in ids if stored.get(i, -1) < latest[i].revision]
        self.stats.sessions_skipped += len(latest) - len(accepted)
        if not accepted:
            return
        now = int(time.time() * 1000)
        accepted_ids = [w.document["uid"] for w in accepted]
        cur.executemany(self.dialect.upsert("luna_session", SESSION_COLUMNS), [self._session_row(w, now) for w in accepted])
        for table in CHILD_TABLES:
            cur.execute(self.dialect.delete_where_in(table, "session_id", len(accepted_ids)), accepted_ids)
        self._insert_children(cur, accepted)
        gone = {uid for w in accepted for uid in w.replaces} | self._superseded(cur, accepted)
        removed = sorted(gone - set(accepted_ids))
        self._delete_sessions(cur, removed)
        self._link_neighbours(cur, accepted)
        self.rollups.write(cur, [w.document for w in accepted], removed)  # macro rollups, same transaction
        self.stats.sessions_written += len(accepted)

    def _session_row(self, write: Emission, now: int) -> tuple:
        doc = write.document
        return (
            doc["uid"], self.template_id, doc["session_key"][:191], doc["start_ms"], doc["end_ms"], doc["duration_ms"],
            doc["status"], write.revision, doc["completeness"], doc["primary_conclusion"], int(doc["split"]),
            doc["prev_uid"], doc["next_uid"], now,
        )

    def _insert_children(self, cur: Any, accepted: list[Emission]) -> None:
        fields, nodes, conclusions = [], [], []
        for write in accepted:
            doc, uid = write.document, write.document["uid"]
            for name, value in doc["fields"].items():
                fields.append((uid, self.template_id, name, *split_value(value)))
            for node in doc["nodes"]:
                nodes.append((uid, node["node"], node["seq"], node["source"], node["ts"], int(node["supplement"]), node["uid"], node["raw"]))
            for item in doc["conclusions"]:
                conclusions.append((uid, self.template_id, item["name"], item["label"], item["severity"], doc["start_ms"]))
        for table, columns, rows in (
            ("luna_session_field", FIELD_COLUMNS, fields),
            ("luna_session_node", NODE_COLUMNS, nodes),
            ("luna_session_conclusion", CONCLUSION_COLUMNS, conclusions),
        ):
            if rows:
                cur.executemany(self.dialect.insert(table, columns), rows)

    def _superseded(self, cur: Any, accepted: list[Emission]) -> set[int]:
        """Stored rows of the same key that start inside a written session's span: fragments of it.

        Sessions of one key never overlap (they are more than `gap` apart), so such a row is an earlier emission of
        the same cluster under another id (its first event had not arrived yet). The job names those in
        `replaces`, but a job restored from a checkpoint does not know the fragments it wrote after that checkpoint,
        and its replay may see the events in another order: without this, a restore could leave a stale fragment
        beside the final session. Rows of one key reach one writer in emission order (SinkPartition), so the
        session written last is the newest.
        """
        spans: dict[str, list[tuple[int, int]]] = {}
        for write in accepted:
            doc = write.document
            spans.setdefault(doc["session_key"][:191], []).append((doc["start_ms"], doc["end_ms"]))
        keys = sorted(spans)
        cur.execute(self.dialect.select_key_spans(len(keys)), [self.template_id, *keys])
        return {int(uid) for uid, key, start in cur.fetchall()
                if any(first <= start <= last for first, last in spans.get(key, ()))}

    def _delete_sessions(self, cur: Any, gone: list[int]) -> None:
        """Rows made obsolete (merged into another session, or superseded fragments) go with the same commit."""
        if not gone:
            return
        for table in CHILD_TABLES:
            cur.execute(self.dialect.delete_where_in(table, "session_id", len(gone)), gone)
        cur.execute(self.dialect.delete_where_in("luna_session", "id", len(gone)), gone)

    def _link_neighbours(self, cur: Any, accepted: list[Emission]) -> None:
        """Split sessions point at each other, including a first half that left the job's state long ago."""
        to_prev = [(w.document["uid"], w.document["prev_uid"]) for w in accepted if w.document["prev_uid"] is not None]
        to_next = [(w.document["uid"], w.document["next_uid"]) for w in accepted if w.document["next_uid"] is not None]
        if to_prev:
            cur.executemany(self.dialect.link("next_id"), to_prev)
        if to_next:
            cur.executemany(self.dialect.link("prev_id"), to_next)

    # -- what the job could not use ---------------------------------------------------------------------
    def _write_dead_letters(self, cur: Any, writes: list[Rejection | Orphan]) -> None:
        if not writes:
            return
        now = int(time.time() * 1000)
        rows = [self._dead_letter_row(w, now) for w in writes]
        cur.executemany(self.dialect.insert_ignore("luna_dead_letter", DEAD_LETTER_COLUMNS), rows)
        self.stats.dead_letters += len(rows)

    def _dead_letter_row(self, item: Rejection | Orphan, now: int) -> tuple:
        if isinstance(item, Orphan):
            e = item.event
            return (self.template_id, e.source, f"orphan supplement: {item.reason}"[:500], e.raw, e.origin[:500], e.uid, now)
        uid = line_uid(item.source, item.raw.strip())
        return (self.template_id, item.source, item.reason[:500], item.raw, item.origin[:500], uid, now)

    def _write_late(self, cur: Any, writes: list[Late]) -> None:
        if not writes:
            return
        now = int(time.time() * 1000)
        rows = [
            (self.template_id, w.event.source, w.event.node, (w.event.session_key or "")[:191], (w.event.join_key or "")[:191],
             w.event.ts, w.reason[:200], w.event.raw, w.event.origin[:500], w.event.uid, now)
            for w in writes
        ]
        cur.executemany(self.dialect.insert_ignore("luna_late_event", LATE_COLUMNS), rows)
        self.stats.late += len(rows)


def split_value(value: Any) -> tuple[str | None, float | None]:
    """Typed key-value columns: numbers are searchable as numbers, everything else as text."""
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, (int, float)):
        return None, float(value)
    return str(value)[:MAX_STR_VALUE], None
