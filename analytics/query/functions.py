"""Vendor-specific ORM expressions the macro compiler needs (Django's own cover everything else)."""
from django.db.models import BigIntegerField, Case, Expression, F, Func, Value, When


class TimeBucket(Func):
    """floor((t + offset) / size) * size − offset in integer arithmetic: MySQL/TiDB `DIV`, SQLite integer `/`."""

    output_field = BigIntegerField()

    def __init__(self, expression: Expression | str, size_ms: int, offset_ms: int) -> None:
        super().__init__(F(expression) if isinstance(expression, str) else expression, Value(size_ms), Value(offset_ms))

    def _print(self, compiler, connection, divide: str):
        (t, t_params), (size, size_params), (offset, offset_params) = (compiler.compile(e) for e in self.source_expressions)
        sql = f"((({t} + {offset}) {divide} {size}) * {size} - {offset})"
        return sql, (*t_params, *offset_params, *size_params, *size_params, *offset_params)

    def as_mysql(self, compiler, connection, **extra):
        return self._print(compiler, connection, "DIV")

    def as_sqlite(self, compiler, connection, **extra):
        return self._print(compiler, connection, "/")  # both operands are integers: integer division

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError(f"TimeBucket has no printer for {connection.vendor}")


def boundary_bucket(column: str, boundaries: tuple[int, ...]) -> Case:
    """The bucket start of `column` among DST-exact boundaries (a CASE over bound values)."""
    whens = [When(**{f"{column}__lt": nxt}, then=Value(start)) for start, nxt in zip(boundaries, boundaries[1:])]
    return Case(*whens, default=Value(boundaries[-1]), output_field=BigIntegerField())
