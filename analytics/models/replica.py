"""Day versions of the fact table and the columnar replica built from them (analytics/replica)."""
from django.db import models


class FactDay(models.Model):
    """Per template × UTC day of session start: a version every writer of `analytics_session_fact` bumps in the same
    transaction as its change (the sink, retention, the backfill, the bench loader). A replica file built at version v
    of a day is exact while the day is still at v: the local counterpart of TiFlash's delta, merged at read time."""

    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="+", db_constraint=False,
                                 db_index=False)  # the primary key starts with it
    day_ms = models.BigIntegerField(help_text="UTC day start, epoch ms.")
    version = models.BigIntegerField(default=1)
    pk = models.CompositePrimaryKey("template", "day_ms")

    class Meta:
        db_table = "analytics_fact_days"
        verbose_name = "fact day version"


class ReplicaDay(models.Model):
    """The replica file of a template × UTC day: the day version it was built from (one consistent read), its rows."""

    template = models.ForeignKey("luna_sessions.AnalysisTemplate", on_delete=models.CASCADE, related_name="+", db_constraint=False,
                                 db_index=False)
    day_ms = models.BigIntegerField(help_text="UTC day start, epoch ms.")
    version = models.BigIntegerField(help_text="The FactDay version the file holds.")
    rows = models.BigIntegerField(default=0)
    built_ms = models.BigIntegerField(help_text="When it was built, epoch ms.")
    pk = models.CompositePrimaryKey("template", "day_ms")

    class Meta:
        db_table = "analytics_replica_days"
        verbose_name = "replica day"
