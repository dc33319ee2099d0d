"""Continuous mode: the running job picks up files that appear after it started (real Flink, mini-cluster)."""
import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.core.management import call_command

from operations.choices import JobMode, JobState
from operations.models import JobRun
from sessions.models import Session, SessionConclusion, TemplateVersion
from operations.services.launch import job_config, job_env
from sessions.services.templates import save_template
from tests.demo_batches import all_stored, missing_report, write_batch

pytestmark = [pytest.mark.flink, pytest.mark.django_db(transaction=True)]


def order_ids(data_dir: Path) -> set[str]:
    manifest = data_dir / "mobile-pay" / "expected.jsonl"
    return {json.loads(line)["order_id"] for line in manifest.read_text().splitlines() if '"order_id"' in line}


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(1.0)
    return False


@contextmanager
def running_job(version: TemplateVersion, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """The continuous job on a local mini-cluster, in its own process group, stopped at the end."""
    config = job_config(version, bounded=False)
    config.checkpoint_dir = f"file://{tmp_path / 'checkpoints'}"
    config.dump(tmp_path / "run.json")
    with open(tmp_path / "job.log", "w") as log:
        job = subprocess.Popen(
            [sys.executable, "-m", "jobs.sessionize.main", "--config", str(tmp_path / "run.json")],
            env=job_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            yield job
        finally:
            os.killpg(job.pid, signal.SIGTERM)
            job.wait(timeout=30)


def test_a_running_job_picks_up_new_files(tmp_path, settings):
    data = tmp_path / "data"
    settings.LUNA_DATA_DIR = str(data)
    end = datetime.now(timezone.utc) - timedelta(hours=2)
    call_command("demo_data", orders=60, seed=3, data_dir=data, days=0.1, end=end.isoformat())
    first = order_ids(data)
    version = TemplateVersion.objects.get(template__name="mobile-pay")
    with running_job(version, tmp_path) as job:
        seen = lambda ids: set(Session.objects.filter(session_key__in=ids).values_list("session_key", flat=True))  # noqa: E731
        # the backlog: sessions closed by the watermark are written at once, the newest by the timeout
        assert wait_for(lambda: seen(first) == first, 120), (first - seen(first), (tmp_path / "job.log").read_text()[-3000:])

        (data / "mobile-pay" / "expected.jsonl").unlink()
        call_command("demo_data", orders=20, seed=4, data_dir=data, days=0.01, end=(end + timedelta(minutes=90)).isoformat(), no_import=True)
        second = order_ids(data) - first
        assert second
        assert wait_for(lambda: seen(second) == second, 90), (second - seen(second), (tmp_path / "job.log").read_text()[-3000:])
        assert job.poll() is None, "a continuous job keeps running"


def test_a_saved_rule_change_reaches_the_running_job_without_a_restart(tmp_path, settings):
    """Template hot update through the broadcast stream: the same Flink job, the new version's conclusions."""
    data = tmp_path / "data"
    settings.LUNA_DATA_DIR, settings.LUNA_VAR_DIR = str(data), str(tmp_path / "var")
    end = datetime.now(timezone.utc) - timedelta(hours=2)
    first, _ = write_batch(data, orders=30, seed=41, end=end, first=True)
    version = TemplateVersion.objects.get(template__name="mobile-pay")
    run = JobRun.objects.create(version=version, mode=JobMode.CONTINUOUS, state=JobState.RUNNING, target="local")
    tail = lambda: (tmp_path / "job.log").read_text()[-3000:]  # noqa: E731
    marked = lambda orders: set(SessionConclusion.objects.filter(  # noqa: E731
        name="hot_update", session__session_key__in=[o["order_id"] for o in orders]).values_list("session__session_key", flat=True))
    with running_job(version, tmp_path) as job:
        assert wait_for(lambda: all_stored(first), 120), missing_report(first) + tail()
        revisions = lambda: dict(Session.objects.filter(session_key__in=[o["order_id"] for o in first]).values_list("session_key", "revision"))  # noqa: E731
        before = revisions()
        document = copy.deepcopy(version.document)
        document["conclusions"].append({"name": "hot_update", "when": "has(order)", "severity": "info", "label": "v2 rule"})
        assert save_template(document).rollout == (f"Published v2 to running job (run {run.pk}): no restart needed.",)

        # lines written after the save are correlated with v2; sessions v1 already closed keep v1's conclusions
        second, _ = write_batch(data, orders=20, seed=42, end=end + timedelta(minutes=90), first=False)
        with_order = [o for o in second if not o["split"]]  # one session each, opened by the order
        assert wait_for(lambda: marked(with_order) == {o["order_id"] for o in with_order}, 90), tail()
        # Sessions the job had already closed keep v1's conclusions; the newest ones of the first batch were still
        # open (their gap not yet passed), so their closing revision is computed with v2 — a new revision.
        recomputed, after = marked(first), revisions()
        assert len(recomputed) < len(first) // 2, "closed sessions are not rewritten by a template change"
        assert all(after[key] > before[key] for key in recomputed)
        assert job.poll() is None, "the same job, not restarted"
