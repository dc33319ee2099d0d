"""Rollups or fact tables: the planner answers from the rollups whenever they hold everything asked for.

The rollups hold, per UTC minute/hour/day: status, primary conclusion, its severity and (up to three of) the
template's configured dimensions, with counts, duration sums, completeness sums and a duration histogram. Anything else
(another field, the node reached, distinct counts, numeric fields other than duration) reads the fact tables.
"""
from dataclasses import dataclass

from ..rollups.contribution import GRAINS, slots
from .buckets import Bucketing, bucketing
from .spec import DURATION, MacroQuery

ROLLUP_KINDS = {"time", "conclusion", "severity", "status", "field"}


class PlanError(ValueError):
    """The query cannot be answered as asked (e.g. rollups forced but not covering it)."""


@dataclass(frozen=True)
class Plan:
    source: str  # "rollups" or "facts"
    reason: str
    grain: str | None = None  # rollup grain: m, h or d
    bucketing: Bucketing | None = None
    slots: tuple[str, ...] = ()  # dimensions in the rollup's d1..d3


def plan(query: MacroQuery, template_dimensions: list[str]) -> Plan:
    time = query.time_dimension
    buckets = bucketing(time.granularity, query.time_zone, query.since_ms, query.until_ms) if time else None
    held = slots(template_dimensions)
    missing = uncovered(query, set(held))
    grain = None if missing else coarsest_grain(query, buckets)
    if grain is None and not missing:
        missing = "the time range or buckets do not align with minute rollups"
    if query.source == "facts" or (query.source == "auto" and missing):
        return Plan("facts", "asked for the fact tables" if query.source == "facts" else f"fact tables: {missing}",
                    bucketing=buckets)
    if missing:
        raise PlanError(f"the rollups cannot answer this query: {missing}")
    return Plan("rollups", f"rollups ({GRAIN_NAMES[grain]} rows) hold every measure and dimension", grain, buckets, held)


GRAIN_NAMES = {"m": "minute", "h": "hour", "d": "day"}


def uncovered(query: MacroQuery, dims: set[str]) -> str:
    """Why the rollups cannot answer (empty when they can)."""
    for measure in query.measures:
        if measure.kind in ("distinct",) or (measure.field not in (None, DURATION)):
            return f"measure {measure.name} is not in the rollups"
    for item in [*query.dimensions, *query.filters]:
        if item.kind not in ROLLUP_KINDS:
            return f"{item.kind} is not in the rollups"
        if item.kind == "field" and item.field not in dims:
            return f"field {item.field!r} is not a dimension the rollups hold"
    return ""


def coarsest_grain(query: MacroQuery, buckets: Bucketing | None) -> str | None:
    """The coarsest rollup grain whose buckets nest in the query's buckets and its range (None: none does)."""
    for grain in ("d", "h", "m"):
        size = GRAINS[grain]
        if query.since_ms % size or query.until_ms % size:
            continue
        if buckets is None or buckets.nests(size):
            return grain
    return None
