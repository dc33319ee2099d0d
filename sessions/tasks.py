"""Celery tasks: thin wrappers that take ids and call a service; only transient errors are retried.

Results are small JSON dicts (stored by django-celery-results). Job operations' tasks are in operations/tasks.py.
"""
from celery import shared_task
from django.db import OperationalError

from .models import AnalysisTemplate
from .services import late_replay, reports, retention


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_correlation_report(template_id: int) -> int:
    """Build and store the template's correlation report; returns the report id."""
    return reports.build_report(AnalysisTemplate.objects.get(pk=template_id)).pk


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def replay_late_events(template_id: int | None = None) -> dict[str, int]:
    """Beat entry `replay-late-events`: re-apply queued late events (all templates when no id is given)."""
    templates = AnalysisTemplate.objects.filter(pk=template_id) if template_id else AnalysisTemplate.objects.all()
    return {t.name: late_replay.replay_late_events(t).replayed for t in templates}


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def apply_retention() -> dict[str, int]:
    """Beat entry `apply-retention`: delete what each template's `retention` no longer keeps (whole day partitions
    on TiDB first, then batched)."""
    retention.drop_expired_partitions()
    return {t.name: retention.apply_retention(t).sessions for t in AnalysisTemplate.objects.all()}
