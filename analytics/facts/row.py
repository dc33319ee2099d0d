"""One session → one fact row (pure, no Django): what the fact-table path of the macro queries reads.

The row holds what a dashboard groups or filters by in plain columns (a covering index or a columnar replica reaches
them without a join through key-value rows): time, status, primary conclusion and its severity, duration and its
histogram bucket, completeness, the nodes reached, and the template's first FACT_SLOTS dimensions (by name) in
`d1..d6`. A multi-valued dimension counts under its *first* value, as in the rollups (`dimension_value`), so a
session is one row and counts stay exact; the key-value path still counts it under each value.
"""
import hashlib
from typing import Any, Iterable

from ..rollups.contribution import facts_of, slots
from ..rollups.histogram import bucket_of

FACT_SLOTS = 6
FACT_COLUMNS = ("session_id", "template_id", "start_ms", "end_ms", "status", "conclusion", "severity", "duration_ms",
                "duration_bucket", "completeness_e4", "nodes", "dim_key", *(f"d{i}" for i in range(1, FACT_SLOTS + 1)))
MAX_NODES_TEXT = 2000


def fact_slots(dimensions: Iterable[str]) -> tuple[str, ...]:
    """The dimensions held in d1..d6: the first six by name (the rollups' d1..d3 are the first three of them)."""
    return slots(dimensions, FACT_SLOTS)


def dim_key(names: Iterable[str]) -> str:
    """Names the slot layout in 16 characters (any number of long names fits the covering index): rows written
    before the template's dimensions changed have another key and are not read as the new layout."""
    return hashlib.sha1(",".join(names).encode()).hexdigest()[:16]


def nodes_text(nodes: Iterable[str]) -> str:
    """`,a,b,`: a node filter is `nodes LIKE '%,a,%'` with the pattern bound (node names have no commas)."""
    names = sorted(set(nodes))
    text = "," + ",".join(names) + "," if names else ""
    return text if len(text) <= MAX_NODES_TEXT else text[:text.rindex(",", 0, MAX_NODES_TEXT) + 1]


def fact_row(template_id: int, document: dict[str, Any], dimensions: Iterable[str]) -> tuple:
    """The row of an assembled session document (or one rebuilt from stored rows), in FACT_COLUMNS order."""
    facts = facts_of(document, dimensions, FACT_SLOTS)
    names = [name for name, _ in facts.dims]
    values = [value or "" for _, value in facts.dims] + [""] * (FACT_SLOTS - len(names))
    nodes = (n["node"] if isinstance(n, dict) else n for n in document.get("nodes") or ())
    return (int(document["uid"]), template_id, facts.start_ms, int(document["end_ms"]), facts.status, facts.conclusion,
            facts.severity, facts.duration_ms, bucket_of(facts.duration_ms), facts.completeness_e4, nodes_text(nodes),
            dim_key(names), *values)
