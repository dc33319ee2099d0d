"""Statements compiled once per worker for what every search request reads by a few parameters (issue 12).

Django compiles each queryset to SQL on every execution: ~0.6 ms of CPU for a plain `filter(pk__in=…)`, the largest
part of reading a page's rows and their conclusions, which differ per request only by their ids. Here the ORM
compiles such a statement once per worker and shape (for an IN list: its length, at most a page's 51), and later
requests run it with their own values as bound parameters. `rows_in` still builds model instances (for the search
page); `values` returns the value tuples, Django's converters applied, for callers that need no instances (the API's
list rows, the token lookup).
"""
from typing import Callable, Hashable, Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import RawQuerySet

_compiled: dict[tuple, tuple[str, list[int], list]] = {}


def _compile(slot: tuple, build: Callable[[], QuerySet], stand_ins: Sequence, alias: str) -> tuple[str, list[int], list]:
    """(sql, which stand-in each placeholder takes, converters) of `build()`, a queryset whose parameters are all
    among `stand_ins` (distinct values of the right types, in any order or repeated)."""
    entry = _compiled.get(slot)
    if entry is None:
        compiler = build().query.get_compiler(alias)
        sql, params = compiler.as_sql()
        marks = list(stand_ins)
        if len(set(marks)) != len(marks) or any(param not in marks for param in params):
            raise ValueError(f"{slot[0]}: the queryset has parameters of its own; compile only a fixed shape")
        entry = _compiled[slot] = (sql, [marks.index(param) for param in params], _converters(compiler))
    return entry


def _converters(compiler) -> list:
    """[(column, converters, expression)] of a compiled statement (after as_sql), as Django applies them."""
    columns = [select[0] for select in compiler.select[: compiler.col_count]] if compiler.select else []
    return [(index, *pair) for index, pair in compiler.get_converters(columns).items()] if columns else []


def _fetch(alias: str, sql: str, params: Sequence, converters: list) -> list[tuple]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not converters:
        return list(rows)
    converted = []
    for row in rows:
        row = list(row)
        for index, functions, expression in converters:
            for function in functions:
                row[index] = function(row[index], expression, connection)
        converted.append(tuple(row))
    return converted


def values(key: Hashable, build: Callable[[], QuerySet], stand_ins: Sequence, params: Sequence, alias: str = "default") -> list[tuple]:
    """The rows of the values_list queryset `build()` with each of `params` in place of the stand-in at its position
    in `stand_ins` (the same stand-ins for every call with this `key`), as tuples converted as Django would."""
    sql, order, converters = _compile((key, connections[alias].vendor, len(stand_ins)), build, stand_ins, alias)
    return _fetch(alias, sql, [params[index] for index in order], converters)


def run(queryset: QuerySet) -> tuple[list[tuple], tuple[str, tuple] | None]:
    """The rows of a values_list queryset, compiled this once, and the statement that read them (None when the
    queryset can match nothing): for a caller that also keys a cache on the statement, so it is compiled once."""
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return [], None
    return _fetch(queryset.db, sql, params, _converters(compiler)), (sql, tuple(params))


def stand_ins(count: int) -> range:
    """Distinct integer stand-ins for an IN list of `count` ids (equal ones would be folded into fewer placeholders)."""
    return range(1, count + 1)


def rows_in(key: str, queryset: QuerySet, column: str, ids: Sequence) -> RawQuerySet:
    """The rows of `queryset` whose `column` is one of `ids` (distinct), as a RawQuerySet. `key` names the
    queryset's shape: one key, one queryset (its filters and ordering are compiled in with the first call)."""
    alias, marks = queryset.db, stand_ins(len(ids))
    sql, order, _ = _compile((key, connections[alias].vendor, len(ids)), lambda: queryset.filter(**{f"{column}__in": marks}), marks, alias)
    return queryset.model._default_manager.db_manager(alias).raw(sql, [ids[index] for index in order])
