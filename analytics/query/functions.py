"""Vendor-specific ORM expressions the macro compiler needs (Django's own cover everything else)."""
from django.db.models import Aggregate, BigIntegerField, Case, CharField, Expression, F, FloatField, Func, Sum, Value, When

from ..db import is_tidb


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


class ApproxPercentile(Aggregate):
    """TiDB's APPROX_PERCENTILE(column, p): p is printed, since TiDB wants a constant; it comes from the spec's closed
    set {50, 90, 95, 99} (never user text)."""

    function = "APPROX_PERCENTILE"
    output_field = FloatField()

    def __init__(self, expression: str, p: int) -> None:
        super().__init__(F(expression))
        self.p = int(p)

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"APPROX_PERCENTILE({column}, {self.p})", params


class CountSum(Sum):
    """SUM of the rollups' integer counts and sums. MariaDB/MySQL add integers as DECIMAL, one decimal addition per
    value: a day × channel p95 (64 histogram sums over 20k rows at 10 M sessions) spent most of its server time there.
    As DOUBLE the sum is exact below 2**53 (≈ 9·10^15: durations in ms of billions of sessions) and 2–4× faster;
    the service reads the float back as an int. TiDB and SQLite keep the plain SUM."""

    def as_mysql(self, compiler, connection, **extra):
        if is_tidb(connection):
            return self.as_sql(compiler, connection, **extra)
        return self.as_sql(compiler, connection, template="SUM(CAST(%(expressions)s AS DOUBLE))", **extra)


class PackedSums(Func):
    """The sums of several columns as one text 'n0,n1,…': the day rows return their 24 hourly counts
    in one column (PyMySQL parses each value of each row in Python: 24 columns cost as much as 24 rows)."""

    output_field = CharField()

    def __init__(self, *columns: str) -> None:
        super().__init__(*(CountSum(column) for column in columns))

    def as_mysql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CONCAT_WS(',', %(expressions)s)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" || ',' || ", **extra)
