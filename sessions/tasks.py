"""Celery tasks: thin wrappers that take ids and call a service; only transient errors are retried."""
from celery import shared_task
from django.db import OperationalError

from .models import AnalysisTemplate
from .services import reports


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_correlation_report(template_id: int) -> int:
    """Build and store the template's correlation report; returns the report id."""
    return reports.build_report(AnalysisTemplate.objects.get(pk=template_id)).pk
