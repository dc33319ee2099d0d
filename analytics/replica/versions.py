"""Day versions (analytics_fact_days) bumped by every writer of the fact table, inside the writer's transaction.

One read and one combined upsert per batch: the old start of the batch's sessions (a revision may move a session to
another day, a removal empties one), then every touched day's version + 1. Days are written in key order, so two
transactions touching the same days lock them in the same order.
"""
from typing import Any, Iterable

from jobs.sessionize.sink.dialects import DIALECTS

DAY_MS = 86_400_000
VERSIONS_TABLE = "analytics_fact_days"
Day = tuple[int, int]  # (template_id, UTC day start ms)


def day_of(start_ms: int) -> int:
    return start_ms - start_ms % DAY_MS


def stored_days(cur: Any, dialect: str, session_ids: Iterable[int]) -> set[Day]:
    """The days the fact table holds these sessions in now (before the caller changes them)."""
    ids = sorted(set(session_ids))
    if not ids:
        return set()
    cur.execute(f"SELECT template_id, start_ms FROM analytics_session_fact WHERE session_id IN ({DIALECTS[dialect].marks(len(ids))})",
                ids)  # the day in Python: `%` means a placeholder to PyMySQL and MOD() is not in every SQLite
    return {(int(t), day_of(int(s))) for t, s in cur.fetchall()}


def bump(cur: Any, dialect: str, days: Iterable[Day]) -> int:
    """Version + 1 for each day (the caller's transaction; a new day starts at 1), in one multi-row statement on
    MySQL (executemany). Returns how many days."""
    ordered = sorted(set(days))
    if ordered:
        cur.executemany(DIALECTS[dialect].upsert_adding(VERSIONS_TABLE, ("template_id", "day_ms"), ("version",)),
                        [(*day, 1) for day in ordered])
    return len(ordered)


def backfill_sql(dialect: str, where: str = "") -> str:
    """Every day the fact table holds (optionally `where`), at version 1 or one up (migration 0008, the bench loader);
    run without parameters."""
    day = f"start_ms - start_ms % {DAY_MS}" if dialect == "sqlite" else f"start_ms - MOD(start_ms, {DAY_MS})"
    select = f"SELECT template_id, {day}, 1 FROM analytics_session_fact {where} GROUP BY template_id, {day}"
    if dialect == "sqlite":  # `WHERE true` lets SQLite parse the upsert after a SELECT
        return (f"INSERT INTO {VERSIONS_TABLE} (template_id, day_ms, version) SELECT * FROM ({select}) WHERE true "
                f"ON CONFLICT(template_id, day_ms) DO UPDATE SET version = version + 1")
    return f"INSERT INTO {VERSIONS_TABLE} (template_id, day_ms, version) {select} ON DUPLICATE KEY UPDATE version = version + 1"
