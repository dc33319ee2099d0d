"""The printer interface and what the three backends share: an outer GROUP BY over the ORM's row set."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Aggregate:
    """One measure over the row set: `kind` as in the spec, `column` the row-set column, `arg` p or a value."""

    name: str
    kind: str
    column: str | None = None
    arg: float | str | None = None


class Printer:
    """Function-mapping table + the one query shape per backend. Subclasses override what differs."""

    name = "base"

    def finalize(self, sql: str) -> str:
        """Statement-level additions (TiDB's storage hints); the ORM's SQL otherwise unchanged."""
        return sql

    def aggregate(self, agg: Aggregate) -> tuple[str, list]:
        column = f"r.{agg.column}" if agg.column else ""
        if agg.kind == "sessions":
            return "COUNT(*)", []
        if agg.kind == "distinct":
            return f"COUNT(DISTINCT {column})", []
        if agg.kind == "sum":
            return f"SUM({column})", []
        if agg.kind in ("avg", "completeness"):
            return f"AVG({column})", []
        if agg.kind == "share":
            return f"SUM(CASE WHEN {column} = {self.mark} THEN 1 ELSE 0 END)", [agg.arg]
        if agg.kind == "percentile":
            return self.percentile(column, float(agg.arg))
        raise ValueError(f"no aggregate {agg.kind!r}")

    @property
    def mark(self) -> str:
        """Django's DB-API cursors take `%s` on every backend (its SQLite wrapper converts them)."""
        return "%s"

    def percentile(self, column: str, p: float) -> tuple[str, list]:
        raise NotImplementedError

    def grouped(self, inner: str, params: tuple, groups: list[str], aggregates: list[Aggregate]) -> tuple[str, list]:
        """SELECT groups, aggregates FROM (inner) r GROUP BY groups ORDER BY groups."""
        select, agg_params = self._select(groups, aggregates)
        sql = f"SELECT {select} FROM ({inner}) r"
        if groups:
            keys = ", ".join(f"r.{g}" for g in groups)
            sql += f" GROUP BY {keys} ORDER BY {keys}"
        return self.finalize(sql), [*agg_params, *params]

    def _select(self, groups: list[str], aggregates: list[Aggregate]) -> tuple[str, list]:
        parts, params = [f"r.{g} AS {g}" for g in groups], []
        for agg in aggregates:
            sql, agg_params = self.aggregate(agg)
            parts.append(f"{sql} AS {agg.name}")
            params += agg_params
        return ", ".join(parts), params
