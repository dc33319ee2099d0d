"""Celery tasks of the analytics app (thin: each calls one service)."""
from celery import shared_task

from .services import rollups


@shared_task(name="analytics.tasks.settle_rollups")
def settle_rollups() -> int:
    """Provisional sessions stable for LUNA_ROLLUP_SETTLE_MS enter the rollups."""
    return rollups.settle()
