"""Rollups, the session fact table, or the key-value field rows: the planner takes the first that holds the query.

The rollups hold, per UTC minute/hour/day: status, primary conclusion, its severity and (up to three of) the
template's configured dimensions, with counts, duration sums, completeness sums and a duration histogram; day rows
without status/severity hold the same measures plus sessions per start hour (read when a query needs neither). The fact
table (one row per session) holds the same per session, six dimensions and the nodes reached (as a filter): any
range, any time zone. Anything else (another field, the node dimension, distinct counts, numeric fields other than
duration) joins the key-value field rows.
"""
from dataclasses import dataclass

from ..facts.row import fact_slots
from ..rollups.contribution import GRAINS, slots
from .buckets import Bucketing, bucketing
from .spec import DURATION, MacroQuery

ROLLUP_KINDS = {"time", "conclusion", "severity", "status", "field"}
FACT_KINDS = ROLLUP_KINDS | {"node"}  # the node dimension: one count per template node, unpivoted by the service
SOURCE_NAMES = {"rollups": "rollups", "facts": "session fact table", "fields": "key-value field rows"}


class PlanError(ValueError):
    """The query cannot be answered as asked (e.g. rollups forced but not covering it)."""


@dataclass(frozen=True)
class Plan:
    source: str  # "rollups", "facts" (the session fact table) or "fields" (key-value field rows)
    reason: str
    grain: str | None = None  # rollup grain: m, h or d
    bucketing: Bucketing | None = None
    slots: tuple[str, ...] = ()  # dimensions in the rollup's d1..d3 or the fact table's d1..d6
    layouts: tuple[str, ...] = ()  # every rollup dim_names the template's versions wrote (index range on bucket_ms)
    nodes: tuple[str, ...] = ()  # the template's nodes (the fact table's node dimension)
    day_rows: bool = False  # rollups: read the day rows without status/severity (analytics_rollup_hours)
    hours: bool = False  # … and spread their 24 hourly counts (sessions per hour)
    without_conclusion: bool = False  # … the ones without the conclusion either (analytics_rollup_days)
    span: tuple[int, int] | None = None  # rollups: the histogram buckets the template's rows can hold (None: all)
    ranges: tuple[tuple[int, int], ...] | None = None  # facts: read only these start_ms ranges (the rest: the replica)


def plan(query: MacroQuery, template_dimensions: list[str], layouts: tuple[str, ...] = (), nodes: tuple[str, ...] = ()) -> Plan:
    time = query.time_dimension
    buckets = bucketing(time.granularity, query.time_zone, query.since_ms, query.until_ms) if time else None
    missing = ""
    if query.source in ("auto", "rollups"):
        held = slots(template_dimensions)
        missing = uncovered(query, set(held))
        grain = None if missing else coarsest_grain(query, buckets)
        if grain is None and not missing:
            missing = "the time range or buckets do not align with minute rollups"
        if not missing:
            totals = not _by_conclusion(query)
            if grain == "h" and hours_answer(query, buckets):
                rows = "day rows without conclusion, by start hour" if totals else "day rows by start hour"
                return Plan("rollups", f"rollups ({rows}) hold every measure and dimension",
                            grain, buckets, held, layouts, day_rows=True, hours=True, without_conclusion=totals)
            if grain == "d" and not _by_status(query):
                without = "conclusion, status or severity" if totals else "status/severity"
                return Plan("rollups", f"rollups (day rows without {without}) hold every measure and dimension", grain,
                            buckets, held, layouts, day_rows=True, without_conclusion=totals)
            return Plan("rollups", f"rollups ({GRAIN_NAMES[grain]} rows) hold every measure and dimension", grain, buckets,
                        held, layouts)
        if query.source == "rollups":
            raise PlanError(f"the rollups cannot answer this query: {missing}")
    asked = {"facts": "asked for the fact tables", "fields": "asked for the key-value field rows"}.get(query.source, missing)
    if query.source != "fields":
        held = fact_slots(template_dimensions)
        lacking = fact_uncovered(query, set(held), bool(nodes))
        if not lacking:
            return Plan("facts", f"session fact table: {asked}", bucketing=buckets, slots=held, nodes=nodes)
        asked = f"{asked}; {lacking}" if query.source == "auto" else lacking
    return Plan("fields", f"key-value field rows: {asked}", bucketing=buckets)


GRAIN_NAMES = {"m": "minute", "h": "hour", "d": "day"}


def uncovered(query: MacroQuery, dims: set[str]) -> str:
    """Why the rollups cannot answer (empty when they can)."""
    return _measures_uncovered(query, "the rollups") or _items_uncovered(query, dims, ROLLUP_KINDS, ROLLUP_KINDS, "the rollups")


def fact_uncovered(query: MacroQuery, dims: set[str], nodes_known: bool = True) -> str:
    """Why the session fact table cannot answer (empty when it can)."""
    kinds = FACT_KINDS if nodes_known else ROLLUP_KINDS
    return _measures_uncovered(query, "the fact table") or _items_uncovered(query, dims, kinds, FACT_KINDS, "the fact table")


def _measures_uncovered(query: MacroQuery, where: str) -> str:
    for measure in query.measures:
        if measure.kind == "distinct" or measure.field not in (None, DURATION):
            return f"measure {measure.name} is not in {where}"
    return ""


def _items_uncovered(query: MacroQuery, dims: set[str], dimension_kinds: set[str], filter_kinds: set[str], where: str) -> str:
    for item, kinds in [*((d, dimension_kinds) for d in query.dimensions), *((f, filter_kinds) for f in query.filters)]:
        if item.kind not in kinds:
            return f"{item.kind} is not in {where}"
        if item.kind == "field" and item.field not in dims:
            return f"field {item.field!r} is not a dimension {where} holds"
    return ""


def hours_answer(query: MacroQuery, buckets: Bucketing | None) -> bool:
    """The day rows without status/severity count sessions per UTC start hour × conclusion × dimension values:
    enough for a sessions-only query by hour (in a whole-hour zone) that neither groups nor filters by status or
    severity."""
    return (buckets is not None and buckets.size_ms == GRAINS["h"] and not buckets.offset_ms
            and all(m.kind == "sessions" for m in query.measures) and not _by_status(query))


def _by_status(query: MacroQuery) -> bool:
    """Groups or filters by status or severity (which only the rollup grain rows hold)."""
    return any(item.kind in ("status", "severity") for item in [*query.dimensions, *query.filters])


def _by_conclusion(query: MacroQuery) -> bool:
    """Groups, filters or measures a share by conclusion (the day rows without it cannot answer)."""
    return (any(item.kind == "conclusion" for item in [*query.dimensions, *query.filters])
            or any(m.kind == "share" for m in query.measures))


def coarsest_grain(query: MacroQuery, buckets: Bucketing | None) -> str | None:
    """The coarsest rollup grain whose buckets nest in the query's buckets and its range (None: none does)."""
    for grain in ("d", "h", "m"):
        size = GRAINS[grain]
        if query.since_ms % size or query.until_ms % size:
            continue
        if buckets is None or buckets.nests(size):
            return grain
    return None
