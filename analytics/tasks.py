"""Celery tasks of the analytics app (thin: each calls one service)."""
from celery import shared_task

from .services import alerts, replica, rollups, trends


@shared_task(name="analytics.tasks.settle_rollups")
def settle_rollups() -> int:
    """Provisional sessions stable for LUNA_ROLLUP_SETTLE_MS enter the rollups."""
    return rollups.settle()


@shared_task(name="analytics.tasks.evaluate_alerts")
def evaluate_alerts() -> dict:
    """Every enabled alert rule against its last window; firings recorded and notified."""
    return alerts.evaluate()


@shared_task(name="analytics.tasks.take_trend_snapshots")
def take_trend_snapshots() -> int:
    """Sessions in flight per node reached, open vs finished: one point of the trend series per template."""
    return trends.take()


@shared_task(name="analytics.tasks.refresh_fact_replica")
def refresh_fact_replica() -> int:
    """Stale days of the fact table's columnar replica rebuilt, LUNA_FACT_REPLICA_DAYS_PER_RUN at most per run."""
    from django.conf import settings

    return len(replica.refresh(settings.LUNA_FACT_REPLICA_DAYS_PER_RUN))
