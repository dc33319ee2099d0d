"""Celery tasks of job operations: thin wrappers that take ids and call job_control / job_monitor.

Progress steps are published as the PROGRESS state so the jobs page can show them. Only transient failures (the
cluster does not answer) are retried, with exponential back-off and a limit; Flink's refusals fail the task with
its full text.
"""
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task

from .choices import JobAction
from .models import JobRun
from .services import job_control, job_monitor
from .services.flink_rest import FlinkUnavailable

RETRY = {"autoretry_for": (FlinkUnavailable,), "retry_backoff": 5, "retry_backoff_max": 60, "max_retries": 3}


def reporter(task: Task) -> Callable[[str], None]:
    """A progress callback that publishes `step` as the task's PROGRESS state."""
    return lambda step: task.update_state(state="PROGRESS", meta={"step": step})


def summary(run: JobRun) -> dict[str, Any]:
    return {"run": run.pk, "state": run.state, "flink_job_id": run.flink_job_id,
            "savepoint": run.savepoint_path, "restored_from": run.restored_from}


@shared_task(bind=True, **RETRY)
def start_job(self: Task, template_id: int) -> dict[str, Any]:
    """Submit the template's current version (fresh state)."""
    return summary(job_control.start(template_id, progress=reporter(self)))


@shared_task(bind=True, **RETRY)
def stop_job(self: Task, template_id: int) -> dict[str, Any]:
    """Stop the template's job with a savepoint."""
    return summary(job_control.stop(template_id, progress=reporter(self)))


@shared_task(bind=True, **RETRY)
def cancel_job(self: Task, template_id: int) -> dict[str, Any]:
    """Cancel the template's job (checkpoints are retained)."""
    return summary(job_control.cancel(template_id, progress=reporter(self)))


@shared_task(bind=True, **RETRY)
def restart_job(self: Task, template_id: int) -> dict[str, Any]:
    """Savepoint-stop if running, then resubmit from the newest savepoint or checkpoint."""
    return summary(job_control.restart(template_id, progress=reporter(self)))


@shared_task
def monitor_jobs() -> dict[str, int]:
    """Beat entry `monitor-flink-jobs`: poll, record, repair (see luna/settings/celery.py)."""
    return job_monitor.poll_all()


TASKS = {JobAction.START: start_job, JobAction.STOP: stop_job, JobAction.CANCEL: cancel_job, JobAction.RESTART: restart_job}


def enqueue(action: str, template_id: int) -> str:
    """Queue an operator's action; returns the Celery task id the page and the API poll."""
    return TASKS[JobAction(action)].delay(template_id).id
