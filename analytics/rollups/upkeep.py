"""Rollup upkeep on a DB-API cursor, inside the caller's transaction (the sink's batch, or the settle task).

The old contribution of a session is read from analytics_session_contribution (what the rollups hold for it),
never re-derived from its stored rows, so the writer needs nothing but the new documents and the removed ids.
"""
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from .contribution import DAY_TIERS, HOURS, DeltaBatch, SessionFacts, facts_of
from .dimensions import TemplateDimensions
from .settle import Stored, on_removal, on_revision, on_tick
from .span import widen
from .sql import RollupSQL

DEFAULT_SETTLE_MS = 10_000


def settle_ms_from_env() -> int:
    """LUNA_ROLLUP_SETTLE_MS: how long a provisional session must stay unchanged before it is counted."""
    return int(os.environ.get("LUNA_ROLLUP_SETTLE_MS", DEFAULT_SETTLE_MS))


def upkeep_enabled() -> bool:
    """LUNA_ROLLUPS=off: the sink keeps neither rollups nor the fact table (to measure what they cost; the macro
    queries are then wrong until `rebuild_rollups` and `backfill_facts` run)."""
    return os.environ.get("LUNA_ROLLUPS", "on").strip().lower() not in ("off", "0", "false", "no")


@dataclass
class UpkeepStats:
    sessions: int = 0
    rows_written: int = 0  # rollup rows written after combining the batch's deltas
    rows_uncombined: int = 0  # rollup rows a writer without combining would have written


@dataclass
class RollupUpkeep:
    """Keeps one template's rollups; `dialect` is the sink dialect's name (mysql, tidb, sqlite)."""

    template_id: int
    dialect: str
    settle_ms: int = field(default_factory=settle_ms_from_env)
    stats: UpkeepStats = field(default_factory=UpkeepStats)
    enabled: bool = field(default_factory=upkeep_enabled)
    dimensions: TemplateDimensions = field(init=False)

    def __post_init__(self) -> None:
        self.dimensions = TemplateDimensions(self.template_id, self.sql.template_dimensions())

    @property
    def sql(self) -> RollupSQL:
        return RollupSQL(self.dialect)

    def write(self, cur: Any, documents: Iterable[dict[str, Any]], removed: Iterable[int], now_ms: int | None = None,
              new: Iterable[int] = ()) -> None:
        """New revisions (`documents`, at most one per session, already past the revision guard) and removed
        session ids: retract what each counted, add what it counts now, in the caller's transaction. `new`: sessions
        the caller knows have no stored row (so no contribution either): not looked up."""
        if not self.enabled:
            return
        documents, removed = list(documents), sorted(set(removed))
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        ids = sorted({int(d["uid"]) for d in documents} | set(removed))
        if not ids:
            return
        skip = set(new)
        looked_up = [i for i in ids if i not in skip]
        stored = self._load(cur, looked_up) if looked_up else {}
        dimensions = self.dimensions.get(cur)
        batch, states = DeltaBatch(), {}
        for uid in removed:
            on_removal(stored.pop(uid, Stored()), batch)
        for document in sorted(documents, key=lambda d: int(d["uid"])):
            uid = int(document["uid"])
            states[uid] = on_revision(stored.get(uid, Stored()), facts_of(document, dimensions), now_ms, self.settle_ms, batch)
        self._save(cur, batch, states, removed)
        self.stats.sessions += len(documents)

    def settle(self, cur: Any, now_ms: int | None = None, limit: int = 5000) -> int:
        """Apply pending facts stable for `settle_ms` (the beat task's transaction); returns how many."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        cur.execute(self.sql.select_settled(), [self.template_id, now_ms - self.settle_ms, limit])
        stored = self._parse(cur.fetchall())
        batch = DeltaBatch()
        states = {uid: on_tick(state, now_ms, self.settle_ms, batch) for uid, state in stored.items()}
        self._save(cur, batch, states, [])
        return len(states)

    # -- storage ------------------------------------------------------------------------------------------
    def _load(self, cur: Any, ids: list[int]) -> dict[int, Stored]:
        cur.execute(self.sql.select_contributions(len(ids)), ids)
        return self._parse(cur.fetchall())

    @staticmethod
    def _parse(rows: Iterable[tuple]) -> dict[int, Stored]:
        return {
            int(uid): Stored(SessionFacts.from_json(applied) if applied else None,
                             SessionFacts.from_json(pending) if pending else None,
                             None if since is None else int(since))
            for uid, applied, pending, since in rows
        }

    def _save(self, cur: Any, batch: DeltaBatch, states: dict[int, Stored], removed: list[int]) -> None:
        if removed:
            cur.execute(self.sql.delete_contributions(len(removed)), removed)
        if states:
            cur.executemany(self.sql.store_contribution(), [
                (uid, self.template_id, s.applied.to_json() if s.applied else None,
                 s.pending.to_json() if s.pending else None, s.pending_since_ms)
                for uid, s in sorted(states.items())
            ])
        rows = batch.nonzero()
        widen(cur, self.sql, self.template_id, {i for _, d in rows for i, n in d.histogram.items() if n > 0})
        grains = [r for r in rows if r[0].grain not in DAY_TIERS]
        if grains:
            # one statement in the rows' fixed lock order, naming only the histogram buckets this batch touches
            buckets = tuple(sorted({i for _, d in grains for i in d.histogram}))
            cur.executemany(self.sql.add_to_rollup(buckets), [
                (self.template_id, k.grain, k.dim_names, k.bucket_ms, k.status, k.conclusion, k.severity, *k.values,
                 d.sessions, d.duration_sum, d.completeness_e4, *(d.histogram.get(i, 0) for i in buckets))
                for k, d in grains
            ])
        for tier in DAY_TIERS:  # with the conclusion, then without (the same lock order everywhere)
            days = [r for r in rows if r[0].grain == tier]
            if not days:
                continue
            buckets = tuple(sorted({i for _, d in days for i in d.histogram}))
            touched = tuple(sorted({h for _, d in days for h in d.hours}))
            cur.executemany(self.sql.add_to_hours(buckets, touched, conclusion=tier == HOURS), [
                (self.template_id, k.dim_names, k.bucket_ms, *((k.conclusion,) if tier == HOURS else ()), *k.values, d.sessions,
                 d.duration_sum, d.completeness_e4, d.open_sessions, *(d.histogram.get(i, 0) for i in buckets),
                 *(d.hours.get(h, 0) for h in touched))
                for k, d in days
            ])
        self.stats.rows_written += len(rows)
        self.stats.rows_uncombined += batch.uncombined
