"""The monitor: poll every running job's Flink REST endpoints, record what it sees, repair what broke.

Called by the beat entry `monitor-flink-jobs` (luna/settings/celery.py). Who restarts what:
- Flink restarts a job's tasks itself (exponential-delay restart strategy, bounded attempts; main.py), from
  the latest checkpoint, as long as slots exist. The monitor only records those restarts (`numRestarts`).
- A lost TaskManager of the cluster Luna manages is replaced here (a standalone cluster never does it), after
  which Flink's own restart puts the job back.
- A job Flink gave up on (FAILED), or one the cluster forgot (JobManager restarted), is resubmitted here from
  its latest retained checkpoint, with exponential back-off and a limit; every attempt is a `JobAttempt` row.
The decisions (`observe`, `next_step`) are pure functions of recorded REST answers, unit-tested without Flink.
"""
import fcntl
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from jobs.sessionize.logic.durations import parse_duration_ms
from sessions.models import TemplateVersion

from ..choices import AttemptKind, AttemptOutcome, JobState
from ..models import JobAttempt, JobRun
from . import flink_cluster, job_control
from .flink_rest import Backpressure, CheckpointInfo, FlinkClient, FlinkError, FlinkUnavailable, JobDetail, JobNotFound

log = logging.getLogger(__name__)
STUCK_AFTER = timedelta(minutes=10)  # a task holding a run longer than this died with its worker
RESTARTING_STATES = {"CREATED", "INITIALIZING", "RESTARTING", "FAILING", "RECONCILING", "SUSPENDED"}
TERMINAL = {"FAILED": JobState.FAILED, "CANCELED": JobState.CANCELED, "FINISHED": JobState.FINISHED}


@dataclass(frozen=True)
class Snapshot:
    """Everything one poll learns about a Flink job."""

    detail: JobDetail
    checkpoints: CheckpointInfo | None = None
    watermark_ms: int | None = None
    backpressure: Backpressure | None = None
    flink_restarts: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RestartPolicy:
    limit: int
    backoff_ms: int
    backoff_max_ms: int
    reset_ms: int

    @classmethod
    def from_settings(cls) -> "RestartPolicy":
        return cls(settings.LUNA_JOB_RESTART_LIMIT, parse_duration_ms(settings.LUNA_JOB_RESTART_BACKOFF),
                   parse_duration_ms(settings.LUNA_JOB_RESTART_BACKOFF_MAX), parse_duration_ms(settings.LUNA_JOB_RESTART_RESET))

    def delay_ms(self, number: int) -> int:
        """Back-off before attempt `number` (1-based): backoff, 2×, 4× ... capped."""
        return min(self.backoff_ms * 2 ** (number - 1), self.backoff_max_ms)


@dataclass(frozen=True)
class Step:
    """What to do about a failed job now: wait until `due`, resubmit as attempt `number`, or give up."""

    action: str  # "wait" | "resubmit" | "give_up"
    number: int
    due: datetime | None = None


# ---- pure decisions ---------------------------------------------------------------------------------------
def observe(run: JobRun, snap: Snapshot, now: datetime, newest_input_ms: int | None) -> dict[str, Any]:
    """The run's fields as this snapshot shows them (state, uptime, records, checkpoint, lag, restarts, error)."""
    detail = snap.detail
    fields: dict[str, Any] = {"polled_at": now, "records_in": detail.records_in, "records_out": detail.records_out,
                              "restarts": run.carried_restarts + snap.flink_restarts}
    if detail.all_tasks_running:
        since = _from_ms(detail.running_since_ms) or now
        fields.update(state=JobState.RUNNING, running_since=since, uptime_ms=int((now - since).total_seconds() * 1000))
    elif detail.state in TERMINAL:
        fields.update(state=TERMINAL[detail.state], running_since=None, uptime_ms=None)
    else:  # RUNNING with tasks waiting for slots, RESTARTING, FAILING ...
        fields.update(state=JobState.RESTARTING, running_since=None, uptime_ms=None)
    if run.polled_at and detail.records_in >= run.records_in and now > run.polled_at:
        fields["throughput"] = (detail.records_in - run.records_in) / (now - run.polled_at).total_seconds()
    if snap.checkpoints and snap.checkpoints.latest_id is not None:
        fields.update(last_checkpoint_id=snap.checkpoints.latest_id, last_checkpoint_path=snap.checkpoints.latest_path,
                      last_checkpoint_at=_from_ms(snap.checkpoints.latest_at_ms))
    fields["watermark_ms"] = snap.watermark_ms
    fields["lag_ms"] = max(0, newest_input_ms - snap.watermark_ms) if newest_input_ms and snap.watermark_ms else None
    if snap.backpressure:
        fields.update(backpressure=snap.backpressure.level, backpressure_ratio=snap.backpressure.ratio)
    if snap.failures:
        fields["error"] = snap.failures[0]
    return fields


def next_step(attempt_times: list[datetime], now: datetime, due: datetime | None, policy: RestartPolicy) -> Step:
    """Back-off and limit for resubmitting a failed job, from the times of earlier resubmissions of the run.

    Attempts older than `reset` no longer count (the job ran long enough since). The first sighting of a failure
    sets `due`; later polls resubmit once it has passed.
    """
    recent = [t for t in attempt_times if (now - t).total_seconds() * 1000 < policy.reset_ms]
    number = len(recent) + 1
    if number > policy.limit:
        return Step("give_up", number)
    if due is None:
        due = now + timedelta(milliseconds=policy.delay_ms(number))
    return Step("resubmit", number, due) if now >= due else Step("wait", number, due)


def newest_input_ms(version: TemplateVersion) -> int | None:
    """The newest mtime (epoch ms) of a visible file in the template's local source directories."""
    from .launch import job_config

    config = job_config(version, bounded=False)
    newest = None
    for source in version.document.get("sources", []):
        path = config.source_path(source.get("location", ""))
        if "://" in path:
            continue  # Kafka or remote storage: no file times to compare
        for mtime in _mtimes(Path(path)):
            newest = mtime if newest is None or mtime > newest else newest
    return int(newest * 1000) if newest is not None else None


def _mtimes(root: Path) -> Iterator[float]:
    """File mtimes under `root`, skipping hidden/in-progress files ('.' or '_' prefix) like Flink's source."""
    if not root.is_dir():
        return
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _mtimes(Path(entry.path))
            elif entry.is_file():
                yield entry.stat().st_mtime


def _from_ms(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=dt_timezone.utc) if ms else None


# ---- REST ---------------------------------------------------------------------------------------------------
def snapshot(client: FlinkClient, jid: str) -> Snapshot:
    """One poll of a job: detail, checkpoints, per-vertex watermarks and back-pressure, restarts, failures."""
    detail = client.job(jid)
    if detail.state in TERMINAL or not detail.all_tasks_running:
        return Snapshot(detail, client.checkpoints(jid), flink_restarts=_restarts(client, jid), failures=client.failures(jid))
    # The job's watermark is the furthest any vertex has seen: sources have none, and the writer's input also
    # carries the rejected lines, which hold no event time; the correlating vertex is the one that matters.
    watermarks = [w for w in (client.watermark(jid, v.id) for v in detail.vertices) if w is not None]
    return Snapshot(
        detail, client.checkpoints(jid), max(watermarks, default=None),
        Backpressure.worst([client.backpressure(jid, v.id) for v in detail.vertices]),
        _restarts(client, jid), client.failures(jid)[:1],
    )


def _restarts(client: FlinkClient, jid: str) -> int:
    value = client.job_metrics(jid, ["numRestarts"]).get("numRestarts", "0")
    return int(float(value or 0))


# ---- the beat task's body -----------------------------------------------------------------------------------
def poll_all(now: datetime | None = None) -> dict[str, int]:
    """Poll every watched run, cluster by cluster. Returns counts for the task result."""
    now = now or timezone.now()
    counts = {"polled": 0, "repaired": 0, "unreachable": 0}
    runs = list(JobRun.objects.filter(pollable(now)).exclude(target="local").select_related("version"))
    for url in sorted({run.target for run in runs}):
        on_cluster = [run for run in runs if run.target == url]
        if not heal_cluster(url, on_cluster):
            counts["unreachable"] += len(on_cluster)
            continue
        client = FlinkClient(url)
        for run in on_cluster:
            counts["repaired" if poll_run(run, client, now) else "polled"] += 1
    return counts


def pollable(now: datetime) -> Q:
    """Runs the monitor may record and repair: watched ones, and ones a task has held for too long."""
    return Q(state__in=JobState.watched()) | Q(state__in=JobState.transitional(), state_since__lt=now - STUCK_AFTER)


def heal_cluster(url: str, runs: list[JobRun]) -> bool:
    """True when the cluster answers. A managed cluster short of TaskManagers gets one more (per poll); a dead
    one is started."""
    layout = job_control.managed_layout(url)
    overview = flink_cluster.overview(url)
    registered = overview.get("taskmanagers", 0) if overview else 0
    if layout is None or (overview and registered >= layout.taskmanagers):
        return overview is not None
    daemon, expected = ("taskexecutor", layout.taskmanagers) if overview else ("standalonesession", 1)
    with _lock(layout) as acquired:
        if not acquired or len(flink_cluster.daemon_pids(layout, daemon)) >= expected:
            return overview is not None  # another poll is healing it, or the process is still coming up
        kind = AttemptKind.TASKMANAGER if overview else AttemptKind.CLUSTER
        if not overview:
            reason = f"no JobManager answers at {url}"
        else:
            reason = "no TaskManager registered" if not registered else f"only {registered} of {expected} TaskManagers registered"
        log.warning("Flink cluster %s: %s; starting %s", url, reason, kind)
        try:
            flink_cluster.start_taskmanager(layout) if overview else flink_cluster.start(layout)
            outcome, error = AttemptOutcome.SUCCEEDED, ""
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            outcome, error = AttemptOutcome.FAILED, str(exc)
        for run in runs:
            JobAttempt.objects.create(run=run, number=0, kind=kind, outcome=outcome, reason=reason, error=error,
                                      failed_job_id=run.flink_job_id)
    return flink_cluster.overview(url) is not None


def poll_run(run: JobRun, client: FlinkClient, now: datetime) -> bool:
    """Record one run's snapshot; resubmit it when Flink gave up on it or lost it. True when it acted."""
    if not run.flink_job_id:  # its submitting task died before Flink answered
        JobRun.objects.filter(pollable(now), pk=run.pk).update(
            state=JobState.FAILED, finished_at=now, error="submission interrupted (the worker was lost); start again")
        return True
    try:
        snap = snapshot(client, run.flink_job_id)
    except JobNotFound as exc:
        return repair(run, client, now, f"the cluster no longer knows job {run.flink_job_id}:\n{exc}")
    except FlinkUnavailable:
        return False
    fields = observe(run, snap, now, newest_input_ms(run.version))
    if fields["state"] == JobState.FAILED:
        fields.pop("state")
        _update(run, fields, now)
        return repair(run, client, now, snap.failures[0] if snap.failures else "job FAILED")
    if fields["state"] in (JobState.CANCELED, JobState.FINISHED):
        fields["finished_at"] = now
    _update(run, fields, now)
    return False


def repair(run: JobRun, client: FlinkClient, now: datetime, reason: str) -> bool:
    """Resubmit from the latest checkpoint when the back-off allows; give up past the limit."""
    policy = RestartPolicy.from_settings()
    times = list(run.attempts.filter(kind=AttemptKind.RESUBMIT).exclude(outcome=AttemptOutcome.GAVE_UP)
                 .values_list("created_at", flat=True))
    step = next_step(times, now, run.next_attempt_at, policy)
    if step.action == "wait":
        JobRun.objects.filter(pk=run.pk).update(state=JobState.RESTARTING, next_attempt_at=step.due, error=reason)
        return False
    if step.action == "give_up":
        JobAttempt.objects.create(run=run, number=step.number, kind=AttemptKind.RESUBMIT, outcome=AttemptOutcome.GAVE_UP,
                                  reason=reason, failed_job_id=run.flink_job_id)
        JobRun.objects.filter(pk=run.pk).update(
            state=JobState.FAILED, finished_at=now, next_attempt_at=None,
            error=f"gave up after {step.number - 1} resubmissions (LUNA_JOB_RESTART_LIMIT):\n{reason}")
        return True
    # Claim the run so a concurrent poll cannot resubmit it a second time.
    if not JobRun.objects.filter(pollable(now), pk=run.pk, flink_job_id=run.flink_job_id).update(state=JobState.SUBMITTING, state_since=now):
        return False
    return _resubmit(run, client, now, step, reason, policy)


def _resubmit(run: JobRun, client: FlinkClient, now: datetime, step: Step, reason: str, policy: RestartPolicy) -> bool:
    run.refresh_from_db()
    restore = run.last_checkpoint_path or run.restored_from
    attempt = JobAttempt(run=run, number=step.number, kind=AttemptKind.RESUBMIT, reason=reason,
                         failed_job_id=run.flink_job_id, restored_from=restore)
    try:
        jid = job_control.submit(run, client, restore)
    except FlinkError as exc:
        attempt.outcome, attempt.error = AttemptOutcome.FAILED, str(exc)
        attempt.save()
        JobRun.objects.filter(pk=run.pk).update(
            state=JobState.RESTARTING, error=str(exc),
            next_attempt_at=now + timedelta(milliseconds=policy.delay_ms(step.number + 1)))
        return True
    attempt.outcome, attempt.new_job_id = AttemptOutcome.SUBMITTED, jid
    attempt.save()
    JobRun.objects.filter(pk=run.pk).update(
        state=JobState.RESTARTING, flink_job_id=jid, restored_from=restore, next_attempt_at=None,
        carried_restarts=run.restarts + 1, restarts=run.restarts + 1, running_since=None)
    log.warning("run %s: resubmitted as %s from %s (attempt %s)", run.pk, jid, restore or "scratch", step.number)
    return True


def _update(run: JobRun, fields: dict[str, Any], now: datetime) -> None:
    """Write the snapshot unless an operator's task took the run over meanwhile (stop, cancel, restart)."""
    JobRun.objects.filter(pollable(now), pk=run.pk, flink_job_id=run.flink_job_id).update(**fields)


@contextmanager
def _lock(layout: flink_cluster.ClusterLayout) -> Iterator[bool]:
    """A file lock beside the managed cluster: one healer at a time on this machine."""
    layout.root.mkdir(parents=True, exist_ok=True)
    with open(layout.root / "monitor.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
