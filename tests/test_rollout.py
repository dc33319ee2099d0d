"""Publishing a saved version to the running jobs of its template (files the job's control stream reads)."""
import copy
import json

import pytest

from operations.choices import JobMode, JobState
from operations.models import JobRun
from operations.services import rollout
from sessions.services.templates import get_version, save_template
from tests.factories import DEMO_PATH

pytestmark = pytest.mark.django_db

DEMO = json.loads(DEMO_PATH.read_text())


@pytest.fixture
def running(settings, tmp_path):
    settings.LUNA_VAR_DIR = str(tmp_path)
    version = save_template(DEMO).version
    return JobRun.objects.create(version=version, mode=JobMode.CONTINUOUS, state=JobState.RUNNING, target="local")


def with_conclusion(name: str) -> dict:
    document = copy.deepcopy(DEMO)
    document["conclusions"].append({"name": name, "when": "has(order)", "severity": "info"})
    return document


def test_a_rule_change_is_published_to_the_running_job(running):
    result = save_template(with_conclusion("seen"))
    running.refresh_from_db()
    assert (running.live_version, running.running_version, running.notice) == (2, 2, "")
    [published] = rollout.updates_dir("mobile-pay").iterdir()
    update = json.loads(published.read_text())
    assert update == {"version": 2, "document": get_version("mobile-pay", 2).document}
    assert result.rollout == (f"Published v2 to running job (run {running.pk}): no restart needed.",)


def test_a_source_change_is_not_published_and_the_run_says_restart(running):
    document = copy.deepcopy(DEMO)
    document["sources"][0]["fields"]["order_id"] = "order.no"
    result = save_template(document)
    running.refresh_from_db()
    assert running.live_version is None and running.running_version == 1
    assert "v2 needs a restart (source 'billing' changed its fields)" in running.notice
    assert not rollout.updates_dir("mobile-pay").exists()
    assert result.rollout == (f"Run {running.pk} keeps its version: {running.notice}",)
    # a later rule-only version is compared with what the job runs (v1), so it cannot slip in the source change
    document["conclusions"].append({"name": "after", "when": "has(order)", "severity": "info"})
    save_template(document)
    running.refresh_from_db()
    assert running.running_version == 1 and "v3 needs a restart (source 'billing' changed its fields)" in running.notice


def test_stopped_runs_and_backfills_get_nothing(running):
    running.state = JobState.STOPPED
    running.save()
    JobRun.objects.create(version=running.version, mode=JobMode.BOUNDED, state=JobState.RUNNING, target="local")
    assert save_template(with_conclusion("x")).rollout == ()
    assert not rollout.updates_dir("mobile-pay").exists()


def test_the_files_are_whole_and_named_in_version_order(running):
    save_template(with_conclusion("a"))
    save_template(with_conclusion("b"))
    names = sorted(p.name for p in rollout.updates_dir("mobile-pay").iterdir())
    assert names == ["v000002.json", "v000003.json"]
