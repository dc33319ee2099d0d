"""Index-friendly building blocks for session search (SPEC §6 "ms-fast"), shared by the FilterSet.

Every predicate leads with `template_id` (and a field `name` where there is one) so it lands on the
composite indexes of the storage contract: luna_session_start_idx / luna_session_key_idx for sessions (the
FilterSet restricts sessions to the template ids first), luna_field_str_idx / luna_field_num_idx and
luna_concl_name_idx in the subqueries. When the user picks no template, all template ids are passed
explicitly (an IN list is still an index range). Values only ever travel as query parameters.
"""
import bisect
import math
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull

from jobs.sessionize.logic.durations import parse_duration_ms

from ..models import AnalysisTemplate, DeadLetter, Session, SessionConclusion, SessionField, SessionNode
from . import counting, prepared, reports
from .catalog import catalog, templates

# The q box materialises matching session ids; an order id or trans_id matches a handful, this is a guard.
Q_BOX_LIMIT = 1000


class SearchResults(QuerySet):
    """Sessions as result tables list them; a keyset page reads its rows through `rows_by_id` (services/paging.py)."""

    def rows_by_id(self, ids: list[int]) -> list[Session]:
        return page_rows(ids)


class ListedResults(SearchResults):
    """The same sessions for a caller that needs their listed columns only (the API's list): rows as ListedSession
    tuples, read without model instances (issue 12)."""

    def rows_by_id(self, ids: list[int]) -> list["ListedSession"]:
        return listed_rows(ids)


def search_queryset(listed: bool = False) -> QuerySet[Session]:
    """Sessions for result tables, newest first; template and conclusions prefetched (no N+1). `listed`: pages hold
    ListedSession rows instead of Session instances (services/paging.py reads pages through `rows_by_id`).

    The template is prefetched rather than joined: with a join the optimizer may drive from luna_template
    and sort every matching session, while alone the (template, start_ms) index yields the first page.
    """
    conclusions = SessionConclusion.objects.order_by("session_id", "name")
    results = (ListedResults if listed else SearchResults)(Session)
    return results.prefetch_related("template", Prefetch("conclusions", queryset=conclusions)).order_by("-start_ms", "-id")


_CONCLUSIONS = SessionConclusion._meta.get_field("session").remote_field.cache_name


def page_rows(ids: list[int]) -> list[Session]:
    """The sessions with these ids, in this order, as search_queryset() gives them, for a fraction of the CPU (issue
    12): rows and conclusions by two statements compiled once per worker (services/prepared.py), the template from
    the worker's template rows (catalog.templates), and the conclusions handed to each session as Django's prefetch
    does (`session.conclusions.all()` reads them without a query)."""
    if not ids:
        return []
    by_id = {row.pk: row for row in prepared.rows_in("search-rows", Session.objects.order_by(), "pk", ids)}
    held = defaultdict(list)
    ordered = SessionConclusion.objects.order_by("session_id", "name")
    for item in prepared.rows_in("search-conclusions", ordered, "session_id", list(by_id)) if by_id else []:
        held[item.session_id].append(item)
    known, attached = templates(), {}
    template_cache = Session.template.field
    for row in by_id.values():
        if row.template_id not in attached:
            attached[row.template_id] = known.instance(row.template_id)
        if attached[row.template_id] is not None:
            template_cache.set_cached_value(row, attached[row.template_id])
        conclusions = QuerySet(SessionConclusion)
        conclusions._result_cache, conclusions._prefetch_done = held[row.pk], True
        row._prefetched_objects_cache = {_CONCLUSIONS: conclusions}
    return [by_id[pk] for pk in ids if pk in by_id]


LISTED = ("id", "template_id", "session_key", "start_ms", "end_ms", "duration_ms", "status", "revision", "completeness",
          "primary_conclusion", "split", "prev_id", "next_id")


class ListedSession(namedtuple("ListedSession", (*LISTED, "template_name", "conclusion_list"))):
    """A search result row as the API lists it: the session's listed columns, its template's name and its conclusions
    as (name, label, severity) by name, as page_rows gives them. A tuple: no model instance per row."""

    __slots__ = ()

    @property
    def pk(self) -> int:
        return self.id


def listed_rows(ids: list[int]) -> list[ListedSession]:
    """What page_rows(ids) lists, as ListedSession tuples: one statement compiled once per worker (each session's row
    joined with its conclusions), read as value tuples. A 50-row page built 101 model instances (~1 ms of CPU) from
    two statements; a lookup's single row paid a second round trip for its conclusion."""
    if not ids:
        return []
    marks = prepared.stand_ins(len(ids))
    listed: dict[int, tuple] = {}
    held = defaultdict(list)
    for row in prepared.values("listed-rows", lambda: Session.objects.filter(pk__in=marks).order_by("pk", "conclusions__name").values_list(
            *LISTED, "conclusions__name", "conclusions__label", "conclusions__severity"), marks, ids):
        listed.setdefault(row[0], row[: len(LISTED)])
        if row[len(LISTED)] is not None:
            held[row[0]].append(row[len(LISTED):])
    known = templates().rows
    return [ListedSession(*listed[pk], (known.get(listed[pk][1]) or {}).get("name"), held[pk]) for pk in ids if pk in listed]


def resolve_template_ids(value: str | None) -> list[int]:
    """Ids of the template named `value` (or with that id); every template when no value is given."""
    return templates().ids(value or "")


def to_epoch_ms(moment: datetime) -> int:
    """Aware datetime → epoch ms; naive values are taken as UTC (the console shows UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def parse_min_duration_ms(text: str) -> int:
    """"30s", "5m", "1500ms" or a bare number of seconds → ms; raises ValueError otherwise."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        return parse_duration_ms(text)
    if not math.isfinite(seconds):
        raise ValueError(f"bad duration {text!r}")
    return round(seconds * 1000)


def as_number(value: str) -> float | None:
    """The numeric reading of a search value, if it has one ("6", "6.0", "1e3"); None otherwise."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def prefix_of(text: str) -> str | None:
    """"ORD-10*" → "ORD-10": a trailing star asks for a prefix match (an index range, never a scan)."""
    text = text.strip()
    return text[:-1] if text.endswith("*") and len(text) > 1 else None


UNSELECTIVE = 2000  # matches beyond which a condition is probed per session (or left to the index walk) instead of collected first


def starts_with(field: str, prefix: str) -> Q:
    """`field` begins with `prefix`, case-sensitively, on an index range whatever the column's collation. Django's
    startswith is `LIKE BINARY` on MySQL/MariaDB, which cannot range-scan a case-insensitive column (the default
    utf8mb4_general_ci that `CREATE DATABASE … CHARACTER SET utf8mb4` gives): ORD-00123* read 1 M key index entries.
    The plain LIKE (istartswith) supplies the range, the binary one keeps the match exact."""
    return Q(**{f"{field}__istartswith": prefix}) & Q(**{f"{field}__startswith": prefix})


def key_q(text: str, template_ids: list[int] | None = None) -> Q:
    """The session key exactly, or by prefix with a trailing star. A prefix that few keys have (ORD-00123*: 100 of
    1 M) is a semi-join on the (template, key) index, which MariaDB reads first and sorts (11 ms): as a LIKE — or
    even as a literal list of those ids — next to the newest-first order it walked the start index instead, through
    every newer session (2.5–5.5 s). A prefix most keys have stays a LIKE, which that walk satisfies quickly."""
    prefix = prefix_of(text)
    if prefix is None:
        return Q(session_key=text.strip())
    if template_ids is not None:
        keys = Session.objects.filter(starts_with("session_key", prefix), template_id__in=template_ids)
        if counting.bounded_size(keys.order_by(), UNSELECTIVE) <= UNSELECTIVE:
            return Q(id__in=keys.order_by().values("id"))
    return starts_with("session_key", prefix)


def value_match(value: str) -> Q:
    """A field row whose value is `value` as text or (when the value is numeric) as a number; `v*` is a prefix."""
    prefix = prefix_of(value)
    if prefix is not None:
        return starts_with("str_value", prefix)
    match = Q(str_value=value)
    number = as_number(value)
    return match | Q(num_value=number) if number is not None else match


def field_value_q(template_ids: list[int], name: str, value: str) -> Q:
    """Sessions having field `name` = `value` (see value_match)."""
    return fields_q(template_ids, name, value_match(value))


def fields_q(template_ids: list[int], name: str, match: Q) -> Q:
    """Sessions with a row of field `name` matching `match` (all_fields_q with one condition)."""
    return all_fields_q(template_ids, [(name, match)])


def probe(rows: QuerySet) -> Q:
    """Sessions having one of these child rows (filtered on `session_id=OuterRef("id")`), asked per session in the
    outer order — one (session, …) index probe each, stopping with the page. Written as a scalar `(SELECT id … LIMIT 1)
    IS NOT NULL`, not EXISTS: MariaDB turns EXISTS into a semi-join it may materialise (the whole conclusion table,
    0.4–0.8 s at 1 M sessions) because its cost model ignores the LIMIT."""
    return Q(IsNull(Subquery(rows.values("pk")[:1]), False))


def probe_q(name: str, match: Q) -> Q:
    """Per session, newest first: does it have a row of `name` matching? One (session, name) index probe each."""
    return probe(SessionField.objects.filter(match, session_id=OuterRef("id"), name=name))


def all_fields_q(template_ids: list[int], wanted: list[tuple[str, Q]]) -> Q:
    """Sessions with a matching row for every (field name, row match), in the plan that suits how many rows match.

    The most selective condition drives: when it matches few rows (an id), they are collected on the covering
    (template, name, value, session) index — a semi-join — and every other condition probes just those sessions with
    EXISTS. When even the most selective matches many (channel = wechat AND region = eu), a semi-join would
    materialise every match before the newest-first page, so all of them probe session by session and the page stops
    after its rows. Selectivity is read by counting at most UNSELECTIVE + 1 index entries per condition (~ms each).
    Measured at 1 M sessions on MariaDB: one unselective field 0.42 s → 0.01 s for the page; the probe alone for a
    single id would walk everything (15 s), hence the choice."""
    if not wanted:
        return Q()
    rows = [SessionField.objects.filter(match, template_id__in=template_ids, name=name) for name, match in wanted]
    sizes = [counting.bounded_size(candidates, UNSELECTIVE) for candidates in rows]
    driver = min(range(len(wanted)), key=sizes.__getitem__)
    if sizes[driver] > UNSELECTIVE:
        driver = None
    result = Q(id__in=rows[driver].values("session_id")) if driver is not None else Q()
    for index, (name, match) in enumerate(wanted):
        if index != driver:
            result &= probe_q(name, match)
    return result


def conclusion_q(template_ids: list[int], names: Iterable[str], since_ms: int | None = None, until_ms: int | None = None) -> Q:
    """Sessions for which one of these rules holds (the primary conclusion is always among them). No `OR
    primary_conclusion IN …`: that OR kept MariaDB off the conclusion index (122 ms vs 0.6 ms for a day, measured).
    The search's time window is applied inside too, on the copied start time, so (template, name, start_ms) reads
    only that day's entries instead of every session the rule ever held for. Like field conditions, a rule that holds
    for many sessions in the window (lost_order over 90 days: 49,860 at 1 M sessions) is probed per session newest
    first instead: the semi-join materialised and sorted them all (0.7–1.6 s) before the first page."""
    names = list(names)
    holding = SessionConclusion.objects.filter(template_id__in=template_ids, name__in=names)
    if since_ms is not None:
        holding = holding.filter(start_ms__gte=since_ms)
    if until_ms is not None:
        holding = holding.filter(start_ms__lt=until_ms)
    if counting.bounded_size(holding, UNSELECTIVE) > UNSELECTIVE:
        return probe(SessionConclusion.objects.filter(session_id=OuterRef("id"), name__in=names))
    return Q(id__in=holding.values("session_id"))


def missing_node_q(node: str) -> Q:
    """Sessions with no event on node `node`: a correlated NOT EXISTS, one (session, node) index probe per session,
    so the newest-first page stops after its rows instead of collecting every session that has the node."""
    return ~Exists(SessionNode.objects.filter(session_id=OuterRef("id"), node=node))


def q_box_q(template_ids: list[int], text: str, names: list[str] | None = None) -> Q:
    """The paste-an-id box: the session key or any field's text value, exactly (or by prefix with `*`).

    Knowing the field names (the template catalog) lets it use the (template, name, str_value) index, not a scan.
    """
    text = text.strip()
    prefix = prefix_of(text)
    names = catalog(template_ids).field_names() if names is None else names
    if not names:
        session_ids = []
    elif prefix is not None:
        session_ids = list(_q_box_ids(starts_with("str_value", prefix), template_ids, names))
    else:  # the usual pasted id: one statement compiled once per worker and number of templates and names
        marks = ("\x00value", *prepared.stand_ins(len(template_ids)), *(f"\x00name {i}" for i in range(len(names))))
        session_ids = [row[0] for row in prepared.values(("q-box-ids", len(template_ids)), lambda: _q_box_ids(
            Q(str_value=marks[0]), marks[1: 1 + len(template_ids)], marks[1 + len(template_ids):]), marks, [text, *template_ids, *names])]
    return key_q(text, template_ids) | Q(id__in=session_ids)


def _q_box_ids(value: Q, template_ids, names) -> QuerySet:
    """Distinct ids of the sessions with a field row of one of `names` whose value matches (at most Q_BOX_LIMIT)."""
    rows = SessionField.objects.filter(value, template_id__in=template_ids, name__in=names)
    return rows.values_list("session_id", flat=True).distinct()[:Q_BOX_LIMIT]


@dataclass
class RejectionGroup:
    """One reason class of one source (as the correlation report counts it), with its exact reasons and examples."""

    source: str
    kind: str
    count: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)  # {reason, count, example: DeadLetter}


def dead_letter_groups(template: AnalysisTemplate, details_per_group: int = 20) -> list[RejectionGroup]:
    """Rejections grouped by source and reason class, largest first; each with its exact reasons and one raw line each.

    Two queries whatever the volume: counts per exact reason (with the first line's id), then those lines.
    """
    rows = list(
        DeadLetter.objects.filter(template=template)
        .values("source", "reason")
        .annotate(kind=reports.reason_kind(), count=Count("id"), example_id=Min("id"))
        .order_by("-count", "source", "reason")
    )
    examples = DeadLetter.objects.in_bulk([row["example_id"] for row in rows])
    groups: dict[tuple[str, str], RejectionGroup] = {}
    for row in rows:
        group = groups.setdefault((row["source"], row["kind"]), RejectionGroup(row["source"], row["kind"]))
        group.count += row["count"]
        if len(group.details) < details_per_group:
            group.details.append({"reason": row["reason"], "count": row["count"], "example": examples.get(row["example_id"])})
    return sorted(groups.values(), key=lambda group: (-group.count, group.source, group.kind))


HISTOGRAM_SAMPLES = (10_000, 500)  # durations read for the search page's histogram: the first size that fits in time


def duration_histogram(queryset: QuerySet, bins: int = 24) -> dict[str, Any]:
    """The result set's durations in log-spaced bins (durations span ms to hours), from at most 10,000 rows read
    unordered under the statement time limit; when that is too slow (an unselective search probed session by
    session needs ~25,000 probes for 10,000 matches), from 500; `sampled` says how many."""
    for sample in HISTOGRAM_SAMPLES:
        rows = counting.limited_rows(queryset.order_by().values_list("duration_ms")[:sample])
        if rows is not None:
            return histogram_of(sorted(duration for duration, in rows), bins, capped=len(rows) == sample)
    return histogram_of([], bins, capped=True)


def histogram_of(durations: list[int], bins: int = 24, capped: bool = False) -> dict[str, Any]:
    """Sorted durations → log-spaced bins: edges_ms, counts, sampled, capped."""
    if not durations:
        return {"edges_ms": [], "counts": [], "sampled": 0, "capped": capped}
    low, high = max(1, durations[0]), max(durations[-1], 1) + 1
    steps = bins if high > low else 1
    edges = sorted({round(low * (high / low) ** (i / steps)) for i in range(steps + 1)})
    counts = [bisect.bisect_left(durations, upper) - bisect.bisect_left(durations, lower) for lower, upper in zip(edges, edges[1:])]
    counts[0] += bisect.bisect_left(durations, edges[0])  # zero-length sessions go in the first bin
    return {"edges_ms": edges, "counts": counts, "sampled": len(durations), "capped": capped}
