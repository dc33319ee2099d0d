"""Start, stop (savepoint), cancel and restart a template's job on a Flink cluster through its REST API.

Celery tasks call these functions (sessions/tasks.py); so does `manage.py run_job --target <url>`.
Submission is REST-only: the flink-python jar is uploaded once, then `POST /jars/<id>/run` runs Flink's
PythonDriver with `-py jobs/sessionize/main.py --config <run json>` (≈5 s, against ≈9 s for `flink run`,
and no local Flink client needed). When the Python program fails, Flink's answer only says "exit code 1":
the driver's own output (the traceback) is read back from the JobManager log and stored with the error.
"""
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from sessions.models import AnalysisTemplate, TemplateVersion

from ..choices import JobMode, JobState
from ..models import JobRun
from . import flink_cluster
from .flink_rest import PYTHON_DRIVER, FlinkClient, FlinkError, FlinkUnavailable, JobDetail
from .launch import JOB_MAIN, ingest_stats, job_config

Progress = Callable[[str], None]
LIVE_FLINK_STATES = {"INITIALIZING", "CREATED", "RUNNING", "FAILING", "RESTARTING", "CANCELLING", "RECONCILING"}
DRIVER_BLOCK = re.compile(r"-+ Python Process Started -+\n(.*?)-+ Python Process Exited -+", re.S)
LOG_PREFIX = re.compile(r"^\S+ \S+ +\w+ +org\.apache\.flink\.client\.python\.PythonDriver +\[\] - ", re.M)


class JobControlError(Exception):
    """An operator request that cannot be carried out as asked (nothing to stop, already running, ...)."""


def _quiet(step: str) -> None:
    """Default progress sink."""


# ---- where jobs run ---------------------------------------------------------------------------------------
def cluster_url() -> str:
    """LUNA_FLINK_TARGET when it is a cluster URL, else the cluster Luna manages under var/flink."""
    target = settings.LUNA_FLINK_TARGET
    return target if "://" in target else flink_cluster.default_layout().rest_url


def managed_layout(url: str) -> flink_cluster.ClusterLayout | None:
    """The local cluster's layout when `url` is the cluster Luna starts itself (it may then start/heal it)."""
    layout = flink_cluster.default_layout()
    return layout if url.rstrip("/") == layout.rest_url else None


def client_for(url: str | None = None) -> FlinkClient:
    return FlinkClient(url or cluster_url())


def ensure_cluster(url: str, progress: Progress = _quiet) -> None:
    """A managed cluster is started (or given a TaskManager) when needed; an external one must answer."""
    layout = managed_layout(url)
    if layout is not None and not (flink_cluster.overview(url) or {}).get("taskmanagers"):
        progress("starting the Flink cluster")
        try:
            flink_cluster.start(layout)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            raise FlinkError(f"could not start the managed Flink cluster under {layout.root}: {exc}") from None
    FlinkClient(url).overview()


def ensure_jar(client: FlinkClient, progress: Progress = _quiet) -> str:
    """The id of the uploaded flink-python jar, uploading it the first time (uploads vanish with the JM)."""
    jar = next(iter(sorted((flink_cluster.flink_home() / "opt").glob("flink-python-*.jar"))))
    for uploaded in client.jars():
        if uploaded.get("name") == jar.name:
            return uploaded["id"]
    progress("uploading the flink-python jar")
    return client.upload_jar(jar)


# ---- submission -------------------------------------------------------------------------------------------
def write_run_config(run: JobRun) -> Path:
    path = Path(settings.VAR_DIR) / "jobs" / f"run-{run.pk}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    job_config(run.version, bounded=run.mode == JobMode.BOUNDED).dump(path)
    return path


def submit(run: JobRun, client: FlinkClient, restore: str = "", progress: Progress = _quiet) -> str:
    """Submit the run's job (restored from `restore` when given); returns the Flink job id."""
    jar_id = ensure_jar(client, progress)
    config = write_run_config(run)
    progress("submitting the job" + (f" from {restore}" if restore else ""))
    try:
        return client.run_jar(jar_id, PYTHON_DRIVER, ["-py", str(JOB_MAIN), "--config", str(config)], savepoint=restore)
    except FlinkUnavailable:
        raise
    except FlinkError as exc:
        raise FlinkError(f"{exc}\n\n--- Python driver output (JobManager log) ---\n{driver_output(client)}", exc.status) from None


def driver_output(client: FlinkClient) -> str:
    """The last Python driver run's output from the JobManager log (where PythonDriver prints it)."""
    try:
        log = client.jobmanager_log()
    except FlinkError as exc:
        return f"(JobManager log unavailable: {exc})"
    blocks = DRIVER_BLOCK.findall(log)
    return LOG_PREFIX.sub("", blocks[-1]).strip() if blocks else "(no Python driver output in the JobManager log)"


def wait_running(client: FlinkClient, jid: str, timeout: float = 120.0, progress: Progress = _quiet) -> JobDetail:
    """Poll until every task runs; raise with Flink's failure causes if the job ends first."""
    progress("waiting for every task to run")
    deadline = time.monotonic() + timeout
    while True:
        detail = client.job(jid)
        if detail.all_tasks_running or detail.state == "FINISHED":
            return detail
        if detail.state in {"FAILED", "CANCELED"}:
            raise FlinkError(f"job {jid} {detail.state}:\n" + "\n\n".join(client.failures(jid)[:3]))
        if time.monotonic() > deadline:
            return detail  # accepted but short of slots: the monitor takes it from here
        time.sleep(0.5)


def live_job_named(client: FlinkClient, name: str) -> str:
    """The id of a non-terminal job with this name on the cluster, or ''."""
    return next((j.jid for j in client.jobs() if j.name == name and j.state in LIVE_FLINK_STATES), "")


def launch(version: TemplateVersion, *, bounded: bool = False, restore: str = "", previous: JobRun | None = None,
           url: str | None = None, progress: Progress = _quiet) -> JobRun:
    """Create a run and put its job on the cluster (adopting a live job of the same name instead of doubling it)."""
    url = url or cluster_url()
    ensure_cluster(url, progress)
    client = FlinkClient(url)
    run = JobRun.objects.create(
        version=version, mode=JobMode.BOUNDED if bounded else JobMode.CONTINUOUS, target=url, state=JobState.SUBMITTING,
        started_at=timezone.now(), state_since=timezone.now(), previous=previous, restored_from=restore,
    )
    try:
        jid = live_job_named(client, job_config(version, bounded).job_name) or submit(run, client, restore, progress)
        run.flink_job_id = jid
        run.save(update_fields=["flink_job_id"])
        detail = wait_running(client, jid, progress=progress)
    except FlinkError as exc:
        _finish(run, JobState.FAILED, str(exc))
        raise
    run.state = JobState.FINISHED if detail.state == "FINISHED" else JobState.RUNNING
    run.running_since = timezone.now()
    run.save(update_fields=["state", "running_since"])
    progress(f"job {jid} is {detail.state}")
    return run


def wait_finished(run: JobRun, poll_s: float = 2.0) -> JobRun:
    """Block until a (bounded) run's job ends; record the outcome, Flink's failure causes and ingest stats."""
    client = FlinkClient(run.target)
    detail = _wait_state(client, run.flink_job_id, {"FINISHED", "FAILED", "CANCELED"}, timeout=float("inf"), poll_s=poll_s)
    error = "\n\n".join(client.failures(run.flink_job_id)[:3]) if detail.state == "FAILED" else ""
    run.stats = ingest_stats(run.version.template_id)
    _finish(run, {"FINISHED": JobState.FINISHED, "FAILED": JobState.FAILED}.get(detail.state, JobState.CANCELED), error)
    return run


# ---- operator actions (one Celery task each) --------------------------------------------------------------
def active_run(template_id: int) -> JobRun | None:
    return JobRun.objects.filter(version__template_id=template_id, state__in=JobState.active()).select_related("version").first()


def latest_run(template_id: int) -> JobRun | None:
    return JobRun.objects.filter(version__template_id=template_id).select_related("version").first()


def start(template_id: int, progress: Progress = _quiet) -> JobRun:
    """Start the template's current version as a continuous job (fresh state)."""
    template = AnalysisTemplate.objects.get(pk=template_id)
    version = template.current_version
    if version is None:
        raise JobControlError(f"template {template.name!r} has no version")
    running = active_run(template_id)
    if running is not None:
        raise JobControlError(f"{template.name} already has an active job (run {running.pk}, {running.state})")
    return launch(version, progress=progress)


def stop(template_id: int, progress: Progress = _quiet) -> JobRun:
    """Stop with a savepoint; the run keeps the savepoint's path for a restart."""
    run, was = _claim(template_id, JobState.STOPPING)
    client = FlinkClient(run.target)
    try:
        progress("taking a savepoint")
        request_id = client.stop_with_savepoint(run.flink_job_id, settings.LUNA_FLINK_SAVEPOINT_DIR)
        status = _wait_savepoint(client, run.flink_job_id, request_id)
        # Flink reports the savepoint a moment before the job is FINISHED; a restart must not race it
        _wait_state(client, run.flink_job_id, {"FINISHED", "CANCELED", "FAILED"})
    except FlinkError as exc:
        _release(run, was, str(exc))
        raise
    run.savepoint_path = status.location
    _finish(run, JobState.STOPPED, "")
    progress(f"stopped; savepoint {status.location}")
    return run


def cancel(template_id: int, progress: Progress = _quiet) -> JobRun:
    """Cancel without a savepoint; retained checkpoints stay for a restart."""
    run, was = _claim(template_id, JobState.STOPPING)
    client = FlinkClient(run.target)
    try:
        _record_checkpoint(run, client)
        progress("cancelling")
        client.cancel(run.flink_job_id)
        _wait_state(client, run.flink_job_id, {"CANCELED", "FAILED", "FINISHED"})
    except FlinkError as exc:
        _release(run, was, str(exc))
        raise
    _finish(run, JobState.CANCELED, "")
    return run


def restart(template_id: int, progress: Progress = _quiet) -> JobRun:
    """Stop with a savepoint if running, then a new run of the version it applied, from the newest savepoint/checkpoint."""
    previous = latest_run(template_id)
    if previous is None:
        return start(template_id, progress)
    if previous.state in (JobState.RUNNING, JobState.RESTARTING):
        previous = stop(template_id, progress)
    elif previous.is_active:
        raise JobControlError(f"run {previous.pk} is {previous.state}; wait for it to settle")
    elif previous.flink_job_id and not previous.savepoint_path:
        _record_checkpoint(previous, FlinkClient(previous.target))
    return launch(applied_version(previous), restore=previous.restore_point, previous=previous, progress=progress)


def applied_version(run: JobRun) -> TemplateVersion:
    """The version a run applied at the end: its launch version, or the newer one hot-updated into it.

    A restart restores that run's state, which holds the hot-updated version; launching it under the launch
    version would make the page and luna_job_run claim v1 while the job applies v2.
    """
    if run.running_version == run.version.number:
        return run.version
    return TemplateVersion.objects.get(template_id=run.version.template_id, number=run.running_version)


# ---- luna.sh down / up: stop with a savepoint, resume from it ---------------------------------------------
def stop_all(progress: Progress = _quiet) -> list[str]:
    """Stop every running continuous job with a savepoint (what `down` does before stopping the cluster)."""
    lines = []
    for run in JobRun.objects.filter(mode=JobMode.CONTINUOUS, state__in=JobState.watched()).select_related("version__template"):
        name = run.version.template.name
        try:
            stopped = stop(run.version.template_id, progress)
            lines.append(f"{name}: run {stopped.pk} stopped with savepoint {stopped.savepoint_path}")
        except (FlinkError, JobControlError) as exc:
            lines.append(f"{name}: run {run.pk} could not take a savepoint ({str(exc).splitlines()[0]}); "
                         f"its last checkpoint {run.last_checkpoint_path or '(none)'} remains")
    return lines


def settle_stale(run: JobRun) -> bool:
    """End a run the database calls active whose Flink job the cluster no longer has (the cluster was stopped
    under it), keeping its checkpoint for a resume; True when it was stale."""
    try:
        live = {job.jid for job in FlinkClient(run.target).jobs() if job.state in LIVE_FLINK_STATES}
    except FlinkError:
        return False
    if run.flink_job_id in live or run.state not in JobState.watched():
        return False
    _finish(run, JobState.CANCELED, "its Flink job is gone: the cluster was stopped while it ran")
    return True


def resume_or_start(template_id: int, url: str | None = None, progress: Progress = _quiet) -> tuple[JobRun, str]:
    """`up`: the live run if there is one; else resume the last continuous run from its savepoint/checkpoint;
    else (or when that restore fails) a clean start of the current version. Returns the run and what happened."""
    active = active_run(template_id)
    if active is not None and not settle_stale(active):
        return active, f"already running (run {active.pk}, Flink job {active.flink_job_id})"
    note = ""
    latest = latest_run(template_id)
    if latest is not None and latest.mode == JobMode.CONTINUOUS and latest.restore_point:
        version = applied_version(latest)
        try:
            run = launch(version, restore=latest.restore_point, previous=latest, url=url, progress=progress)
            return run, f"resumed v{version.number} from {latest.restore_point}"
        except FlinkError as exc:
            note = f"could not resume from {latest.restore_point} ({str(exc).splitlines()[0]}); "
    version = AnalysisTemplate.objects.get(pk=template_id).current_version
    if version is None:
        raise JobControlError("the template has no version")
    return launch(version, url=url, progress=progress), note + f"started v{version.number} clean (no state restored)"


# ---- helpers ----------------------------------------------------------------------------------------------
def _claim(template_id: int, state: str) -> tuple[JobRun, str]:
    """Move the running run into a transitional state so the monitor leaves it to this task."""
    with transaction.atomic():
        run = JobRun.objects.select_for_update().filter(
            version__template_id=template_id, state__in=JobState.watched()
        ).first()
        if run is None or not run.flink_job_id:
            raise JobControlError("no running job to stop")
        was, run.state, run.state_since = run.state, state, timezone.now()
        run.save(update_fields=["state", "state_since"])
    return run, was


def _release(run: JobRun, state: str, error: str) -> None:
    """Put the run back as it was, with Flink's error in full."""
    run.state, run.error = state, error
    run.save(update_fields=["state", "error"])


def _finish(run: JobRun, state: str, error: str) -> None:
    run.state, run.error, run.finished_at = state, error, timezone.now()
    run.running_since = run.next_attempt_at = None
    run.save()


def _record_checkpoint(run: JobRun, client: FlinkClient) -> None:
    """Remember the job's latest completed checkpoint (what a restart after cancel/failure restores)."""
    try:
        info = client.checkpoints(run.flink_job_id)
    except FlinkError:
        return  # the job is gone; keep what the monitor recorded
    if info.latest_path:
        run.last_checkpoint_id, run.last_checkpoint_path = info.latest_id, info.latest_path
        run.save(update_fields=["last_checkpoint_id", "last_checkpoint_path"])


def _wait_savepoint(client: FlinkClient, jid: str, request_id: str, timeout: float = 300.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.savepoint_status(jid, request_id)
        if status.done and status.failure:
            raise FlinkError(f"stop-with-savepoint of {jid} failed:\n{status.failure}")
        if status.done:
            return status
        time.sleep(0.3)
    raise FlinkError(f"stop-with-savepoint of {jid} did not complete within {timeout:.0f}s")


def _wait_state(client: FlinkClient, jid: str, states: set[str], timeout: float = 120.0, poll_s: float = 0.3) -> JobDetail:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail = client.job(jid)
        if detail.state in states:
            return detail
        time.sleep(poll_s)
    raise FlinkError(f"job {jid} did not reach {sorted(states)} within {timeout:.0f}s")
