"""The monitor's logic against recorded Flink REST answers (tests/data/flink_rest/, from a real 2.3 cluster)."""
import io
import json
import os
import urllib.error
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from typing import Any

import pytest

from operations import tasks
from operations.choices import AttemptKind, AttemptOutcome, JobMode, JobState
from operations.models import JobAttempt, JobRun
from operations.services import flink_cluster, job_control, job_monitor
from operations.services.flink_rest import (
    Backpressure, CheckpointInfo, FlinkClient, FlinkError, FlinkUnavailable, JobDetail, JobNotFound, _http_error,
    failures_from_json, watermark_from_json,
)
from operations.services.job_monitor import RestartPolicy, Snapshot, next_step, observe
from tests.flink_services import free_port

DATA = Path(__file__).resolve().parent / "data" / "flink_rest"
URL = "http://flink.test:8081"
NOW = datetime(2026, 11, 21, 20, 0, tzinfo=dt_timezone.utc)
POLICY = RestartPolicy(limit=3, backoff_ms=10_000, backoff_max_ms=60_000, reset_ms=1_800_000)


def load(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text())


RUNNING, FAILED = load("job_running"), load("job_failed")


class RecordedFlink(FlinkClient):
    """A FlinkClient whose transport answers from recorded JSON (an exception instance is raised); calls are kept."""

    def __init__(self, routes: dict[str, Any]) -> None:
        super().__init__(URL)
        self.routes = routes
        self.calls: list[tuple[str, str, Any]] = []

    def _call(self, method: str, path: str, body: Any = None, content_type: str = "", raw: bool = False, timeout: float | None = None) -> Any:
        self.calls.append((method, path, body))
        answer = self.routes.get(f"{method} {path}", self.routes.get(path))
        if answer is None:
            raise FlinkError(f"unexpected {method} {path}", 404)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def posted(self, prefix: str) -> list[Any]:
        return [body for method, path, body in self.calls if method == "POST" and path.startswith(prefix)]


def job_routes(job: dict, checkpoints: str, exceptions: dict | None = None) -> dict[str, Any]:
    jid = job["jid"]
    routes: dict[str, Any] = {
        f"/jobs/{jid}": job, f"/jobs/{jid}/checkpoints": load(checkpoints),
        f"/jobs/{jid}/metrics?get=numRestarts": load("job_metrics"),
        f"/jobs/{jid}/exceptions": exceptions or {"exceptionHistory": {"entries": []}},
        "/jars": {"files": [{"id": "abc_flink-python-2.3.0.jar", "name": "flink-python-2.3.0.jar"}]},
        "POST /jars/abc_flink-python-2.3.0.jar/run": {"jobid": "f" * 32},
    }
    for vertex, marks in load("watermarks").items():
        routes[f"/jobs/{jid}/vertices/{vertex}/watermarks"] = marks
    for vertex, pressure in load("backpressure").items():
        routes[f"/jobs/{jid}/vertices/{vertex}/backpressure"] = pressure
    return routes


@pytest.fixture
def run(demo_template, settings, tmp_path) -> JobRun:
    settings.VAR_DIR = tmp_path
    settings.LUNA_DATA_DIR = str(tmp_path / "data")
    settings.LUNA_JOB_RESTART_LIMIT, settings.LUNA_JOB_RESTART_BACKOFF = 3, "10s"
    return JobRun.objects.create(
        version=demo_template.current_version, mode=JobMode.CONTINUOUS, state=JobState.RUNNING, target=URL,
        flink_job_id=FAILED["jid"], last_checkpoint_path="file:/var/flink/checkpoints/x/chk-7", started_at=NOW,
    )


# ---- parsing ------------------------------------------------------------------------------------------------
def test_it_reads_a_running_job_its_sources_sinks_and_records():
    detail = JobDetail.from_json(RUNNING)
    names = {v.id: v.name for v in detail.vertices}
    assert detail.all_tasks_running and detail.state == "RUNNING"
    assert sorted(names[i].split(" ")[1].split("[")[0] for i in detail.source_ids) == ["src_billing", "src_channel", "src_client", "src_gamesvr"]
    assert [names[i] for i in detail.sink_ids] == ["write-sessions"]
    assert detail.records_in == 391 + 474 + 176 + 181, "lines read by the four sources"
    assert detail.records_out == 212
    assert detail.running_since_ms == RUNNING["timestamps"]["RUNNING"]


def test_it_reads_checkpoints_watermarks_backpressure_and_failures():
    info = CheckpointInfo.from_json(load("checkpoints_running"))
    assert info.latest_id and info.latest_path.startswith("file:/") and f"chk-{info.latest_id}" in info.latest_path
    assert CheckpointInfo.from_json(load("checkpoints_failed")).latest_path == ""
    marks = load("watermarks")
    assert {watermark_from_json(m) for m in marks.values()} == {None, 1795283587159}, "sources have none"
    assert watermark_from_json([{"id": "0.currentInputWatermark", "value": "5"}, {"id": "1.currentInputWatermark", "value": "3"}]) == 3
    assert watermark_from_json([{"id": "0.currentInputWatermark", "value": "-9223372036854775808"}]) is None
    worst = Backpressure.worst([Backpressure.from_json(b) for b in load("backpressure").values()] + [Backpressure("high", 0.8)])
    assert worst == Backpressure("high", 0.8)
    assert failures_from_json(load("exceptions_failed"))[0].startswith("org.apache.flink.runtime.JobException: Recovery is suppressed")


def test_a_404_on_a_job_is_job_not_found_with_flinks_text_in_full():
    body = (DATA / "job_not_found.txt").read_bytes()
    error = _http_error(urllib.error.HTTPError(URL, 404, "Not Found", {}, io.BytesIO(body)), "/jobs/ffff")
    assert isinstance(error, JobNotFound)
    assert "FlinkJobNotFoundException: Could not find Flink job" in str(error) and "\tat org.apache.flink" in str(error)
    assert isinstance(_http_error(urllib.error.HTTPError(URL, 503, "", {}, io.BytesIO(b"{}")), "/overview"), FlinkUnavailable)


def test_nothing_listening_is_transient():
    with pytest.raises(FlinkUnavailable):
        FlinkClient(f"http://127.0.0.1:{free_port()}", timeout=2).overview()


# ---- observe: what a poll records ---------------------------------------------------------------------------
def test_a_running_snapshot_records_state_uptime_records_throughput_checkpoint_lag_and_restarts():
    previous = JobRun(records_in=222, polled_at=NOW - timedelta(seconds=10), carried_restarts=2)
    detail = JobDetail.from_json(RUNNING)
    snap = Snapshot(detail, CheckpointInfo.from_json(load("checkpoints_running")), 1795283587159, Backpressure("low", 0.3), 1)
    fields = observe(previous, snap, NOW, newest_input_ms=1795283587159 + 90_000)
    assert fields["state"] == JobState.RUNNING
    assert fields["running_since"] == datetime.fromtimestamp(detail.running_since_ms / 1000, tz=dt_timezone.utc)
    assert fields["uptime_ms"] == int((NOW - fields["running_since"]).total_seconds() * 1000)
    assert (fields["records_in"], fields["records_out"]) == (1222, 212)
    assert fields["throughput"] == pytest.approx(100.0), "1,000 more lines in 10 s"
    assert fields["last_checkpoint_id"] == snap.checkpoints.latest_id and fields["last_checkpoint_path"] == snap.checkpoints.latest_path
    assert fields["lag_ms"] == 90_000, "newest input file is 90 s ahead of the watermark"
    assert (fields["backpressure"], fields["restarts"]) == ("low", 3)


def test_a_job_waiting_for_slots_is_restarting_and_a_failed_one_failed_with_its_cause():
    waiting = dict(RUNNING, **{"status-counts": dict(RUNNING["status-counts"], RUNNING=0, SCHEDULED=11)})
    fields = observe(JobRun(), Snapshot(JobDetail.from_json(waiting)), NOW, None)
    assert fields["state"] == JobState.RESTARTING and fields["uptime_ms"] is None and fields["lag_ms"] is None
    failures = failures_from_json(load("exceptions_failed"))
    fields = observe(JobRun(), Snapshot(JobDetail.from_json(FAILED), failures=failures), NOW, None)
    assert fields["state"] == JobState.FAILED and fields["error"] == failures[0]


def test_the_newest_input_time_ignores_hidden_files(run, settings):
    root = Path(settings.LUNA_DATA_DIR)
    for name, age in [("mobile-pay/billing/part-1.jsonl", 60), ("mobile-pay/gamesvr/part-2.jsonl", 30), ("mobile-pay/client/.part-3.jsonl", 0)]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
        os.utime(path, (NOW.timestamp() - age, NOW.timestamp() - age))
    assert job_monitor.newest_input_ms(run.version) == int((NOW.timestamp() - 30) * 1000)


# ---- back-off and limit ---------------------------------------------------------------------------------------
def test_the_first_sighting_waits_one_backoff_then_resubmits():
    first = next_step([], NOW, None, POLICY)
    assert (first.action, first.number, first.due) == ("wait", 1, NOW + timedelta(seconds=10))
    assert next_step([], NOW + timedelta(seconds=10), first.due, POLICY).action == "resubmit"


def test_the_backoff_doubles_is_capped_and_the_limit_gives_up():
    two_ago = [NOW - timedelta(minutes=2), NOW - timedelta(minutes=1)]
    assert next_step(two_ago, NOW, None, POLICY).due == NOW + timedelta(seconds=40)
    assert POLICY.delay_ms(5) == 60_000
    assert next_step([NOW - timedelta(minutes=m) for m in (3, 2, 1)], NOW, None, POLICY).action == "give_up"


def test_attempts_older_than_the_reset_window_no_longer_count():
    old = [NOW - timedelta(hours=2)] * 3
    assert next_step(old, NOW, None, POLICY) == job_monitor.Step("wait", 1, NOW + timedelta(seconds=10))


# ---- poll_run: record, repair --------------------------------------------------------------------------------
def test_a_failed_job_is_resubmitted_from_its_last_checkpoint_after_the_backoff(run):
    flink = RecordedFlink(job_routes(FAILED, "checkpoints_failed", load("exceptions_failed")))
    assert job_monitor.poll_run(run, flink, NOW) is False
    run.refresh_from_db()
    assert run.state == JobState.RESTARTING and run.next_attempt_at == NOW + timedelta(seconds=10)
    assert "Recovery is suppressed" in run.error and not flink.posted("/jars/")

    assert job_monitor.poll_run(run, flink, NOW + timedelta(seconds=11)) is True
    run.refresh_from_db()
    [body] = flink.posted("/jars/abc_flink-python-2.3.0.jar/run")
    assert body["savepointPath"] == "file:/var/flink/checkpoints/x/chk-7" and body["entryClass"].endswith("PythonDriver")
    assert body["programArgsList"][:2] == ["-py", str(job_control.JOB_MAIN)]
    assert (run.flink_job_id, run.restarts, run.state, run.restored_from) == ("f" * 32, 1, JobState.RESTARTING, body["savepointPath"])
    attempt = run.attempts.get()
    assert (attempt.kind, attempt.outcome, attempt.number, attempt.failed_job_id) == (AttemptKind.RESUBMIT, AttemptOutcome.SUBMITTED, 1, FAILED["jid"])
    assert Path(body["programArgsList"][3]).exists(), "the run's config file was written"


def test_a_job_the_cluster_forgot_is_resubmitted_too(run):
    routes = job_routes(FAILED, "checkpoints_failed")
    routes[f"/jobs/{FAILED['jid']}"] = JobNotFound("Flink answered 404: Could not find Flink job", 404)
    run.next_attempt_at = NOW - timedelta(seconds=1)
    run.save()
    assert job_monitor.poll_run(run, RecordedFlink(routes), NOW) is True
    assert "no longer knows" in run.attempts.get().reason


def test_a_refused_submission_is_recorded_with_the_python_traceback_and_retried_later(run):
    routes = job_routes(FAILED, "checkpoints_failed")
    routes["POST /jars/abc_flink-python-2.3.0.jar/run"] = FlinkError("Flink answered 400: Python process exits with code: 1", 400)
    routes["/jobmanager/log"] = (
        "2026-11-21 19:58:51,480 INFO  org.apache.flink.client.python.PythonDriver                  [] - "
        "--------------------------- Python Process Started --------------------------\n"
        "2026-11-21 19:58:51,766 INFO  org.apache.flink.client.python.PythonDriver                  [] - Traceback (most recent call last):\n"
        "2026-11-21 19:58:51,766 INFO  org.apache.flink.client.python.PythonDriver                  [] - FileNotFoundError: [Errno 2] run.json\n"
        "2026-11-21 19:58:51,861 INFO  org.apache.flink.client.python.PythonDriver                  [] - "
        "--------------------------- Python Process Exited ---------------------------\n"
    )
    run.next_attempt_at = NOW
    run.save()
    assert job_monitor.poll_run(run, RecordedFlink(routes), NOW) is True
    run.refresh_from_db()
    attempt = run.attempts.get()
    assert attempt.outcome == AttemptOutcome.FAILED
    assert "exits with code: 1" in attempt.error and "Traceback (most recent call last):\nFileNotFoundError: [Errno 2] run.json" in attempt.error
    assert run.state == JobState.RESTARTING and run.next_attempt_at == NOW + timedelta(seconds=20)


def test_past_the_limit_the_monitor_gives_up_and_says_why(run):
    for number in (1, 2, 3):
        JobAttempt.objects.create(run=run, number=number, kind=AttemptKind.RESUBMIT, outcome=AttemptOutcome.SUBMITTED,
                                  created_at=NOW - timedelta(minutes=number))
    flink = RecordedFlink(job_routes(FAILED, "checkpoints_failed", load("exceptions_failed")))
    assert job_monitor.poll_run(run, flink, NOW) is True
    run.refresh_from_db()
    assert run.state == JobState.FAILED and run.error.startswith("gave up after 3 resubmissions")
    assert run.attempts.filter(outcome=AttemptOutcome.GAVE_UP).count() == 1 and not flink.posted("/jars/")


def test_a_poll_records_a_running_job_but_never_overwrites_an_operators_transition(run):
    run.flink_job_id = RUNNING["jid"]
    run.save()
    flink = RecordedFlink(job_routes(RUNNING, "checkpoints_running"))
    job_monitor.poll_run(run, flink, NOW)
    run.refresh_from_db()
    assert (run.state, run.records_in, run.backpressure) == (JobState.RUNNING, 1222, "ok")
    assert run.watermark_ms == 1795283587159 and run.last_checkpoint_id

    JobRun.objects.filter(pk=run.pk).update(state=JobState.STOPPING, records_in=0)
    job_monitor.poll_run(run, flink, NOW)  # `run` still says RUNNING in memory
    assert JobRun.objects.filter(pk=run.pk, state=JobState.STOPPING, records_in=0).exists()


def test_a_run_left_stopping_by_a_lost_worker_is_taken_back_after_a_while(run):
    run.flink_job_id = RUNNING["jid"]
    run.state, run.state_since = JobState.STOPPING, NOW - timedelta(minutes=5)
    run.save()
    flink = RecordedFlink(job_routes(RUNNING, "checkpoints_running"))
    assert job_monitor.poll_all(NOW) == {"polled": 0, "repaired": 0, "unreachable": 0}, "a task may still hold it"

    JobRun.objects.filter(pk=run.pk).update(state_since=NOW - timedelta(minutes=11))
    job_monitor.poll_run(JobRun.objects.get(pk=run.pk), flink, NOW)
    assert JobRun.objects.get(pk=run.pk).state == JobState.RUNNING, "Flink says it still runs"


def test_a_submission_whose_worker_died_before_flink_answered_fails_with_a_reason(run):
    JobRun.objects.filter(pk=run.pk).update(flink_job_id="", state=JobState.SUBMITTING, state_since=NOW - timedelta(minutes=11))
    assert job_monitor.poll_run(JobRun.objects.get(pk=run.pk), RecordedFlink({}), NOW) is True
    run.refresh_from_db()
    assert run.state == JobState.FAILED and "submission interrupted" in run.error


# ---- the managed cluster ----------------------------------------------------------------------------------------
@pytest.fixture
def managed(monkeypatch, tmp_path) -> dict[str, Any]:
    layout = flink_cluster.ClusterLayout(tmp_path / "flink", 18099, 16199)
    seen: dict[str, Any] = {"overview": {"taskmanagers": 0}, "pids": [], "started": [], "layout": layout}
    monkeypatch.setattr(job_control, "managed_layout", lambda url: seen["layout"])
    monkeypatch.setattr(flink_cluster, "overview", lambda url: seen["overview"])
    monkeypatch.setattr(flink_cluster, "daemon_pids", lambda layout, daemon="taskexecutor": seen["pids"])
    monkeypatch.setattr(flink_cluster, "start_taskmanager", lambda layout: seen["started"].append("taskmanager"))
    return seen


def test_a_lost_taskmanager_is_replaced_once_and_recorded(run, managed):
    assert job_monitor.heal_cluster(URL, [run]) is True
    assert managed["started"] == ["taskmanager"]
    attempt = run.attempts.get()
    assert (attempt.kind, attempt.outcome, attempt.reason) == (AttemptKind.TASKMANAGER, AttemptOutcome.SUCCEEDED, "no TaskManager registered")

    managed["pids"] = [4242]  # the new one is still registering: no second TaskManager
    job_monitor.heal_cluster(URL, [run])
    assert managed["started"] == ["taskmanager"]


def test_a_cluster_of_several_taskmanagers_is_kept_at_its_size(run, managed):
    from dataclasses import replace

    managed["layout"] = replace(managed["layout"], taskmanagers=2)
    managed["overview"], managed["pids"] = {"taskmanagers": 1}, [4242]
    job_monitor.heal_cluster(URL, [run])
    assert managed["started"] == ["taskmanager"]
    assert run.attempts.get().reason == "only 1 of 2 TaskManagers registered"

    managed["pids"] = [4242, 4343]  # the replacement is still registering
    job_monitor.heal_cluster(URL, [run])
    managed["overview"] = {"taskmanagers": 2}
    job_monitor.heal_cluster(URL, [run])
    assert managed["started"] == ["taskmanager"] and run.attempts.count() == 1


# ---- beat and tasks -------------------------------------------------------------------------------------------------
def test_the_beat_schedule_is_synced_into_django_celery_beat(transactional_db):
    """The scheduler commits as it goes, so this one runs outside a test transaction."""
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from luna.celery import app

    DatabaseScheduler(app=app)
    entry = PeriodicTask.objects.get(name="monitor-flink-jobs")
    assert entry.task == "operations.tasks.monitor_jobs" and entry.interval.every == 10
    assert entry.task in app.tasks


def test_tasks_retry_transient_errors_a_limited_number_of_times_and_nothing_else(db, monkeypatch):
    calls: list[int] = []

    def unavailable(template_id: int, progress) -> None:
        calls.append(template_id)
        raise FlinkUnavailable("Flink REST http://flink.test:8081 did not answer")

    monkeypatch.setattr(job_control, "start", unavailable)
    result = tasks.start_job.apply(args=[7])
    assert result.state == "FAILURE" and isinstance(result.result, FlinkUnavailable)
    assert len(calls) == 1 + tasks.RETRY["max_retries"]

    def refused(template_id: int, progress) -> None:
        calls.append(template_id)
        raise job_control.JobControlError("no running job to stop")

    calls.clear()
    monkeypatch.setattr(job_control, "stop", refused)
    result = tasks.stop_job.apply(args=[7])
    assert result.state == "FAILURE" and len(calls) == 1, "a refusal is not retried"


def test_a_task_publishes_its_progress_and_returns_the_run(run, monkeypatch):
    steps: list[str] = []

    def start(template_id: int, progress) -> JobRun:
        progress("submitting the job")
        steps.append("called")
        return run

    monkeypatch.setattr(job_control, "start", start)
    monkeypatch.setattr(tasks.start_job, "update_state", lambda **kw: steps.append(kw["meta"]["step"]))
    result = tasks.start_job.apply(args=[run.version.template_id])
    assert steps == ["submitting the job", "called"]
    assert result.get() == {"run": run.pk, "state": "running", "flink_job_id": run.flink_job_id, "savepoint": "", "restored_from": ""}
