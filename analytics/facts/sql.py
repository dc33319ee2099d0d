"""The fact table's statements for the sink, one printer per dialect (mysql/tidb `%s`, sqlite `?`)."""
from dataclasses import dataclass

from .row import FACT_COLUMNS

FACT_TABLE = "analytics_session_fact"


@dataclass(frozen=True)
class FactSQL:
    name: str  # the sink dialect: mysql, tidb or sqlite

    @property
    def mark(self) -> str:
        return "?" if self.name == "sqlite" else "%s"

    def upsert(self) -> str:
        """The latest revision replaces the row (the sink's revision guard already let only newer ones through)."""
        head = f"INSERT INTO {FACT_TABLE} ({', '.join(FACT_COLUMNS)}) VALUES ({', '.join([self.mark] * len(FACT_COLUMNS))})"
        others = FACT_COLUMNS[1:]
        if self.name == "sqlite":
            return f"{head} ON CONFLICT(session_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in others)}"
        return f"{head} ON DUPLICATE KEY UPDATE {', '.join(f'{c} = VALUES({c})' for c in others)}"

    def delete(self, count: int) -> str:
        return f"DELETE FROM {FACT_TABLE} WHERE session_id IN ({', '.join([self.mark] * count)})"
