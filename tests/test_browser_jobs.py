"""The jobs page in a real browser: an admin clicks Start and sees the job RUNNING (real worker, real cluster)."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.factories import PASSWORD, make_user
from tests.browser import login
from tests.test_job_control import write_batch

pytestmark = [pytest.mark.browser, pytest.mark.flink, pytest.mark.django_db(transaction=True)]


def test_an_admin_clicks_start_and_sees_the_job_running(page, live_server, job_services, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    write_batch(Path(job_services.env["LUNA_DATA_DIR"]), orders=20, seed=41,
                end=datetime.now(timezone.utc) - timedelta(hours=1), first=True)
    make_user("ops", "admin")
    login(page, live_server, "ops", PASSWORD)
    with page.expect_navigation():
        page.click("nav >> text=Jobs")
    row = page.locator("#jobs-table tr[data-template='mobile-pay']").first
    expect(row.locator(".job-state")).to_contain_text("never started")

    row.locator("button", has_text="Start").click()
    expect(page.locator("#job-tasks li")).to_contain_text("mobile-pay · start")
    expect(page.locator("#jobs-table tr[data-template='mobile-pay'] .job-state")).to_have_text("Running", timeout=120_000)
    expect(page.locator("#job-tasks li .state")).to_have_text("SUCCESS")
    assert page.locator("#jobs-table tr[data-template='mobile-pay'] button", has_text="Stop").count() == 1
    page.screenshot(path=str(tmp_path / "jobs.png"), full_page=True)
