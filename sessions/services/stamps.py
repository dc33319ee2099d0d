"""What a web worker keeps between requests, and the one statement that says when to drop it (issue 12).

A search request used to read the template list, the templates of its rows, every version's document (the q box's
field names) and the user's role groups: four queries, ~3 ms of a key lookup's ~10 ms of CPU. Those change rarely, so
each worker keeps them in a `StampedCache`, next to the stamp of the rows they were computed from: per watched table
its row count, highest id and (where there is one) latest `updated_at`. Rows are only added, deleted or saved
through the ORM (which moves `updated_at`), and ids only grow, so any change moves the stamp. The stamp is one
statement without parameters (~0.1 ms), read once per request, before anything it guards (so a value is never older
than the stamp it is kept under); a change made by any process is seen by every worker on its next request. Outside
a request (Celery, commands, tests calling services) it is read on every use. Saving in this process also drops the
caches at once (signals), so tests that roll a transaction back never meet an equal stamp over different rows.
"""
from dataclasses import dataclass
from typing import Any, Callable, Hashable

from asgiref.local import Local
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import connections
from django.db.models.signals import m2m_changed, post_delete, post_save

from ..models import AnalysisTemplate, TemplateVersion


@dataclass(frozen=True)
class Watched:
    name: str
    model: Any
    updated: str | None = None  # a column every save moves


def _watched() -> list[Watched]:
    return [Watched("templates", AnalysisTemplate, "updated_at"), Watched("versions", TemplateVersion),
            Watched("memberships", get_user_model().groups.through)]


def columns(connection) -> list[str]:
    """The stamp as scalar subqueries, one value each (`adopt` reads them back in this order)."""
    quote, parts = connection.ops.quote_name, []
    for item in _watched():
        table = quote(item.model._meta.db_table)
        parts += [f"(SELECT COUNT(*) FROM {table})", f"(SELECT MAX({quote('id')}) FROM {table})"]
        if item.updated:
            parts.append(f"(SELECT MAX({quote(item.updated)}) FROM {table})")
    return parts


_request = Local()  # .active: inside a request; .stamps: what this request read


def current() -> dict[str, tuple]:
    """Each watched table's stamp, read once per request (every time outside one)."""
    stamps = getattr(_request, "stamps", None)
    if stamps is not None:
        return stamps
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns(connections["default"])))
        return adopt(cursor.fetchone())


def adopt(values) -> dict[str, tuple]:
    """The stamp from the values of `columns()` read by any statement (the API's token lookup reads them in the same
    round trip), kept as this request's stamp when inside one and none was read yet."""
    values, stamps = list(values), {}
    for item in _watched():
        width = 3 if item.updated else 2
        stamps[item.name], values = tuple(values[:width]), values[width:]
    if getattr(_request, "active", False) and getattr(_request, "stamps", None) is None:
        _request.stamps = stamps
    return stamps


class StampedCache:
    """Values computed from the watched tables `parts`, kept per worker process while their stamps hold. Entries carry
    their own stamp, so a value computed by a request that began before a change is never taken for a newer one."""

    MAX_ENTRIES = 10_000

    def __init__(self, *parts: str):
        self.parts, self.entries = parts, {}
        _caches.append(self)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        stamps = current()
        stamp = tuple(stamps[part] for part in self.parts)
        entry = self.entries.get(key)
        if entry is None or entry[0] != stamp:
            if len(self.entries) >= self.MAX_ENTRIES:
                self.entries.clear()
            entry = self.entries[key] = (stamp, compute())
        return entry[1]


_caches: list[StampedCache] = []


def forget(**_kwargs) -> None:
    """Drop every cache of this process (and this request's stamps): called when this process saves a watched row."""
    _request.stamps = None
    for cache in _caches:
        cache.entries.clear()


def _request_starts(**_kwargs) -> None:
    _request.active, _request.stamps = True, None


def _request_ends(**_kwargs) -> None:
    _request.active, _request.stamps = False, None


def connect() -> None:
    """Wire the request boundaries and the local change signals (from the app's ready())."""
    request_started.connect(_request_starts, dispatch_uid="luna-stamps-request-started")
    request_finished.connect(_request_ends, dispatch_uid="luna-stamps-request-finished")
    for item in _watched():
        post_save.connect(forget, sender=item.model, dispatch_uid=f"luna-stamps-save-{item.name}")
        post_delete.connect(forget, sender=item.model, dispatch_uid=f"luna-stamps-delete-{item.name}")
    m2m_changed.connect(forget, sender=get_user_model().groups.through, dispatch_uid="luna-stamps-memberships")
