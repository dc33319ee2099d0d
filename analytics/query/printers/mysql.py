"""MySQL/MariaDB: no percentile aggregate, so percentiles are MariaDB's PERCENTILE_DISC window function over
the row set, joined (NULL-safe) to the plain GROUP BY of the other measures."""
from .base import Aggregate, Printer


class MySQLPrinter(Printer):
    name = "mysql"

    def grouped(self, inner: str, params: tuple, groups: list[str], aggregates: list[Aggregate]) -> tuple[str, list]:
        ranked = [a for a in aggregates if a.kind == "percentile"]
        if not ranked:
            return super().grouped(inner, params, groups, aggregates)
        plain = [a for a in aggregates if a.kind != "percentile"]
        select, plain_params = self._select(groups, plain)
        keys = ", ".join(f"r.{g}" for g in groups)
        window = f"OVER (PARTITION BY {keys})" if groups else "OVER ()"
        ranks = ", ".join(
            f"PERCENTILE_DISC({float(a.arg) / 100}) WITHIN GROUP (ORDER BY r.{a.column}) {window} AS {a.name}" for a in ranked
        )
        left = f"SELECT {select} FROM ({inner}) r" + (f" GROUP BY {keys}" if groups else "")
        right = f"SELECT DISTINCT {', '.join([*(f'r.{g} AS {g}' for g in groups), ranks])} FROM ({inner}) r"
        on = " AND ".join(f"a.{g} <=> p.{g}" for g in groups) or "1 = 1"
        columns = ", ".join([*(f"a.{g}" for g in groups), *(f"{'p' if a.kind == 'percentile' else 'a'}.{a.name}" for a in aggregates)])
        order = f" ORDER BY {', '.join(f'a.{g}' for g in groups)}" if groups else ""
        sql = f"SELECT {columns} FROM ({left}) a JOIN ({right}) p ON {on}{order}"
        return self.finalize(sql), [*plain_params, *params, *params]
