"""What one session adds to the rollups, and how deltas of a batch combine (pure functions).

A session's *facts* (minute, status, conclusion, severity, dimension values, duration, completeness) fix the
rollup rows it counts in: one row per grain (minute, hour, day). Retracting it adds the same deltas negated.
Within a sink batch the deltas on one row are summed first, so a session that moves and moves back, or a
+1 and a −1 on the same row, writes nothing (the mini-batch retraction cancellation of seed 002).
"""
import json
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from .histogram import BUCKETS, bucket_of

MINUTE_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000
GRAINS: dict[str, int] = {"m": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS}
HOURS = "x"  # the day tier without status/severity (table analytics_rollup_hours): per UTC day, conclusion and
# dimension values, every measure of the rollups plus `hours`, the session's start hour of the day (0..23)
DAYS = "y"  # the same per UTC day and dimension values without the conclusion (table analytics_rollup_days)
DAY_TIERS = (HOURS, DAYS)
HOUR_COLUMNS = tuple(f"s{hour:02d}" for hour in range(24))  # its columns, one count per UTC hour of the day
MAX_DIM_VALUE = 100
MAX_SLOTS = 3  # dimension columns d1..d3 of the rollup table


def slots(dimensions: Iterable[str], width: int = MAX_SLOTS) -> tuple[str, ...]:
    """The configured dimensions held in columns d1, d2, …: the first `width` by name (three in the rollups; the
    fact table holds more, and its first three are the rollups' three)."""
    return tuple(sorted(set(dimensions)))[:width]


@dataclass(frozen=True)
class SessionFacts:
    """The part of a session document the rollups depend on; equal facts → no rollup change."""

    start_ms: int
    status: str
    conclusion: str
    severity: str
    dims: tuple[tuple[str, str | None], ...]
    duration_ms: int
    completeness_e4: int  # completeness × 10 000 (assemble rounds it to 4 places): integer sums stay exact

    def to_json(self) -> str:
        return json.dumps([self.start_ms, self.status, self.conclusion, self.severity, [list(d) for d in self.dims],
                           self.duration_ms, self.completeness_e4], separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "SessionFacts":
        start, status, conclusion, severity, dims, duration, completeness_e4 = json.loads(text)
        return cls(start, status, conclusion, severity, tuple((k, v) for k, v in dims), duration, completeness_e4)


def dimension_value(value: Any) -> str | None:
    """Dimension values are text (numbers as their shortest form), cut to fit the key; missing is None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list):  # a multi-valued field: its first value is the dimension value
        return dimension_value(value[0]) if value else None
    return str(value)[:MAX_DIM_VALUE]


def facts_of(document: dict[str, Any], dimensions: Iterable[str], width: int = MAX_SLOTS) -> SessionFacts:
    """Facts of an assembled session document (jobs/sessionize/logic/assemble.py)."""
    conclusions = document.get("conclusions") or []
    primary = document.get("primary_conclusion") or ""
    severity = next((c["severity"] for c in conclusions if c["name"] == primary), "") if primary else ""
    fields = document.get("fields") or {}
    return SessionFacts(
        start_ms=int(document["start_ms"]), status=document["status"], conclusion=primary, severity=severity,
        dims=tuple((name, dimension_value(fields.get(name))) for name in slots(dimensions, width)),
        duration_ms=int(document["duration_ms"]), completeness_e4=round(float(document["completeness"]) * 10_000),
    )


def slot_values(dims: tuple[tuple[str, str | None], ...]) -> tuple[str, tuple[str, ...]]:
    """(names in column order joined by commas, values of d1..d3); a missing value is stored as ''."""
    values = [value or "" for _, value in dims] + [""] * (MAX_SLOTS - len(dims))
    return ",".join(name for name, _ in dims), tuple(values)


@dataclass(frozen=True)
class RowKey:
    """One rollup row: template × grain × bucket × status × conclusion × severity × dimension values."""

    grain: str
    bucket_ms: int
    status: str
    conclusion: str
    severity: str
    dim_names: str
    values: tuple[str, ...]


def _merge(into: dict[int, int], other: dict[int, int]) -> None:
    for index, count in other.items():
        total = into.get(index, 0) + count
        if total:
            into[index] = total
        else:
            into.pop(index, None)


@dataclass
class Delta:
    """Additive change to one rollup row (`hours`: start hours of the day, and `open_sessions`: sessions counted
    while open, the day tiers only: their rows have no status column, and a query reading them counts what is still
    provisional from the same rows)."""

    sessions: int = 0
    duration_sum: int = 0
    completeness_e4: int = 0
    histogram: dict[int, int] = field(default_factory=dict)
    hours: dict[int, int] = field(default_factory=dict)
    open_sessions: int = 0

    def add(self, other: "Delta") -> None:
        self.sessions += other.sessions
        self.duration_sum += other.duration_sum
        self.completeness_e4 += other.completeness_e4
        self.open_sessions += other.open_sessions
        _merge(self.histogram, other.histogram)
        _merge(self.hours, other.hours)

    @property
    def is_zero(self) -> bool:
        return not (self.sessions or self.duration_sum or self.completeness_e4 or self.open_sessions or self.histogram
                    or self.hours)

    def row(self) -> tuple:
        """(sessions, duration_sum, completeness_e4, h00 … h63) in column order."""
        return (self.sessions, self.duration_sum, self.completeness_e4, *(self.histogram.get(i, 0) for i in range(BUCKETS)))


def contribution(facts: SessionFacts, sign: int = 1) -> list[tuple[RowKey, Delta]]:
    """The rows a session counts in (one per grain, and one day row without status/severity that also counts its start
    hour) and what it adds to each (`sign` −1 retracts). The day row without conclusion is not listed: a batch
    derives it from its combined day rows (DeltaBatch.nonzero)."""
    names, values = slot_values(facts.dims)
    delta = Delta(sign, sign * facts.duration_ms, sign * facts.completeness_e4, {bucket_of(facts.duration_ms): sign})
    day = facts.start_ms - facts.start_ms % DAY_MS
    return [
        *((RowKey(grain, facts.start_ms - facts.start_ms % size, facts.status, facts.conclusion, facts.severity, names, values),
           Delta(delta.sessions, delta.duration_sum, delta.completeness_e4, dict(delta.histogram)))
          for grain, size in GRAINS.items()),
        (RowKey(HOURS, day, "", facts.conclusion, "", names, values),
         Delta(delta.sessions, delta.duration_sum, delta.completeness_e4, dict(delta.histogram), {(facts.start_ms - day) // HOUR_MS: sign},
               sign if facts.status == "open" else 0)),
    ]


@dataclass
class DeltaBatch:
    """Deltas of one sink batch, combined per rollup row before anything is written."""

    rows: dict[RowKey, Delta] = field(default_factory=dict)
    uncombined: int = 0  # rows a writer without combining would have written

    def move(self, old: SessionFacts | None, new: SessionFacts | None) -> None:
        """Retract `old`, add `new` (either may be None); equal facts change nothing."""
        if old == new:
            return
        for facts, sign in ((old, -1), (new, 1)):
            if facts is None:
                continue
            self.uncombined += 1  # its day row without conclusion (derived in nonzero)
            for key, delta in contribution(facts, sign):
                self.uncombined += 1
                self.rows.setdefault(key, Delta()).add(delta)

    def nonzero(self) -> list[tuple[RowKey, Delta]]:
        """Rows to write, in a fixed order (the same lock order in every writer avoids deadlocks). The day rows
        without conclusion are the combined day rows summed over conclusions: the same sums as adding each session
        to them, with the Python work per combined row instead of per session (the upkeep's own CPU +20 % → ~+3 %)."""
        rows = dict(self.rows)
        for key, delta in self.rows.items():
            if key.grain == HOURS:
                total = rows.get(total_key := replace(key, grain=DAYS, conclusion=""))
                if total is None:
                    total = rows[total_key] = Delta()
                total.add(delta)
        return sorted(((k, d) for k, d in rows.items() if not d.is_zero),
                      key=lambda item: (item[0].grain, item[0].bucket_ms, item[0].status, item[0].conclusion,
                                        item[0].severity, item[0].dim_names, item[0].values))
