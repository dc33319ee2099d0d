"""Keyset pages of a search (issue 12): a cursor names the last row seen by its sort key and id, and the next page
is "the rows after it" — an index range — so page 1000 reads 50 rows, never the 49,950 an OFFSET walks past.

The page is fetched first (LIMIT size + 1 says whether there is a next one); the count comes after and only when
it is needed (a first page that fits tells it exactly), bounded in rows and time (services/counting.py).
"""
import base64
import binascii
import json
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q, QuerySet

from . import prepared
from .counting import AT_LEAST, ESTIMATE, EXACT, KINDS, Count, bounded_count, limited_rows, remembered

SIZE = 50
DEFAULT_ORDER = "-start_ms"


class BadCursor(ValueError):
    """A cursor that was not made by this search (edited, truncated, or from another sort order)."""


@dataclass(frozen=True)
class Cursor:
    """A position in a sorted result: after (or, `backwards`, before) the row with this sort `value` and `id`.
    `position` counts the rows before that point; it only labels the page ("rows 1,001–1,050"). `count` is the first
    page's bounded count, carried along so following pages do not count again (it only labels them too)."""

    order: str
    value: Any
    id: int
    backwards: bool = False
    position: int = 0
    count: Count | None = None

    def encode(self) -> str:
        data = {"o": self.order, "v": self.value, "i": self.id, "p": self.position}
        if self.backwards:
            data["b"] = 1
        if self.count is not None:
            data["n"] = [self.count.value, self.count.kind]
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, model) -> "Cursor":
        """The cursor in `text`, its value checked against the model's sort field; BadCursor otherwise."""
        try:
            data = json.loads(base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4)))
            order, value, row_id = data["o"], data["v"], data["i"]
            position, backwards = data.get("p", 0), bool(data.get("b", False))
            count = Count(*data["n"]) if "n" in data else None
        except (ValueError, TypeError, KeyError, binascii.Error) as error:
            raise BadCursor("This cursor is not one the search made; start again from the first page.") from error
        if not (isinstance(order, str) and _is_int(row_id) and _is_int(position) and position >= 0 and
                (count is None or (_is_int(count.value) and count.value >= 0 and count.kind in KINDS))):
            raise BadCursor("This cursor is not one the search made; start again from the first page.")
        try:
            field = model._meta.get_field(order.lstrip("-"))
            if isinstance(value, (bool, list, dict)) or value is None:
                raise ValidationError("not a scalar")
            value = field.to_python(value)
        except (FieldDoesNotExist, ValidationError, TypeError) as error:
            raise BadCursor(f"This cursor does not fit the sort order {order!r}; start again from the first page.") from error
        return cls(order, value, row_id, backwards, position, count)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


@dataclass
class Window:
    """One page of a search: its rows, the cursors around it, where it starts, and how many match in all."""

    rows: list
    next: Cursor | None
    previous: Cursor | None
    position: int
    count: Count
    size: int = SIZE

    @property
    def next_token(self) -> str:
        return self.next.encode() if self.next is not None else ""

    @property
    def previous_token(self) -> str:
        """"" when the page before is the first page (its link then simply drops the cursor)."""
        return self.previous.encode() if self.previous is not None and self.previous.position > self.size else ""

    @property
    def first_row(self) -> int:
        return self.position + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return self.position + len(self.rows)


def sort_order(queryset: QuerySet) -> str:
    """The result's sort key ("-start_ms", "duration_ms", …): the first ordering term; id always breaks ties."""
    terms = [term for term in queryset.query.order_by if isinstance(term, str) and term.lstrip("-") not in ("id", "pk")]
    return terms[0] if terms else DEFAULT_ORDER


def after(field: str, descending: bool, value: Any, row_id: int) -> Q:
    """Rows past (value, id) in this direction. The redundant `field <=/>= value` gives the optimizer a plain range
    on the sort index (the OR alone may not be read as one)."""
    op = "lt" if descending else "gt"
    return Q(**{f"{field}__{op}e": value}) & (Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": row_id}))


def rows_by_id(queryset: QuerySet, ids: list[int]) -> list:
    """The page's rows, in `ids` order, with the queryset's prefetches. The ids come first from a query that needs
    only the index (a "deferred join"): reading whole rows while filtering made MariaDB prefer a plain `ref` on the
    template over the cursor's range and fetch every skipped session from the table (1.3 s for page 1000 of
    channel = wechat at 1 M sessions, vs a range read of the index alone)."""
    if not ids:
        return []
    if hasattr(queryset, "rows_by_id"):  # a queryset that knows a cheaper way (search.SearchResults)
        return queryset.rows_by_id(ids)
    found = queryset.model._default_manager.filter(pk__in=ids).prefetch_related(*queryset._prefetch_related_lookups)
    by_id = {row.pk: row for row in found}
    return [by_id[pk] for pk in ids if pk in by_id]


def estimate(queryset: QuerySet, rows: list, seen: int) -> Count | None:
    """When counting ran out of time: the newest page's density over the result's whole time span. The page's 50
    matches cover (newest − 50th) of start time; the oldest match (one index read, time-limited too) gives the span.
    An extrapolation — the page and the API say "about" — and never below what exists."""
    oldest = limited_rows(queryset.order_by("start_ms", "id").values_list("start_ms")[:1])
    if not oldest or len(rows) < 2:
        return None
    newest, reached, first = rows[0].start_ms, rows[-1].start_ms, oldest[0][0]
    if newest <= reached:
        return None
    return Count(max(seen, round((len(rows) - 1) * (newest - first) / (newest - reached)) + 1), ESTIMATE)


def first_page_count(queryset: QuerySet, rows: list, seen: int, order: str) -> Count:
    """The bounded count of a search whose first page is full; when the time limit stops it, the estimate."""
    count = bounded_count(queryset, seen=seen)
    if count.kind == AT_LEAST and order == DEFAULT_ORDER:
        count = estimate(queryset, rows, seen) or count
    return count


def window(queryset: QuerySet, cursor_text: str | None = None, size: int = SIZE) -> Window:
    """The page of `queryset` at `cursor_text` (the first page without one), and the bounded count of all matches."""
    order = sort_order(queryset)
    field, descending = order.lstrip("-"), order.startswith("-")
    cursor = Cursor.decode(cursor_text, queryset.model) if cursor_text else None
    if cursor is not None and cursor.order != order:
        raise BadCursor(f"This cursor was made for the sort order {cursor.order!r}; start again from the first page.")
    backwards = cursor is not None and cursor.backwards
    reading = descending != backwards  # the direction rows are read in
    page = queryset.order_by(f"{'-' if reading else ''}{field}", f"{'-' if reading else ''}id")
    if cursor is not None:
        page = page.filter(after(field, reading, cursor.value, cursor.id))
    found, statement = prepared.run(page.values_list("pk")[: size + 1])  # the statement also keys the remembered count
    ids = [row[0] for row in found]
    more, rows = len(ids) > size, rows_by_id(queryset, ids[:size])
    # What surely exists: the rows before the cursor, plus (reading forwards) this page and the row after it.
    seen = (cursor.position if cursor is not None else 0) + (0 if backwards else len(rows) + (1 if more else 0))
    if cursor is not None and cursor.count is not None:
        carried = cursor.count
        count = Count(max(seen, carried.value), carried.kind) if carried.kind in (AT_LEAST, ESTIMATE) else carried
    elif cursor is None and not more:
        count = Count(len(rows))
    elif cursor is None:  # a full first page: bounded, and remembered a minute unless exact (counting.remembered)
        count = remembered(f"first page, cap {settings.LUNA_COUNT_CAP}", queryset, lambda: first_page_count(queryset, rows, seen, order),
                           lambda n: n.kind != EXACT, statement)
    else:
        count = bounded_count(queryset, seen=seen)
    anchor = (lambda row: Cursor(order, getattr(row, field), row.pk, count=count))
    if backwards:
        rows.reverse()
        position = max(0, cursor.position - len(rows)) if more else 0
        previous = replace(anchor(rows[0]), backwards=True, position=position) if more and rows else None
        following = replace(anchor(rows[-1]), position=position + len(rows)) if rows else None
    else:
        position = cursor.position if cursor is not None else 0
        previous = replace(anchor(rows[0]), backwards=True, position=position) if cursor is not None and rows else None
        following = replace(anchor(rows[-1]), position=position + len(rows)) if more else None
    return Window(rows, following, previous, position, count, size)
