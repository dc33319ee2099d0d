"""Job operations end to end: a real Celery worker (Redis), a real standalone Flink cluster, the real job.

The cluster and the worker are shared by the session (tests/conftest.py); each test leaves no job behind.
"""
import os
import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from operations.choices import AttemptKind, JobState
from operations.models import JobRun
from sessions.models import Session
from operations.services import flink_cluster
from operations.services.flink_rest import FlinkClient
from tests.demo_batches import all_stored, missing_report, write_batch
from tests.factories import logged_in, make_user
from tests.flink_services import wait_for

pytestmark = [pytest.mark.flink, pytest.mark.django_db(transaction=True)]


def job_report(url: str, run_pk: int) -> str:
    """Records per vertex of the run's Flink job, late and dead-letter counts, and one differing session's nodes."""
    from sessions.models import DeadLetter, LateEvent

    job = FlinkClient(url).job(JobRun.objects.get(pk=run_pk).flink_job_id)
    vertices = [(v.name[:60], v.read_records, v.write_records) for v in job.vertices]
    return f"\nvertices {vertices}\nlate {LateEvent.objects.count()} dead letters {DeadLetter.objects.count()}"


def run_action(client, action: str, timeout: float = 180.0) -> dict:
    """Press a button of the jobs page (as its script does) and follow the task to its end."""
    response = client.post(f"/jobs/mobile-pay/{action}/", HTTP_ACCEPT="application/json")
    assert response.status_code == 202, response.content
    status_url = response.json()["status_url"]
    status: dict = {}

    def done() -> bool:
        nonlocal status
        status = client.get(status_url).json()
        return status["done"]

    assert wait_for(done, timeout), status
    assert status["state"] == "SUCCESS", f"{status['error']}\n{status['traceback']}"
    return status["result"]


def records_in(url: str, jid: str) -> int:
    return FlinkClient(url).job(jid).records_in


def test_start_stop_with_savepoint_and_restart_lose_and_duplicate_nothing(job_services, flink_layout):
    data = Path(job_services.env["LUNA_DATA_DIR"])
    admin = logged_in(make_user("ops", "admin"))
    end = datetime.now(timezone.utc) - timedelta(hours=2)
    first, _ = write_batch(data, orders=120, seed=21, end=end, first=True)

    started = run_action(admin, "start")
    run = JobRun.objects.get(pk=started["run"])
    assert run.state == JobState.RUNNING and run.flink_job_id
    assert FlinkClient(flink_layout.rest_url).job(run.flink_job_id).state == "RUNNING"
    page = admin.get("/jobs/").content.decode()
    assert "Running" in page and run.flink_job_id[:8] in page
    assert wait_for(lambda: all_stored(first), 150, 1.0), "the first batch's sessions are all stored"

    stopped = run_action(admin, "stop")
    run.refresh_from_db()
    assert run.state == JobState.STOPPED and stopped["savepoint"] == run.savepoint_path
    assert Path(run.savepoint_path.removeprefix("file:")).is_dir(), "the savepoint exists on disk"
    assert FlinkClient(flink_layout.rest_url).job(run.flink_job_id).state == "FINISHED"

    # New logs arrive while the job is stopped; the restarted job must read them, and only them.
    second, second_lines = write_batch(data, orders=60, seed=22, end=end + timedelta(minutes=90), first=False)
    restarted = run_action(admin, "restart")
    run2 = JobRun.objects.get(pk=restarted["run"])
    assert run2.previous_id == run.pk and run2.restored_from == run.savepoint_path
    assert run2.state == JobState.RUNNING and run2.flink_job_id != run.flink_job_id
    assert FlinkClient(flink_layout.rest_url).checkpoints(run2.flink_job_id).restored_path == run.savepoint_path

    assert wait_for(lambda: all_stored(first + second), 150, 1.0), "both batches stored, nothing lost or doubled: " + missing_report(first + second)
    assert wait_for(lambda: records_in(flink_layout.rest_url, run2.flink_job_id) >= second_lines, 40, 2.0)
    assert records_in(flink_layout.rest_url, run2.flink_job_id) == second_lines, "no file of the first batch was read again"
    assert Session.objects.count() == sum(o["sessions"] for o in first + second)


def test_the_monitor_replaces_a_killed_taskmanager_and_records_the_restart(job_services, flink_layout):
    data = Path(job_services.env["LUNA_DATA_DIR"])
    admin = logged_in(make_user("ops", "admin"))
    end = datetime.now(timezone.utc) - timedelta(hours=2)
    first, _ = write_batch(data, orders=40, seed=31, end=end, first=True)
    run = JobRun.objects.get(pk=run_action(admin, "start")["run"])
    beat = job_services.start("beat", "beat", "--loglevel", "INFO", ready="beat: Starting")
    try:
        assert wait_for(lambda: JobRun.objects.get(pk=run.pk).last_checkpoint_id, 60, 1.0), (
            "beat → monitor records checkpoints\n" + job_services.log("beat") + job_services.log("worker"))
        job_id_before_the_kill = JobRun.objects.get(pk=run.pk).flink_job_id
        [taskmanager] = flink_cluster.daemon_pids(flink_layout)
        os.kill(taskmanager, signal.SIGKILL)

        def recovered() -> bool:
            current = JobRun.objects.get(pk=run.pk)
            return current.state == JobState.RUNNING and current.restarts >= 1 and current.attempts.filter(kind=AttemptKind.TASKMANAGER).exists()

        assert wait_for(recovered, 120, 1.0), job_services.log("worker")
        run.refresh_from_db()
        attempt = run.attempts.get(kind=AttemptKind.TASKMANAGER)
        assert attempt.outcome == "succeeded" and "no TaskManager" in attempt.reason
        assert flink_cluster.daemon_pids(flink_layout) and taskmanager not in flink_cluster.daemon_pids(flink_layout)
        assert run.flink_job_id == job_id_before_the_kill, "Flink restored the same job from its checkpoint"

        # The recovered job keeps working: a batch written after the kill is stored too.
        second, _ = write_batch(data, orders=20, seed=32, end=end + timedelta(minutes=90), first=False)
        assert wait_for(lambda: all_stored(first + second), 120, 1.0), (
            missing_report(first + second) + job_report(flink_layout.rest_url, run.pk))
        page = admin.get("/jobs/").content.decode()
        assert "Started a lost TaskManager" in page
    finally:
        job_services.stop(beat)


def _mariadb(action: str, port: int) -> None:
    """Stop or start the MariaDB the suite runs on: the service ./luna.sh test started, or the commands in
    LUNA_TEST_DB_STOP / LUNA_TEST_DB_START (e.g. a second server on its own port, so other test runs are spared)."""
    import subprocess

    command = os.environ.get(f"LUNA_TEST_DB_{action.upper()}", f"service mariadb {action} || service mysql {action}")
    done = subprocess.run(command, shell=True, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    ping = ["mysqladmin", "-h127.0.0.1", f"-P{port}", "-uluna", "-pluna", "ping", "--silent"]
    up = lambda: subprocess.run(ping, capture_output=True).returncode == 0  # noqa: E731
    assert wait_for(up if action == "start" else lambda: not up(), 60, 1.0), f"MariaDB did not {action}"


def test_a_database_outage_of_a_minute_loses_and_doubles_nothing(job_services, flink_layout, tmp_path):
    """MariaDB stops for 60 s under a running job on the standalone cluster: the sink waits and retries with back-off,
    the jobs page shows the outage, and afterwards every session (before, during and after) is stored exactly once."""
    import shutil
    import time
    from urllib.parse import urlparse

    from django.db import connections

    from operations.models import SinkOutage
    from sessions.services.sink_database import database_url_for_jobs

    url = urlparse(database_url_for_jobs())
    can_stop = "LUNA_TEST_DB_STOP" in os.environ or (os.geteuid() == 0 and shutil.which("service"))
    if url.scheme != "mysql" or url.hostname not in ("127.0.0.1", "localhost") or not can_stop:
        pytest.skip("needs the local MariaDB of ./luna.sh test, and root to stop it")
    data = Path(job_services.env["LUNA_DATA_DIR"])
    admin = logged_in(make_user("ops-db", "admin"))
    end = datetime.now(timezone.utc) - timedelta(hours=2)
    first, _ = write_batch(data, orders=30, seed=51, end=end, first=True)
    staging = tmp_path / "staging"  # written now (demo_data reads the database), moved in while it is down
    second, _ = write_batch(staging, orders=20, seed=52, end=end + timedelta(minutes=90), first=False)
    run = JobRun.objects.get(pk=run_action(admin, "start")["run"])
    assert wait_for(lambda: all_stored(first), 120, 1.0), missing_report(first) + job_report(flink_layout.rest_url, run.pk)

    connections.close_all()
    _mariadb("stop", url.port or 3306)
    try:
        for source_dir in (staging / "mobile-pay").iterdir():
            if source_dir.is_dir():
                for part in source_dir.glob("*.jsonl"):
                    part.rename(data / "mobile-pay" / source_dir.name / part.name)
        time.sleep(60)
    finally:
        _mariadb("start", url.port or 3306)
    connections.close_all()

    assert wait_for(lambda: all_stored(first + second), 180, 2.0), (
        missing_report(first + second) + job_report(flink_layout.rest_url, run.pk))
    assert FlinkClient(flink_layout.rest_url).job(JobRun.objects.get(pk=run.pk).flink_job_id).state == "RUNNING"
    outage = SinkOutage.objects.get()
    assert outage.ended_ms - outage.started_ms >= 30_000 and outage.retries >= 3, (outage.started_ms, outage.ended_ms)
    page = admin.get("/jobs/").content.decode()
    assert "Database outages" in page
