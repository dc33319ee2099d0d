"""The end of the studio's proof (issue 9): with a real job running on the test cluster, an admin activates
studio-built versions in the browser; the page says whether each was a hot update or needs a restart, performs
the restart on confirmation, and the sessions of each new version appear on the search page.

The wizard itself is driven in tests/test_browser_studio.py; here the drafts come from the same services and
the browser does what an admin does with them (approve, activate, confirm the restart, search).
"""
import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from operations.choices import JobState
from operations.models import JobRun
from sessions.models import AnalysisTemplate
from operations.services import job_control
from sessions.services import templates
from studio.models import Draft
from studio.services import review
from tests.browser import login
from tests.demo_batches import all_stored, missing_report, write_batch
from tests.factories import PASSWORD
from tests.flink_services import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.flink, pytest.mark.django_db(transaction=True)]


def _propose(users, changed) -> str:
    """An editor's proposal of the live document changed by `changed` (the URL of its page)."""
    document = copy.deepcopy(templates.get_version("mobile-pay").document)
    changed(document)
    draft = Draft.objects.create(name="mobile-pay", document=document, step="review", owner=users["editor"])
    return f"/studio/proposals/{review.propose(draft, users['editor']).pk}/"


def _approve_and_activate(page, live_server, url: str) -> str:
    page.goto(live_server.url + url)
    with page.expect_navigation():
        page.click("#approve")
    with page.expect_navigation():
        page.click("#activate")
    return page.inner_text("#activation-outcome")


def _search_finds(page, live_server, conclusion: str, orders: list[dict]) -> bool:
    page.goto(f"{live_server.url}/?conclusion={conclusion}")
    shown = page.inner_text("main")
    return all(o["order_id"] in shown for o in orders)


def _with_order(orders: list[dict]) -> list[dict]:
    return [o for o in orders if not o["split"]][:5]  # one session each, opened by the order


def test_an_admin_activates_studio_versions_on_a_running_job(page, live_server, users, job_services, flink_layout, settings):
    settings.LUNA_VAR_DIR = str(flink_layout.root.parent)  # the worker's var dir: published versions meet the job
    data = Path(job_services.env["LUNA_DATA_DIR"])
    end = datetime.now(timezone.utc) - timedelta(hours=4)
    first, _ = write_batch(data, orders=12, seed=61, end=end, first=True)
    template = AnalysisTemplate.objects.get(name="mobile-pay")
    job_control.start(template.pk)
    assert wait_for(lambda: all_stored(first), 150, 1.0), missing_report(first)
    login(page, live_server, "admin", PASSWORD)

    # 1. rules only: published to the running job, no restart
    def add_marked(document):
        document["conclusions"].append({"name": "studio_hot", "label": "Studio hot update", "when": "has(order)", "severity": "info"})
    outcome = _approve_and_activate(page, live_server, _propose(users, add_marked))
    assert "hot update" in outcome and page.locator("#restart").count() == 0
    second, _ = write_batch(data, orders=8, seed=62, end=end + timedelta(minutes=90), first=False)
    assert wait_for(lambda: _search_finds(page, live_server, "studio_hot", _with_order(second)), 120, 2.0), page.inner_text("main")[:2000]
    run = job_control.active_run(template.pk)
    assert run.version.number == 1 and run.running_version == 2, "the same run took v2"

    # 2. the watermark bound changes: the page says restart needed; the admin confirms; the new run has v3
    def new_bound(document):
        document["session"]["out_of_orderness"] = "20s"
        document["conclusions"].append({"name": "studio_restart", "label": "Studio restart", "when": "has(order)", "severity": "info"})
    outcome = _approve_and_activate(page, live_server, _propose(users, new_bound))
    assert "restart needed" in outcome
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#restart")
    assert "Restart queued" in page.inner_text(".messages")
    restarted = lambda: JobRun.objects.filter(version__number=3, state=JobState.RUNNING).exclude(flink_job_id="").exists()  # noqa: E731
    assert wait_for(restarted, 180, 1.0), job_services.log("worker")
    assert JobRun.objects.get(pk=run.pk).state == JobState.STOPPED
    third, _ = write_batch(data, orders=8, seed=63, end=end + timedelta(minutes=180), first=False)
    assert wait_for(lambda: _search_finds(page, live_server, "studio_restart", _with_order(third)), 150, 2.0), page.inner_text("main")[:2000]
