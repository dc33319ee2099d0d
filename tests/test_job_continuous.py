"""Continuous mode: the running job picks up files that appear after it started (real Flink, mini-cluster)."""
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.core.management import call_command

from sessions.models import Session, TemplateVersion
from sessions.services.jobs import job_config, job_env

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


def test_a_running_job_picks_up_new_files(tmp_path, settings):
    data = tmp_path / "data"
    settings.LUNA_DATA_DIR = str(data)
    end = datetime.now(timezone.utc) - timedelta(hours=2)
    call_command("demo_data", orders=60, seed=3, data_dir=data, days=0.1, end=end.isoformat())
    first = order_ids(data)
    version = TemplateVersion.objects.get(template__name="mobile-pay")
    config = job_config(version, bounded=False)
    config.checkpoint_dir = f"file://{tmp_path / 'checkpoints'}"
    config.dump(tmp_path / "run.json")
    log = open(tmp_path / "job.log", "w")
    job = subprocess.Popen(
        [sys.executable, "-m", "jobs.sessionize.main", "--config", str(tmp_path / "run.json")],
        env=job_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        seen = lambda ids: set(Session.objects.filter(session_key__in=ids).values_list("session_key", flat=True))  # noqa: E731
        # the backlog: sessions closed by the watermark are written at once, the newest by the timeout
        assert wait_for(lambda: seen(first) == first, 120), (first - seen(first), (tmp_path / "job.log").read_text()[-3000:])

        (data / "mobile-pay" / "expected.jsonl").unlink()
        call_command("demo_data", orders=20, seed=4, data_dir=data, days=0.01, end=(end + timedelta(minutes=90)).isoformat(), no_import=True)
        second = order_ids(data) - first
        assert second
        assert wait_for(lambda: seen(second) == second, 90), (second - seen(second), (tmp_path / "job.log").read_text()[-3000:])
        assert job.poll() is None, "a continuous job keeps running"
    finally:
        os.killpg(job.pid, signal.SIGTERM)
        job.wait(timeout=30)
        log.close()
