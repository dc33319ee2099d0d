"""Batched writer: one transaction per batch, revision-guarded upserts, idempotent on replay.

A replay after a restart (or a re-run over the same files) re-sends emissions the database already holds;
the guard (stored revision >= incoming → skip) and insert-if-absent for dead letters and late events make
that a no-op, which is what gives the job its effectively-exactly-once effect.

Nothing stops the job (SPEC §7): a database that cannot be reached is retried with back-off (the outage is
recorded once it is back), and a record the database refuses is isolated by splitting the batch and kept as a
dead letter with the reason, while the rest of the batch is written.
"""
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from analytics.facts.upkeep import FactUpkeep
from analytics.rollups.upkeep import RollupUpkeep

from ..logic.records import Rejection
from ..logic.sessions import Emission, Late, Orphan
from . import rows
from .children import TABLES as CHILD_TABLES, StoredChildren, write_children
from .dialects import DEAD_LETTER_COLUMNS, LATE_COLUMNS, OUTAGE_COLUMNS, REVISION_COLUMNS, SESSION_COLUMNS, Dialect
from .rows import split_value  # noqa: F401 — part of the writer's interface (tests, late replay)

log = logging.getLogger("luna.sink")
Record = Emission | Rejection | Late | Orphan


@dataclass
class WriteStats:
    sessions_written: int = 0
    sessions_skipped: int = 0
    dead_letters: int = 0
    late: int = 0
    batches: int = 0
    seconds: float = 0.0
    refused: int = 0  # records the database refused alone, kept as dead letters
    retries: int = 0  # attempts while the database was unreachable


@dataclass
class RetryPolicy:
    """Back-off while the database is unreachable; past `give_up_s` the error goes to Flink (restart from checkpoint)."""

    first_s: float = 0.5
    max_s: float = 10.0
    give_up_s: float = 900.0
    sleep: Callable[[float], None] = time.sleep


def is_unavailable(exc: BaseException) -> bool:
    """Errors that say 'try again later' (connection lost or refused, server gone, lock timeouts), not 'bad data'."""
    try:
        import pymysql

        if isinstance(exc, pymysql.err.InterfaceError):
            return True
        if isinstance(exc, pymysql.err.OperationalError):
            code = exc.args[0] if exc.args else 0
            return code in (1040, 1053, 1205, 1213, 1927) or code >= 2000  # 2000+: client-side (connection) errors
    except ImportError:  # SQLite-only deployments
        pass
    import sqlite3

    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


@dataclass
class SessionWriter:
    """Writes batches for one template through a DB-API connection."""

    template_id: int
    dialect: Dialect
    connect: Callable[[], Any]
    stats: WriteStats = field(default_factory=WriteStats)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pipelined: bool = True  # MySQL: writes run on the server while the next rows are built (binding.py); off: wait each
    _conn: Any = None
    rollups: RollupUpkeep = field(init=False)
    facts: FactUpkeep = field(init=False)

    def __post_init__(self) -> None:
        self.rollups = RollupUpkeep(self.template_id, self.dialect.name)  # both off with LUNA_ROLLUPS=off
        self.facts = FactUpkeep.beside(self.rollups)

    def write(self, batch: list[Record]) -> None:
        """Write the batch; wait out an unreachable database; isolate records the database refuses."""
        if not batch:
            return
        started = time.perf_counter()
        outage_started, first_error, delay = None, "", self.retry.first_s
        while True:
            try:
                self._write_splitting(batch, outage=(outage_started, first_error))
                break
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                now = time.time()
                if outage_started is None:
                    outage_started, first_error = now, f"{type(exc).__name__}: {exc}"[:500]
                    log.warning("database unreachable, retrying with back-off: %s", first_error)
                if now - outage_started > self.retry.give_up_s:
                    raise
                self.stats.retries += 1
                self.retry.sleep(delay)
                delay = min(delay * 2, self.retry.max_s)
        self.stats.batches += 1
        self.stats.seconds += time.perf_counter() - started

    def _write_splitting(self, batch: list[Record], outage: tuple[float | None, str]) -> None:
        """One transaction; if the data is refused, halves until the refused record is alone, then keeps it as a
        dead letter. A record refused alone cannot fail its neighbours."""
        try:
            self._transaction(batch, outage)
            return
        except Exception as exc:
            if is_unavailable(exc):
                raise
            error = exc
        outage = (None, "")  # recorded with the first part that commits
        if len(batch) > 1:
            middle = len(batch) // 2
            for part in (batch[:middle], batch[middle:]):
                self._write_splitting(part, outage)
            return
        record = batch[0]
        log.error("the database refused a record: %s", error)
        self.stats.refused += 1
        if isinstance(record, Emission):
            self._transaction([rows.unstorable_session(record, error)], outage)
        elif not isinstance(record, Rejection) or record.source != "(sink)":
            reason = f"job error: the database refused this record: {type(error).__name__}: {error}"
            raw = record.raw if isinstance(record, Rejection) else record.event.raw
            origin = record.origin if isinstance(record, Rejection) else record.event.origin
            source = record.source if isinstance(record, Rejection) else record.event.source
            self._transaction([Rejection(source, reason[:500], raw, origin)], outage)

    def _transaction(self, batch: list[Record], outage: tuple[float | None, str]) -> None:
        conn = self._connection()
        cur = conn.cursor()
        if hasattr(cur, "defer_writes"):
            cur.defer_writes = self.pipelined
        try:
            self._begin(cur)
            self._write_sessions(cur, [b for b in batch if isinstance(b, Emission)])
            self._write_dead_letters(cur, [b for b in batch if isinstance(b, (Rejection, Orphan))])
            self._write_late(cur, [b for b in batch if isinstance(b, Late)])
            if outage[0] is not None:
                self._record_outage(cur, outage)
            self._commit(conn, cur)
        except Exception:
            self._rollback(conn, cur)
            self._close_cursor(cur)
            self.close()
            raise
        self._close_cursor(cur)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a connection the server already dropped; nothing to keep
                pass
            finally:
                self._conn = None

    # -- transaction plumbing (sqlite3 in autocommit mode gets an explicit BEGIN IMMEDIATE) ---------------
    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self.connect()
        return self._conn

    @staticmethod
    def _close_cursor(cur: Any) -> None:
        try:
            cur.close()
        except Exception:  # the connection is gone; the error that matters was raised already
            pass

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

    def _record_outage(self, cur: Any, outage: tuple[float | None, str]) -> None:
        started, error = outage
        row = (self.template_id, int(started * 1000), int(time.time() * 1000), self.stats.retries, error)
        cur.execute(self.dialect.insert("luna_sink_outage", OUTAGE_COLUMNS), row)
        log.warning("database reachable again after %.1f s", time.time() - started)

    # -- sessions ---------------------------------------------------------------------------------------
    def _write_sessions(self, cur: Any, writes: list[Emission]) -> None:
        if not writes:
            return
        latest, replaced = newest_per_session(writes)
        ids = sorted(latest)  # a fixed lock order avoids deadlocks between concurrent writers
        cur.execute(self.dialect.select_revisions(len(ids)), ids)
        stored = {int(uid): (int(revision), status) for uid, revision, status in cur.fetchall()}
        spans = self._stored_spans(cur, latest.values())
        accepted = [latest[i] for i in ids
                    if stored.get(i, (-1, ""))[0] < latest[i].revision and not _covered_by_newer(latest[i], spans)]
        self.stats.sessions_skipped += len(latest) - len(accepted)
        if not accepted:  # a replay of what is stored: whatever these replaced went with them
            return
        now = int(time.time() * 1000)
        documents = [w.document for w in accepted]
        accepted_ids = [doc["uid"] for doc in documents]
        stored_children = StoredChildren.read(cur, self.dialect, accepted_ids)  # new sessions too: no stray rows survive
        before = {i: stored_children.summary(i, stored[i][1]) for i in accepted_ids if i in stored}
        fields = {uid: rows.field_rows(self.template_id, w.document) for uid, w in zip(accepted_ids, accepted)}
        cur.executemany(self.dialect.upsert("luna_session", SESSION_COLUMNS), [rows.session_row(self.template_id, w, now) for w in accepted])
        write_children(cur, self.dialect, self.template_id, documents, fields, stored_children)
        revisions = [rows.revision_row(self.template_id, w, before.get(uid), fields[uid], now) for uid, w in zip(accepted_ids, accepted)]
        cur.executemany(self.dialect.insert("luna_session_revision", REVISION_COLUMNS), revisions)
        gone = replaced | {uid for w in accepted for uid in w.replaces} | _superseded(accepted, spans)
        removed = sorted(gone - set(latest))
        self._delete_sessions(cur, removed)
        self._link_neighbours(cur, accepted)
        # macro rollups and the session fact table, same transaction (sessions not stored before have nothing to retract)
        self.rollups.write(cur, documents, removed, new=[i for i in accepted_ids if i not in stored])
        self.facts.write(cur, documents, removed)
        self.stats.sessions_written += len(accepted)

    def _stored_spans(self, cur: Any, writes) -> dict[str, list[tuple[int, int, int, int]]]:
        """The stored sessions of the batch's keys: key → [(id, start, end, revision)] (one indexed query)."""
        keys = sorted({rows.storable_text(w.document["session_key"])[:191] for w in writes})
        cur.execute(self.dialect.select_key_spans(len(keys)), [self.template_id, *keys])
        spans: dict[str, list[tuple[int, int, int, int]]] = {}
        for uid, key, start, end, revision in cur.fetchall():
            spans.setdefault(key, []).append((int(uid), int(start), int(end), int(revision)))
        return spans

    def _delete_sessions(self, cur: Any, gone: list[int]) -> None:
        """Rows made obsolete (merged into another session, or superseded fragments) go with the same commit."""
        if not gone:
            return
        for table in CHILD_TABLES:
            cur.execute(self.dialect.delete_where_in(table.name, "session_id", len(gone)), gone)
        cur.execute(self.dialect.delete_where_in("luna_session_revision", "session_id", len(gone)), gone)
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
        values = [rows.dead_letter_row(self.template_id, w, now) for w in writes]
        cur.executemany(self.dialect.insert_ignore("luna_dead_letter", DEAD_LETTER_COLUMNS), values)
        self.stats.dead_letters += len(values)

    def _write_late(self, cur: Any, writes: list[Late]) -> None:
        if not writes:
            return
        now = int(time.time() * 1000)
        values = [rows.late_row(self.template_id, w, now) for w in writes]
        cur.executemany(self.dialect.insert_ignore("luna_late_event", LATE_COLUMNS), values)
        self.stats.late += len(values)


def _key(write: Emission) -> str:
    return rows.storable_text(write.document["session_key"])[:191]


def _covered_by_newer(write: Emission, spans: dict[str, list[tuple[int, int, int, int]]]) -> bool:
    """A stored session of the same key, written by a later revision, already holds this one's start: this emission is
    an older fragment of it (e.g. re-sent by a replay from an older checkpoint after the fragment was deleted)."""
    doc = write.document
    return any(uid != doc["uid"] and revision > write.revision and start <= doc["start_ms"] <= end
               for uid, start, end, revision in spans.get(_key(write), ()))


def _superseded(accepted: list[Emission], spans: dict[str, list[tuple[int, int, int, int]]]) -> set[int]:
    """Stored rows of the same key that start inside a written session's span: fragments of it.

    Sessions of one key never overlap (they are more than `gap` apart), so such a row is an earlier emission of
    the same cluster under another id (its first event had not arrived yet). The job names those in `replaces`, but
    a job restored from a checkpoint does not know the fragments it wrote after that checkpoint, and its replay may
    see the events in another order: without this, a restore could leave a stale fragment beside the final session.
    Rows of one key reach one writer in emission order (SinkPartition), so the session written last is the newest.
    """
    gone = set()
    for write in accepted:
        doc = write.document
        gone |= {uid for uid, start, _, _ in spans.get(_key(write), ()) if doc["start_ms"] <= start <= doc["end_ms"]}
    return gone


def newest_per_session(writes: list[Emission]) -> tuple[dict[int, Emission], set[int]]:
    """The newest emission of each session in the batch, and the sessions a newer emission of the batch replaces
    (a merge, or a late first event that moved the session's start): those are not written, and are deleted."""
    latest: dict[int, Emission] = {}
    for write in writes:
        uid = write.document["uid"]
        if uid not in latest or latest[uid].revision < write.revision:
            latest[uid] = write
    replaced: set[int] = set()
    for write in latest.values():
        for gone in write.replaces:
            if gone in latest and latest[gone].revision < write.revision:
                replaced.add(gone)
    by_key: dict[str, list[Emission]] = {}
    for write in latest.values():
        by_key.setdefault(write.document["session_key"], []).append(write)
    for same_key in by_key.values():
        for older in same_key:
            doc = older.document
            if any(newer.revision > older.revision and newer.document["start_ms"] <= doc["start_ms"] <= newer.document["end_ms"]
                   for newer in same_key if newer is not older):
                replaced.add(doc["uid"])
    for uid in replaced:
        del latest[uid]
    return latest, replaced
