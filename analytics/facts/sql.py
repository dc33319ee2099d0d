"""The fact table's statements for the sink, one printer per dialect (mysql/tidb `%s`, sqlite `?`)."""
from dataclasses import dataclass

from jobs.sessionize.sink.dialects import DIALECTS

from .row import FACT_COLUMNS

FACT_TABLE = "analytics_session_fact"


@dataclass(frozen=True)
class FactSQL:
    name: str  # the sink dialect: mysql, tidb or sqlite

    def upsert(self) -> str:
        """The latest revision replaces the row (the sink's revision guard already let only newer ones through)."""
        return DIALECTS[self.name].upsert(FACT_TABLE, FACT_COLUMNS, key="session_id")

    def delete(self, count: int) -> str:
        return f"DELETE FROM {FACT_TABLE} WHERE session_id IN ({DIALECTS[self.name].marks(count)})"
