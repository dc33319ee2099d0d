"""The template's configured dimensions as the sink sees them: read from its newest version, cached briefly.

Shared by the rollup and the fact-table upkeep, which run in the same sink batch on the same cursor.
"""
import json
import time
from dataclasses import dataclass
from typing import Any

DIMENSIONS_TTL_S = 30.0


@dataclass
class TemplateDimensions:
    template_id: int
    statement: str  # RollupSQL.template_dimensions() of the sink's dialect
    _names: tuple[str, ...] = ()
    _read_at: float = float("-inf")

    def pin(self, names: tuple[str, ...] | list[str]) -> None:
        """Fixed dimensions (rebuilds and backfills read them from the ORM): never re-read."""
        self._names, self._read_at = tuple(names), float("inf")

    def get(self, cur: Any) -> tuple[str, ...]:
        """Re-read every DIMENSIONS_TTL_S: a new template version takes effect without restarting the job."""
        if time.monotonic() - self._read_at > DIMENSIONS_TTL_S:
            cur.execute(self.statement, [self.template_id])
            row = cur.fetchone()
            document = row[0] if row else None
            document = json.loads(document) if isinstance(document, (str, bytes)) else (document or {})
            self._names = tuple(document.get("dimensions") or ())
            self._read_at = time.monotonic()
        return self._names
