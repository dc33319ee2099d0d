"""What the jobs page and the jobs API show: every template's latest run, and the state of a queued action."""
from dataclasses import dataclass, field
from typing import Any

from celery.result import AsyncResult
from django.db.models import IntegerField, OuterRef, Prefetch, Subquery

from jobs.sessionize.logic.errors import JOB_ERROR
from sessions.models import AnalysisTemplate, DeadLetter, TemplateVersion

from ..choices import JobState
from ..models import JobAttempt, JobRun, SinkOutage

RECENT_ATTEMPTS = 5
DONE_STATES = {"SUCCESS", "FAILURE", "REVOKED"}


@dataclass
class JobRow:
    """One template on the jobs page: its latest run (or none yet) and what the operator may do now."""

    template: AnalysisTemplate
    run: JobRun | None
    attempts: list[JobAttempt] = field(default_factory=list)
    job_errors: int = 0  # records a job function still failed on during this run (dead letters "job error ...")
    outages: list[SinkOutage] = field(default_factory=list)  # times the run's writer could not reach the database

    @property
    def can_start(self) -> bool:
        return self.template.current_number is not None and (self.run is None or not self.run.is_active)

    @property
    def can_stop(self) -> bool:
        return self.run is not None and self.run.state in JobState.watched()

    @property
    def can_restart(self) -> bool:
        return self.run is not None and self.run.state not in (JobState.SUBMITTING, JobState.STOPPING, JobState.CREATED)


def latest_runs() -> dict[int, JobRun]:
    """The newest run of every template, with its version and its recent repair attempts (two queries)."""
    newest = JobRun.objects.filter(version__template=OuterRef("version__template")).order_by("-id").values("id")[:1]
    runs = (JobRun.objects.filter(id=Subquery(newest)).select_related("version")
            .prefetch_related(Prefetch("attempts", queryset=JobAttempt.objects.order_by("-id"))))
    return {run.version.template_id: run for run in runs}


def job_rows() -> list[JobRow]:
    """Every template (with its current version number) and its latest run: three queries in all."""
    runs = latest_runs()
    current = TemplateVersion.objects.filter(template=OuterRef("pk")).order_by("-number").values("number")[:1]
    templates = AnalysisTemplate.objects.annotate(current_number=Subquery(current, output_field=IntegerField())).order_by("name")
    rows = [JobRow(t, runs.get(t.pk), list(runs[t.pk].attempts.all()[:RECENT_ATTEMPTS]) if t.pk in runs else [])
            for t in templates]
    _add_run_troubles([row for row in rows if row.run is not None and row.run.started_at is not None])
    return rows


def _add_run_troubles(rows: list[JobRow]) -> None:
    """Job errors and database outages since each run started: two queries for the whole page."""
    if not rows:
        return
    since = min(int(row.run.started_at.timestamp() * 1000) for row in rows)
    template_ids = [row.template.pk for row in rows]
    errors = (DeadLetter.objects.filter(template_id__in=template_ids, created_ms__gte=since, reason__startswith=JOB_ERROR)
              .values_list("template_id", "created_ms"))
    outages = list(SinkOutage.objects.filter(template_id__in=template_ids, ended_ms__gte=since).order_by("-started_ms")[:100])
    for row in rows:
        started = int(row.run.started_at.timestamp() * 1000)
        row.job_errors = sum(1 for template_id, created in errors if template_id == row.template.pk and created >= started)
        row.outages = [o for o in outages if o.template_id == row.template.pk and o.ended_ms >= started][:RECENT_ATTEMPTS]


def task_status(task_id: str) -> dict[str, Any]:
    """A queued action as the page shows it: Celery state, the current step, the outcome or the full error."""
    result = AsyncResult(task_id)
    state, info = result.state, result.info
    status: dict[str, Any] = {"task_id": task_id, "state": state, "done": state in DONE_STATES,
                              "step": "", "result": None, "error": "", "traceback": ""}
    if state == "PROGRESS" and isinstance(info, dict):
        status["step"] = info.get("step", "")
    elif state == "SUCCESS":
        status["result"] = info
    elif state in ("FAILURE", "RETRY"):
        status["error"] = f"{type(info).__name__}: {info}" if isinstance(info, BaseException) else str(info)
        status["traceback"] = result.traceback or ""
    return status
