"""SQLite: LUNA_PERCENTILE is a nearest-rank aggregate registered on every connection (analytics/db.py)."""
from .base import Printer


class SQLitePrinter(Printer):
    name = "sqlite"

    def percentile(self, column: str, p: float) -> tuple[str, list]:
        return f"LUNA_PERCENTILE({column}, {self.mark})", [p]
