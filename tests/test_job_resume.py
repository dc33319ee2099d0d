"""`luna.sh up` after `down`: resume from the savepoint/checkpoint and say so, never report a dead job as running."""
import pytest

from operations.choices import JobMode, JobState
from operations.models import JobRun
from operations.services import job_control
from operations.services.flink_rest import FlinkError, JobSummary

pytestmark = pytest.mark.django_db
DEAD_JOB = "dead0000000000000000000000000000"


class FakeCluster:
    def __init__(self, jobs=()):
        self.listed = list(jobs)

    def jobs(self):
        return self.listed


@pytest.fixture
def cluster(monkeypatch):
    fake = FakeCluster()
    monkeypatch.setattr(job_control, "FlinkClient", lambda url=None: fake)
    return fake


@pytest.fixture
def launched(monkeypatch) -> list:
    calls = []

    def launch(version, restore="", previous=None, url=None, progress=None):
        if restore == "file:/missing":
            raise FlinkError("Could not restore: file:/missing does not exist\n\tat …")
        calls.append((version.number, restore))
        return JobRun.objects.create(version=version, mode=JobMode.CONTINUOUS, state=JobState.RUNNING, target="t",
                                     previous=previous, restored_from=restore, flink_job_id="new")

    monkeypatch.setattr(job_control, "launch", launch)
    return calls


def run(template, **fields) -> JobRun:
    return JobRun.objects.create(version=template.current_version, mode=JobMode.CONTINUOUS, target="t", **fields)


def test_a_run_whose_job_the_cluster_lost_is_ended_and_resumed_from_its_checkpoint(demo_template, cluster, launched):
    dead = run(demo_template, state=JobState.RUNNING, flink_job_id=DEAD_JOB, last_checkpoint_path="file:/chk-7")
    new, what = job_control.resume_or_start(demo_template.pk)
    dead.refresh_from_db()
    assert dead.state == JobState.CANCELED and "cluster was stopped" in dead.error
    assert launched == [(1, "file:/chk-7")] and what == "resumed v1 from file:/chk-7" and new.previous == dead


def test_a_live_run_is_left_alone(demo_template, cluster, launched):
    live = run(demo_template, state=JobState.RUNNING, flink_job_id="live")
    cluster.listed = [JobSummary("live", "sessionize", "RUNNING")]
    assert job_control.resume_or_start(demo_template.pk)[0] == live and not launched


def test_a_stopped_run_resumes_from_its_savepoint(demo_template, cluster, launched):
    run(demo_template, state=JobState.STOPPED, savepoint_path="file:/sp-1", last_checkpoint_path="file:/chk-1")
    assert job_control.resume_or_start(demo_template.pk)[1] == "resumed v1 from file:/sp-1"


def test_nothing_to_restore_or_a_failed_restore_starts_clean_and_says_so(demo_template, cluster, launched):
    assert "started v1 clean" in job_control.resume_or_start(demo_template.pk)[1]
    JobRun.objects.update(state=JobState.STOPPED, savepoint_path="file:/missing")
    what = job_control.resume_or_start(demo_template.pk)[1]
    assert what.startswith("could not resume from file:/missing (Could not restore") and "started v1 clean" in what
