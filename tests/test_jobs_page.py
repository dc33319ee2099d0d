"""The jobs page, its action and task-status endpoints, and the jobs API: admin only, CSRF, what they show."""
import re

import pytest
from celery import current_app
from celery.app.task import Context
from django.test import Client

from operations import tasks
from operations.choices import AttemptKind, AttemptOutcome, JobMode, JobState
from operations.models import JobAttempt, JobRun

pytestmark = pytest.mark.django_db
FLINK_ERROR = "org.apache.flink.runtime.JobException: Recovery is suppressed\n" + "\tat org.apache.flink.Frame.call(Frame.java:1)\n" * 60 + "Caused by: java.sql.SQLException: the very last line"


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, int]]:
    """Actions the views queue (no broker involved)."""
    seen: list[tuple[str, int]] = []

    def enqueue(action: str, template_id: int) -> str:
        seen.append((action, template_id))
        return f"task-{len(seen)}"

    monkeypatch.setattr(tasks, "enqueue", enqueue)
    return seen


@pytest.fixture
def failed_run(demo_template) -> JobRun:
    run = JobRun.objects.create(
        version=demo_template.current_version, mode=JobMode.CONTINUOUS, state=JobState.FAILED, target="http://flink.test:8081",
        flink_job_id="0123456789abcdef0123456789abcdef", error=FLINK_ERROR, restarts=3, records_in=1500, records_out=400,
        last_checkpoint_id=42, lag_ms=95_000, backpressure="high", backpressure_ratio=0.75,
        savepoint_path="", last_checkpoint_path="file:/var/flink/checkpoints/0123/chk-42",
    )
    JobAttempt.objects.create(run=run, number=1, kind=AttemptKind.RESUBMIT, outcome=AttemptOutcome.GAVE_UP, reason="job FAILED")
    return run


def test_anonymous_visitors_are_sent_to_the_login_page(demo_template):
    for url in ("/jobs/", "/jobs/tasks/abc/", "/api/jobs/"):
        response = Client().get(url)
        assert response.status_code in (302, 401, 403)
    assert "/login/" in Client().get("/jobs/")["Location"]


@pytest.mark.parametrize("who", ["viewer_client", "editor_client", "norole_client"])
def test_only_admins_see_or_use_the_jobs_page_and_api(who, request, demo_template, queued):
    client = request.getfixturevalue(who)
    assert client.get("/jobs/").status_code == 403
    assert client.post("/jobs/mobile-pay/start/").status_code == 403
    assert client.get("/jobs/tasks/task-1/").status_code == 403
    assert client.get("/api/jobs/").status_code == 403
    assert client.post("/api/jobs/mobile-pay/start/").status_code == 403
    assert client.get("/api/job-runs/").status_code == 403
    assert not queued
    assert 'href="/jobs/"' not in client.get("/").content.decode(), "no Jobs entry in the navigation"


def test_the_admin_sees_every_template_with_a_start_button(admin_client_luna, demo_template, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        page = admin_client_luna.get("/jobs/").content.decode()
    assert 'href="/jobs/"' in page and "never started" in page
    assert 'action="/jobs/mobile-pay/start/"' in page and 'action="/jobs/mobile-pay/stop/"' not in page


def test_a_failed_run_shows_its_figures_repairs_and_flinks_error_in_full(admin_client_luna, failed_run):
    page = admin_client_luna.get("/jobs/").content.decode()
    assert "Failed" in page and "1500 / 400" in page and "#42" in page and "1m 35s" in page
    assert "bp-high" in page and "75%" in page and "Gave up (limit reached)" in page
    assert "Caused by: java.sql.SQLException: the very last line" in page, "the whole stack trace, not an excerpt"
    assert 'action="/jobs/mobile-pay/restart/"' in page and 'action="/jobs/mobile-pay/start/"' in page


def test_a_button_queues_its_task_and_redirects_to_the_page_showing_it(admin_client_luna, demo_template, queued):
    response = admin_client_luna.post("/jobs/mobile-pay/restart/")
    assert response.status_code == 302 and response["Location"] == "/jobs/?task=task-1"
    assert queued == [("restart", demo_template.pk)]


def test_the_pages_script_gets_the_task_id_and_its_status_url(admin_client_luna, demo_template, queued):
    response = admin_client_luna.post("/jobs/mobile-pay/stop/", HTTP_ACCEPT="application/json")
    assert response.status_code == 202
    assert response.json() == {"task_id": "task-1", "status_url": "/jobs/tasks/task-1/"}


def test_unknown_actions_and_templates_are_404(admin_client_luna, demo_template, queued):
    assert admin_client_luna.post("/jobs/mobile-pay/explode/").status_code == 404
    assert admin_client_luna.post("/jobs/nope/start/").status_code == 404
    assert not queued


def test_buttons_need_the_csrf_token(users, demo_template, queued):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["admin"])
    assert client.post("/jobs/mobile-pay/start/").status_code == 403
    assert client.post("/api/jobs/mobile-pay/start/").status_code == 403
    assert not queued
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/jobs/").content.decode()).group(1)
    assert client.post("/jobs/mobile-pay/start/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert client.post("/api/jobs/mobile-pay/start/", HTTP_X_CSRFTOKEN=token).status_code == 202
    assert [action for action, _ in queued] == ["start", "start"]


def test_task_status_shows_progress_then_the_full_error(admin_client_luna, demo_template):
    backend = current_app.backend
    backend.store_result("t-progress", {"step": "submitting the job"}, "PROGRESS")
    assert admin_client_luna.get("/jobs/tasks/t-progress/").json() | {"result": None} == {
        "task_id": "t-progress", "state": "PROGRESS", "done": False, "step": "submitting the job", "result": None,
        "error": "", "traceback": "",
    }
    worker_request = Context(task="operations.tasks.start_job", hostname="worker@test", args=[demo_template.pk], kwargs={})
    backend.store_result("t-failed", RuntimeError("Flink answered 400: Could not execute application."), "FAILURE",
                         traceback="Traceback (most recent call last):\n  ...\nRuntimeError: Flink answered 400",
                         request=worker_request)
    status = admin_client_luna.get("/jobs/tasks/t-failed/").json()
    assert status["done"] and status["state"] == "FAILURE"
    assert status["error"] == "RuntimeError: Flink answered 400: Could not execute application."
    assert status["traceback"].endswith("RuntimeError: Flink answered 400")
    page = admin_client_luna.get("/jobs/", {"task": "t-failed"}).content.decode()
    assert "Could not execute application." in page and "Traceback (most recent call last)" in page


def test_the_api_lists_jobs_runs_and_task_status(admin_client_luna, failed_run, queued):
    [job] = admin_client_luna.get("/api/jobs/").json()
    assert job["template"] == "mobile-pay" and job["can_start"] and not job["can_stop"] and job["can_restart"]
    assert job["run"]["state"] == "failed" and job["run"]["error"] == FLINK_ERROR and job["run"]["attempts"][0]["outcome"] == "gave_up"
    assert admin_client_luna.get("/api/jobs/mobile-pay/").json()["run"]["id"] == failed_run.pk
    assert admin_client_luna.get("/api/jobs/nope/").status_code == 404

    runs = admin_client_luna.get("/api/job-runs/", {"template": "mobile-pay", "state": "failed"}).json()
    assert [r["id"] for r in runs["results"]] == [failed_run.pk]
    assert admin_client_luna.get("/api/job-runs/", {"state": "running"}).json()["count"] == 0

    queued_body = admin_client_luna.post("/api/jobs/mobile-pay/cancel/").json()
    assert queued_body["task_id"] == "task-1" and queued_body["status_url"].endswith("/api/job-tasks/task-1/")
    assert admin_client_luna.get("/api/job-tasks/task-1/").json()["state"] == "PENDING"


def test_a_running_job_shows_the_version_it_applies_and_a_restart_notice(admin_client_luna, demo_template):
    JobRun.objects.create(version=demo_template.current_version, mode=JobMode.CONTINUOUS, state=JobState.RUNNING,
                          target="http://flink.test:8081", live_version=3,
                          notice="v4 needs a restart (source 'billing' changed its fields).")
    page = admin_client_luna.get("/jobs/").content.decode()
    assert re.search(r'title="launched as v1, hot-updated">v3<', page)
    assert "v4 needs a restart (source &#x27;billing&#x27; changed its fields)." in page


def test_job_errors_and_database_outages_of_the_run_are_shown(admin_client_luna, demo_template):
    from django.utils import timezone

    from operations.models import JobRun, SinkOutage
    from sessions.models import DeadLetter

    run = JobRun.objects.create(version=demo_template.current_version, mode="continuous", state="running", target="local",
                                started_at=timezone.now())
    now_ms = int(run.started_at.timestamp() * 1000)
    for i in range(2):
        DeadLetter.objects.create(template=demo_template, source="billing", reason=f"job error in CorrelateSessions: KeyError {i}",
                                  raw="{}", line_uid=f"je{i}", created_ms=now_ms + i)
    DeadLetter.objects.create(template=demo_template, source="billing", reason="job error before this run", raw="{}",
                              line_uid="old", created_ms=now_ms - 60_000)
    SinkOutage.objects.create(template=demo_template, started_ms=now_ms + 10, ended_ms=now_ms + 70_000, retries=9,
                              error="OperationalError: (2003, \"Can't connect\")")
    page = admin_client_luna.get("/jobs/").content.decode()
    assert "Job errors:" in page and "2 records</a>" in page
    assert "Database outages" in page and "9 retries" in page
    row = next(r for r in admin_client_luna.get("/api/jobs/").json() if r["template"] == demo_template.name)
    assert row["job_errors"] == 2 and row["outages"][0]["retries"] == 9
