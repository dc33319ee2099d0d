"""TiDB: APPROX_PERCENTILE, and every query block hinted to read the TiFlash replica."""
import re

from ...db import TIFLASH_TABLES
from .base import Printer

_SELECT = re.compile(r"\bSELECT\b")
# a table, and the alias Django gave it if any (TiDB's hint must name the alias: U0, fv_channel, …)
_TABLES = re.compile(r"`(" + "|".join(TIFLASH_TABLES) + r")`(?: (?!(?:ON|WHERE|INNER|LEFT|GROUP|ORDER|LIMIT|AS)\b)(\w+))?")


class TiDBPrinter(Printer):
    name = "tidb"

    def percentile(self, column: str, p: float) -> tuple[str, list]:
        # TiDB wants a constant integer percent here; it comes from the spec's closed set {50, 90, 95, 99}.
        return f"APPROX_PERCENTILE({column}, {int(p)})", []

    def finalize(self, sql: str) -> str:
        """READ_FROM_STORAGE in every SELECT (TiDB ignores, with a warning, names a block does not read)."""
        tables = sorted({alias or table for table, alias in _TABLES.findall(sql)})
        if not tables:
            return sql
        hint = f"SELECT /*+ READ_FROM_STORAGE(TIFLASH[{', '.join(tables)}]) */"
        return _SELECT.sub(hint, sql)
