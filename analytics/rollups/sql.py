"""The rollup upkeep's statements, one printer per backend (mysql/tidb `%s`, sqlite `?`); values always bound."""
from dataclasses import dataclass

from jobs.sessionize.sink.dialects import DIALECTS

from .contribution import HOUR_COLUMNS
from .histogram import COLUMNS as HISTOGRAM

ROLLUP_TABLE = "analytics_rollup"
HOURS_TABLE = "analytics_rollup_hours"
HOURS_KEY = ("template_id", "dim_names", "day_ms", "conclusion", "d1", "d2", "d3")
DAYS_TABLE = "analytics_rollup_days"
DAYS_KEY = ("template_id", "dim_names", "day_ms", "d1", "d2", "d3")
DAY_MEASURES = ("sessions", "duration_sum", "completeness_e4", "open_sessions", *HISTOGRAM, *HOUR_COLUMNS)
CONTRIBUTION_TABLE = "analytics_session_contribution"
ROLLUP_KEY = ("template_id", "grain", "dim_names", "bucket_ms", "status", "conclusion", "severity", "d1", "d2", "d3")
ROLLUP_MEASURES = ("sessions", "duration_sum", "completeness_e4", *HISTOGRAM)
ROLLUP_COLUMNS = (*ROLLUP_KEY, *ROLLUP_MEASURES)
CONTRIBUTION_COLUMNS = ("session_id", "template_id", "applied", "pending", "pending_since_ms")


@dataclass(frozen=True)
class RollupSQL:
    """`name` is the sink dialect's name: mysql, tidb or sqlite."""

    name: str

    @property
    def mark(self) -> str:
        return DIALECTS[self.name].placeholder

    @property
    def lock(self) -> str:
        return DIALECTS[self.name].lock_suffix

    def marks(self, count: int) -> str:
        return DIALECTS[self.name].marks(count)

    def add_to_rollup(self, buckets: tuple[int, ...] = tuple(range(len(HISTOGRAM)))) -> str:
        """Insert a row or add the deltas to it (counts, sums and histogram buckets all add). Only the histogram
        columns in `buckets` are named (the others keep their database default 0): a batch's rows touch a handful
        of the 64, and escaping the other parameters was most of the upkeep's client CPU."""
        return self._add(ROLLUP_TABLE, ROLLUP_KEY, ("sessions", "duration_sum", "completeness_e4", *(HISTOGRAM[i] for i in buckets)))

    def add_to_hours(self, buckets: tuple[int, ...], hours: tuple[int, ...], conclusion: bool = True) -> str:
        """The day rows without status/severity (`conclusion=False`: without the conclusion either): the rollups'
        measures, naming only the histogram buckets and start hours this batch touches (the others keep 0)."""
        return self._add(HOURS_TABLE if conclusion else DAYS_TABLE, HOURS_KEY if conclusion else DAYS_KEY,
                         ("sessions", "duration_sum", "completeness_e4", "open_sessions", *(HISTOGRAM[i] for i in buckets),
                          *(HOUR_COLUMNS[h] for h in hours)))

    def _add(self, table: str, key: tuple[str, ...], measures: tuple[str, ...]) -> str:
        return DIALECTS[self.name].upsert_adding(table, key, measures)

    def hours_from_hour_rows(self, template: bool = False, open_sessions: bool = True) -> str:
        """Fill the day rows without status/severity from the hour rollups (exactly what the sink would have
        written: both hold the same applied sessions): migration 0004 for rows kept before the tier (before the
        open_sessions column: `open_sessions=False`), and the bench's loader. Parameters: the grain 'h', then the
        template id when `template`."""
        day = "MOD(bucket_ms, 86400000)" if self.name != "sqlite" else "(bucket_ms % 86400000)"
        hours = ", ".join(f"SUM(CASE WHEN {day} = {h * 3_600_000} THEN sessions ELSE 0 END)" for h in range(24))
        measures = ("sessions", "duration_sum", "completeness_e4", *HISTOGRAM)
        keys = f"template_id, dim_names, bucket_ms - {day}, conclusion, d1, d2, d3"
        where = f"grain = {self.mark}" + (f" AND template_id = {self.mark}" if template else "")
        opened = (", open_sessions", ", SUM(CASE WHEN status = 'open' THEN sessions ELSE 0 END)") if open_sessions else ("", "")
        return (f"INSERT INTO {HOURS_TABLE} ({', '.join(HOURS_KEY)}, {', '.join(measures)}, {', '.join(HOUR_COLUMNS)}{opened[0]}) "
                f"SELECT {keys}, {', '.join(f'SUM({m})' for m in measures)}, {hours}{opened[1]} FROM {ROLLUP_TABLE} "
                f"WHERE {where} GROUP BY {keys}")

    def days_from_hours_rows(self, template: bool = False) -> str:
        """Fill the day rows without conclusion from the day rows with it (the same applied sessions): migration 0006
        for rows kept before the tier, and the bench's loader. Parameters: the template id when `template`."""
        keys = ", ".join(DAYS_KEY)
        return (f"INSERT INTO {DAYS_TABLE} ({keys}, {', '.join(DAY_MEASURES)}) SELECT {keys}, "
                f"{', '.join(f'SUM({m})' for m in DAY_MEASURES)} FROM {HOURS_TABLE}"
                f"{f' WHERE template_id = {self.mark}' if template else ''} GROUP BY {keys}")

    def open_from_day_rows(self) -> str:
        """Migration 0005: the open sessions of each day row without status, from the day rollups (what the sink
        would have written). Parameters: none."""
        match = " AND ".join(f"r.{c} = {HOURS_TABLE}.{c}" for c in HOURS_KEY if c != "day_ms")
        return (f"UPDATE {HOURS_TABLE} SET open_sessions = (SELECT COALESCE(SUM(r.sessions), 0) FROM {ROLLUP_TABLE} r "
                f"WHERE r.grain = 'd' AND r.status = 'open' AND r.bucket_ms = {HOURS_TABLE}.day_ms AND {match})")

    def select_contributions(self, count: int) -> str:
        return (f"SELECT session_id, applied, pending, pending_since_ms FROM {CONTRIBUTION_TABLE} "
                f"WHERE session_id IN ({self.marks(count)}) ORDER BY session_id{self.lock}")

    def select_settled(self) -> str:
        """Pending facts of a template that have waited long enough (template_id, cut-off, limit)."""
        return (f"SELECT session_id, applied, pending, pending_since_ms FROM {CONTRIBUTION_TABLE} "
                f"WHERE template_id = {self.mark} AND pending_since_ms <= {self.mark} ORDER BY session_id "
                f"LIMIT {self.mark}{self.lock}")

    def store_contribution(self) -> str:
        return DIALECTS[self.name].upsert(CONTRIBUTION_TABLE, CONTRIBUTION_COLUMNS, key="session_id")

    def delete_contributions(self, count: int) -> str:
        return f"DELETE FROM {CONTRIBUTION_TABLE} WHERE session_id IN ({self.marks(count)})"

    def template_dimensions(self) -> str:
        return (f"SELECT document FROM luna_template_version WHERE template_id = {self.mark} "
                f"ORDER BY number DESC LIMIT 1")

    def pending_templates(self) -> str:
        return f"SELECT DISTINCT template_id FROM {CONTRIBUTION_TABLE} WHERE pending_since_ms <= {self.mark}"
