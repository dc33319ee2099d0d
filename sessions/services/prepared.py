"""Statements compiled once per worker for what every search request reads by id (issue 12).

Django compiles each queryset to SQL on every execution: ~0.6 ms of CPU for a plain `filter(pk__in=…)`, the largest
part of reading a page's rows and their conclusions, which differ per request only by their ids. Here the ORM
compiles such a statement once per worker and number of ids (at most a page's 51), and later requests run it as a
raw query with their ids as parameters; Django still builds the model instances and converts the values.
"""
from typing import Sequence

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import RawQuerySet

_compiled: dict[tuple[str, str, int], str] = {}


def rows_in(key: str, queryset: QuerySet, column: str, values: Sequence) -> RawQuerySet:
    """The rows of `queryset` whose `column` is one of `values` (distinct), as a RawQuerySet. `key` names the
    queryset's shape: one key, one queryset (its filters and ordering are compiled in with the first call)."""
    alias = queryset.db
    slot = (key, connections[alias].vendor, len(values))
    sql = _compiled.get(slot)
    if sql is None:
        # Distinct stand-ins, or Django would fold them into fewer placeholders than the ids that come later.
        stand_in = queryset.filter(**{f"{column}__in": range(1, len(values) + 1)})
        sql, params = stand_in.query.get_compiler(alias).as_sql()
        if list(params) != list(range(1, len(values) + 1)):
            raise ValueError(f"{key}: the queryset has parameters of its own; compile only a fixed shape")
        _compiled[slot] = sql
    return queryset.model._default_manager.db_manager(alias).raw(sql, list(values))
