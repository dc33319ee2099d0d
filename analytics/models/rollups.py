"""Rollup tables kept by the streaming sink (analytics/rollups); their names and columns are its contract."""
from django.db import models

from ..rollups.contribution import HOUR_COLUMNS
from ..rollups.histogram import COLUMNS as HISTOGRAM_COLUMNS


class Grain(models.TextChoices):
    MINUTE = "m", "Minute"
    HOUR = "h", "Hour"
    DAY = "d", "Day (UTC)"


class Rollup(models.Model):
    """Sessions per template × grain bucket (UTC) × status × primary conclusion × severity × dimension values.

    Dimension values sit in plain columns (d1..d3, named by `dim_names`) so the covering index can group by them.

    Every measure adds up (counts, sums, histogram buckets), so any set of rows merges into one answer;
    percentiles come from the summed log-scale histogram `h00`…`h63` (analytics/rollups/histogram.py).
    """

    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    grain = models.CharField(max_length=1, choices=Grain.choices)
    bucket_ms = models.BigIntegerField(help_text="Bucket start, epoch ms (UTC).")
    status = models.CharField(max_length=16)
    conclusion = models.CharField(max_length=100, blank=True, default="", help_text="Primary conclusion.")
    severity = models.CharField(max_length=16, blank=True, default="", help_text="Severity of the primary conclusion.")
    dim_names = models.CharField(max_length=150, blank=True, default="",
                                 help_text="Dimensions held in d1..d3, comma-separated (the template's first three by name).")
    d1 = models.CharField(max_length=100, blank=True, default="", help_text="Value of the first dimension ('' when missing).")
    d2 = models.CharField(max_length=100, blank=True, default="")
    d3 = models.CharField(max_length=100, blank=True, default="")
    sessions = models.BigIntegerField(default=0)
    duration_sum = models.BigIntegerField(default=0, help_text="Sum of durations, ms.")
    completeness_e4 = models.BigIntegerField(default=0, help_text="Sum of completeness × 10 000 (exact integer sums).")

    class Meta:
        db_table = "analytics_rollup"
        verbose_name = "rollup row"
        constraints = [
            # Value columns first, on purpose: with the covering index's prefix, MariaDB would read rows through
            # this key instead of the index alone (measured: 4.4 s instead of 0.2 s).
            models.UniqueConstraint(
                fields=["d1", "d2", "d3", "severity", "conclusion", "status", "bucket_ms", "dim_names", "grain", "template"],
                name="analytics_rollup_key",
            )
        ]
        # Covering: counts, sums and completeness by any key column are read from this index alone (measured at
        # 1 M sessions: 3.6 s → 0.2 s for hour × conclusion over 90 days on MariaDB). Bucket, conclusion, then the
        # dimensions: the dashboards' time × conclusion × dimension groups in index order (no temporary table).
        indexes = [
            models.Index(fields=["template", "grain", "dim_names", "bucket_ms", "conclusion", "d1", "d2", "d3", "status", "severity",
                                 "sessions", "duration_sum", "completeness_e4"], name="analytics_rollup_order"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id}/{self.grain}/{self.bucket_ms} {self.status} {self.conclusion} ×{self.sessions}"

    @property
    def histogram(self) -> list[int]:
        return [getattr(self, name) for name in HISTOGRAM_COLUMNS]


for _name in HISTOGRAM_COLUMNS:  # a database default too: the sink's upsert names only the buckets it adds to
    Rollup.add_to_class(_name, models.IntegerField(default=0, db_default=0))


class SessionContribution(models.Model):
    """What the rollups hold for one session (`applied`) and facts waiting to settle (`pending`).

    The sink reads this instead of re-deriving a session's old contribution, so a retraction is always exactly
    what was added. JSON text written by analytics/rollups/contribution.py (SessionFacts.to_json).
    """

    session_id = models.BigIntegerField(primary_key=True)
    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    applied = models.TextField(null=True, blank=True)
    pending = models.TextField(null=True, blank=True)
    pending_since_ms = models.BigIntegerField(null=True, blank=True, help_text="When the pending facts last changed.")

    class Meta:
        db_table = "analytics_session_contribution"
        verbose_name = "session contribution"
        indexes = [models.Index(fields=["template", "pending_since_ms"], name="analytics_contrib_pending_idx")]


class DayRows(models.Model):
    """What both day tiers hold per template × UTC day × dimension values: the rollups' measures, the sessions counted
    while open (a query's provisional count, from its own rows), and, added below, the duration histogram and the 24
    hourly counts. The sink writes both with one statement shape (analytics/rollups/sql.py `add_to_hours`)."""

    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="+", db_constraint=False,
                                 db_index=False)  # the primary key starts with it
    dim_names = models.CharField(max_length=150, blank=True, default="", help_text="Dimensions held in d1..d3 (as the rollups).")
    day_ms = models.BigIntegerField(help_text="UTC day start, epoch ms.")
    d1 = models.CharField(max_length=100, blank=True, default="")
    d2 = models.CharField(max_length=100, blank=True, default="")
    d3 = models.CharField(max_length=100, blank=True, default="")
    sessions = models.BigIntegerField(default=0, db_default=0)
    duration_sum = models.BigIntegerField(default=0, db_default=0, help_text="Sum of durations, ms.")
    completeness_e4 = models.BigIntegerField(default=0, db_default=0, help_text="Sum of completeness × 10 000.")
    open_sessions = models.BigIntegerField(default=0, db_default=0,
                                           help_text="Sessions counted while open (a query's provisional count, from its own rows).")

    class Meta:
        abstract = True


class RollupHours(DayRows):
    """Day rows without status or severity: per template × UTC day × primary conclusion × dimension values, the
    rollups' measures (counts, sums, duration histogram) and the count of each UTC hour of the day in `s00`…`s23`.

    It answers the commonest charts with fewer rows: sessions per hour × conclusion × dimension with one row per day
    instead of up to 24 × statuses × severities hour rows (90 days at 10 M sessions: 10k rows instead of 320k, the 24
    counts packed into one text column), and day-or-coarser charts that do not group or filter by status/severity
    with half the day rows, read in key order. The sink keeps it with the other grains
    (analytics/rollups/contribution.py, tier `HOURS`), in the same transaction.

    The key is the primary key, in the dashboards' GROUP BY order: InnoDB stores the rows in it (a query reads a
    contiguous range, every column at hand) and an upsert changes one record, no secondary index.
    """

    pk = models.CompositePrimaryKey("template", "dim_names", "day_ms", "conclusion", "d1", "d2", "d3")
    conclusion = models.CharField(max_length=100, blank=True, default="", help_text="Primary conclusion.")

    class Meta:
        db_table = "analytics_rollup_hours"
        verbose_name = "day rollup row (no status/severity, start hours)"

    def __str__(self) -> str:
        return f"{self.template_id}/{self.day_ms} {self.conclusion} ×{self.sessions}"


class RollupDays(DayRows):
    """Day rows without conclusion either: per template × UTC day × dimension values, the same measures as
    `RollupHours` (counts, sums, histogram, open sessions, the 24 hourly counts), summed over conclusions.

    For charts that neither group nor filter by conclusion (nor status/severity): p95 of duration per day × channel at
    10 M sessions sums its histogram over 1,800 rows instead of 10,800 (one per conclusion), in key order. Kept by the
    sink with the other tiers (tier `DAYS`), in the same transaction.
    """

    pk = models.CompositePrimaryKey("template", "dim_names", "day_ms", "d1", "d2", "d3")

    class Meta:
        db_table = "analytics_rollup_days"
        verbose_name = "day rollup row (no conclusion, status or severity)"

    def __str__(self) -> str:
        return f"{self.template_id}/{self.day_ms} ×{self.sessions}"


for _model in (RollupHours, RollupDays):
    for _name in (*HISTOGRAM_COLUMNS, *HOUR_COLUMNS):  # database defaults too: the upsert names only what it adds to
        _model.add_to_class(_name, models.IntegerField(default=0, db_default=0))


class RollupSpan(models.Model):
    """The histogram buckets a template's rollup rows can hold (`low`…`high`, indexes into h00…h63): a superset, kept
    by the sink in the same transaction as the rows (it only widens). A percentile query sums these buckets only:
    durations fill about 30 of the 64, and the 64 sums over 10k day rows were most of a p95 chart's server time."""

    template = models.OneToOneField("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="+",
                                    db_constraint=False, primary_key=True)
    low = models.SmallIntegerField()
    high = models.SmallIntegerField()

    class Meta:
        db_table = "analytics_rollup_span"
        verbose_name = "rollup histogram span"
