"""Fact-table upkeep on a DB-API cursor, inside the sink's batch transaction (beside the rollup upkeep).

Unlike the rollups nothing waits to settle: the row mirrors the session row, provisional or not, so the fact path
always equals a GROUP BY over the stored sessions.
"""
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..rollups.dimensions import TemplateDimensions
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

    @classmethod
    def beside(cls, rollups: RollupUpkeep) -> "FactUpkeep":
        """Shares the rollup upkeep's template, dialect, dimension cache and switch."""
        return cls(rollups.template_id, rollups.dialect, rollups.dimensions, rollups.enabled)

    def write(self, cur: Any, documents: Iterable[dict[str, Any]], removed: Iterable[int]) -> None:
        """Upsert the rows of the new revisions, delete those of removed sessions (the caller's transaction)."""
        if not self.enabled:
            return
        sql, removed = FactSQL(self.dialect), sorted(set(removed))
        if removed:
            cur.execute(sql.delete(len(removed)), removed)
        dimensions = self.dimensions.get(cur)
        rows = sorted(fact_row(self.template_id, d, dimensions) for d in documents)
        if rows:
            cur.executemany(sql.upsert(), rows)
        self.rows_written += len(rows)
