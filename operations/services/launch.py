"""Launching the sessionize job for a template version: config file, local process or cluster, JobRun record.

`manage.py run_job` calls `run_job`; cluster submission and the operator actions live in job_control.py
(called by Celery tasks), which builds its config with `job_config` from here.
"""
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from jobs.sessionize.config import JobConfig
from jobs.sessionize.logic.durations import parse_duration_ms
from sessions.models import AnalysisTemplate, TemplateVersion
from sessions.services.reports import build_report
from sessions.services.sink_database import database_url_for_jobs

from ..choices import JobMode, JobState
from ..models import JobRun
from . import flink_cluster, rollout

JOB_MAIN = flink_cluster.REPO_ROOT / "jobs" / "sessionize" / "main.py"


def job_config(version: TemplateVersion, bounded: bool) -> JobConfig:
    """A run's configuration: live runs follow published versions and favour freshness; backfills favour batch size."""
    live = {} if bounded else {
        "updates_dir": str(rollout.updates_dir(version.template.name)),
        "monitor_interval": settings.LUNA_SOURCE_MONITOR_INTERVAL,
        "flush_interval_ms": settings.LUNA_SINK_FLUSH_INTERVAL_MS,
        "buffer_timeout_ms": settings.LUNA_FLINK_BUFFER_TIMEOUT_MS,
    }
    return JobConfig(
        **live,
        template=version.document,
        template_id=version.template_id,
        version=version.number,
        database_url=database_url_for_jobs(),
        data_dir=settings.LUNA_DATA_DIR,
        bounded=bounded,
        parallelism=settings.LUNA_FLINK_BACKFILL_PARALLELISM if bounded else settings.LUNA_FLINK_PARALLELISM,
        checkpoint_interval_ms=parse_duration_ms(settings.LUNA_FLINK_CHECKPOINT_INTERVAL),
        checkpoint_dir=settings.LUNA_FLINK_CHECKPOINT_DIR,
        kafka=kafka_settings(),
        hold_watermark=bounded and deterministic_backfill(version.document),
        engine=settings.LUNA_SESSION_ENGINE,
    )


def deterministic_backfill(document: dict) -> bool:
    """Hold event time until the end of a backfill's input when the files are small enough for every session to
    stay in state until then (LUNA_DETERMINISTIC_BACKFILL_MAX_MB); Kafka backfills stream with watermarks."""
    if settings.LUNA_KAFKA_BOOTSTRAP_SERVERS:
        return False
    limit, total = settings.LUNA_DETERMINISTIC_BACKFILL_MAX_MB * 1024 * 1024, 0
    for source in document.get("sources", []):
        root = Path(source["location"]) if os.path.isabs(source["location"]) else Path(settings.LUNA_DATA_DIR) / source["location"]
        if root.is_dir():
            total += sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
    return total <= limit


def kafka_settings() -> dict[str, str]:
    if not settings.LUNA_KAFKA_BOOTSTRAP_SERVERS:
        return {}
    return {"bootstrap_servers": settings.LUNA_KAFKA_BOOTSTRAP_SERVERS, "group_id": settings.LUNA_KAFKA_GROUP_ID,
            "connector_jar": settings.LUNA_KAFKA_CONNECTOR_JAR}


def job_env() -> dict[str, str]:
    """The job process needs the venv first on PATH (pemja in thread mode) and the repo importable."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(flink_cluster.REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    return env


def run_job(version: TemplateVersion, bounded: bool, target: str | None = None) -> JobRun:
    """Run (bounded: to completion; continuous: until stopped) and record the outcome on a JobRun.

    A cluster target goes through the REST API like the console's Start (job_control); a bounded run then
    waits for the job to finish. "local" runs a mini-cluster in a child process and waits for it.
    """
    target = target or settings.LUNA_FLINK_TARGET
    if target != "local":
        from . import job_control

        active = None if bounded else job_control.active_run(version.template_id)
        if active is not None:
            return active  # already on the cluster, or being resubmitted by the monitor: never a second copy
        run = job_control.launch(version, bounded=bounded, url=target)
        return job_control.wait_finished(run) if bounded else run
    run = JobRun.objects.create(
        version=version, mode=JobMode.BOUNDED if bounded else JobMode.CONTINUOUS, target=target,
        state=JobState.RUNNING, started_at=timezone.now(),
    )
    config_path = Path(settings.VAR_DIR) / "jobs" / f"run-{run.pk}.json"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    job_config(version, bounded).dump(config_path)
    command = [sys.executable, "-m", "jobs.sessionize.main", "--config", str(config_path)]
    log_path = config_path.with_suffix(".log")
    try:
        with open(log_path, "w") as log:
            process = subprocess.Popen(command, cwd=flink_cluster.REPO_ROOT, env=job_env(), stdout=log, stderr=subprocess.STDOUT)
            returncode = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait()
        return _finish(run, JobState.CANCELED, "stopped by the operator")
    if returncode != 0:
        return _finish(run, JobState.FAILED, _error_excerpt(log_path.read_text(errors="replace")))
    return _finish(run, JobState.FINISHED, "")


def _finish(run: JobRun, state: str, error: str) -> JobRun:
    run.state, run.error, run.finished_at = state, error, timezone.now()
    run.stats = ingest_stats(run.version.template_id)
    run.save()
    return run


def _error_excerpt(output: str, limit: int = 20_000) -> str:
    """Python and Java 'Caused by' lines first (the real reason), then the tail of the log."""
    causes = [line for line in output.splitlines() if "Caused by" in line or "Error:" in line or "Exception:" in line]
    return ("\n".join(causes[-15:]) + "\n---\n" + output[-limit:])[:limit * 2]


def ingest_stats(template_id: int) -> dict:
    """Build and store the template's correlation report; JobRun.stats keeps its headline figures."""
    return build_report(AnalysisTemplate.objects.get(pk=template_id)).as_stats()
