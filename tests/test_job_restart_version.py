"""Restart relaunches the version the job applied (hot updates included), so the page and luna_job_run tell the truth."""
import copy

import pytest

from operations.choices import JobMode, JobState
from operations.models import JobRun
from operations.services import job_control
from sessions.services.templates import save_template_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def launched(monkeypatch) -> list:
    calls = []

    def launch(version, **kwargs):
        calls.append((version.number, kwargs["restore"]))
        return JobRun.objects.create(version=version, mode=JobMode.CONTINUOUS, state=JobState.RUNNING, target="t", previous=kwargs["previous"])

    monkeypatch.setattr(job_control, "launch", launch)
    return calls


def stopped_run(version, live_version=None) -> JobRun:
    return JobRun.objects.create(version=version, mode=JobMode.CONTINUOUS, state=JobState.STOPPED, target="t",
                                 live_version=live_version, savepoint_path="file:/sp/savepoint-1")


def test_restart_after_a_hot_update_runs_and_records_the_updated_version(demo_template, demo_document, launched):
    v1 = demo_template.current_version
    changed = copy.deepcopy(demo_document)
    changed["conclusions"][2]["label"] = "Paid, never delivered"
    v2 = save_template_version(changed)
    stopped_run(v1, live_version=v2.number)
    run = job_control.restart(demo_template.pk)
    assert launched == [(2, "file:/sp/savepoint-1")]
    assert run.version == v2 and run.running_version == 2


def test_restart_without_a_hot_update_keeps_the_launch_version(demo_template, launched):
    stopped_run(demo_template.current_version)
    job_control.restart(demo_template.pk)
    assert launched == [(1, "file:/sp/savepoint-1")]
