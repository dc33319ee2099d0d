"""Fact-table upkeep on a DB-API cursor, inside the sink's batch transaction (beside the rollup upkeep).

Unlike the rollups nothing waits to settle: the row mirrors the session row, provisional or not, so the fact path
always equals a GROUP BY over the stored sessions. Every day a batch changes (a new row's, and the old day of a
session that moved or was removed) gets its version bumped in the same transaction: what keeps the columnar replica
exact (analytics/replica; off on TiDB, whose TiFlash replica needs none).
"""
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..rollups.dimensions import TemplateDimensions
from ..replica import versions
from ..rollups.upkeep import RollupUpkeep, upkeep_enabled
from .row import fact_row
from .sql import FactSQL


@dataclass
class FactUpkeep:
    template_id: int
    dialect: str
    dimensions: TemplateDimensions
    enabled: bool = field(default_factory=upkeep_enabled)
    rows_written: int = 0
    days_bumped: int = 0

    @classmethod
    def beside(cls, rollups: RollupUpkeep) -> "FactUpkeep":
        """Shares the rollup upkeep's template, dialect, dimension cache and switch."""
        return cls(rollups.template_id, rollups.dialect, rollups.dimensions, rollups.enabled)

    def write(self, cur: Any, documents: Iterable[dict[str, Any]], removed: Iterable[int]) -> None:
        """Upsert the rows of the new revisions, delete those of removed sessions (the caller's transaction)."""
        if not self.enabled:
            return
        sql, removed = FactSQL(self.dialect), sorted(set(removed))
        dimensions = self.dimensions.get(cur)
        rows = sorted(fact_row(self.template_id, d, dimensions) for d in documents)
        days: set[versions.Day] = set()
        if self.dialect != "tidb":  # one read: where the batch's sessions are now
            days = versions.stored_days(cur, self.dialect, [*removed, *(row[0] for row in rows)])
            days.update((row[1], versions.day_of(row[2])) for row in rows)
        if removed:
            cur.execute(sql.delete(len(removed)), removed)
        if rows:
            cur.executemany(sql.upsert(), rows)
        self.days_bumped += versions.bump(cur, self.dialect, days)  # one combined upsert
        self.rows_written += len(rows)


def delete_facts(cur: Any, dialect: str, session_ids: Iterable[int]) -> int:
    """Outside the sink (retention, orphans): delete sessions' fact rows and bump the days they were in, in the
    caller's transaction. Returns the rows' count of days bumped."""
    ids = sorted(set(session_ids))
    if not ids:
        return 0
    days = versions.stored_days(cur, dialect, ids) if dialect != "tidb" else set()
    cur.execute(FactSQL(dialect).delete(len(ids)), ids)
    return versions.bump(cur, dialect, days)
