"""The session fact table kept by the sink (analytics/facts); its columns are the writer's contract."""
from django.db import models

from ..facts.row import FACT_SLOTS


class SessionFact(models.Model):
    """One row per stored session (its latest revision): what macro queries group and filter by, in columns.

    `d1..d6` hold the template's first six dimensions by name ('' when missing; the first value of a multi-valued
    field), `dim_key` names that layout. `duration_bucket` is the rollups' log-histogram bucket, so percentiles on
    MariaDB/SQLite are a GROUP BY of it (±16 %, as from the rollups).
    """

    session_id = models.BigIntegerField(primary_key=True)
    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    start_ms = models.BigIntegerField()
    end_ms = models.BigIntegerField()
    status = models.CharField(max_length=16)
    conclusion = models.CharField(max_length=100, blank=True, default="", help_text="Primary conclusion.")
    severity = models.CharField(max_length=16, blank=True, default="", help_text="Severity of the primary conclusion.")
    duration_ms = models.BigIntegerField()
    duration_bucket = models.PositiveSmallIntegerField(help_text="Bucket of analytics/rollups/histogram.py.")
    completeness_e4 = models.IntegerField(help_text="Completeness × 10 000.")
    nodes = models.TextField(blank=True, default="", help_text="Nodes reached, ',a,b,' (node filters).")
    dim_key = models.CharField(max_length=16, help_text="Hash of the dimension names held in d1..d6.")

    class Meta:
        db_table = "analytics_session_fact"
        verbose_name = "session fact"
        # Covering for every dashboard shape over d1..d3: a start_ms range, the layout and value filters, and
        # every grouped column and measure input, read from the index alone (d4..d6 and nodes read the rows).
        indexes = [
            models.Index(fields=["template", "start_ms", "dim_key", "conclusion", "status", "severity", "d1", "d2", "d3",
                                 "duration_bucket", "duration_ms", "completeness_e4"], name="analytics_fact_cover"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.status} {self.conclusion}"


for _i in range(1, FACT_SLOTS + 1):
    SessionFact.add_to_class(f"d{_i}", models.CharField(max_length=100, blank=True, default=""))
