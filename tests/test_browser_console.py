"""The console's search, error pages, dead letters and jobs in Chromium, as viewer and as admin (issue 8)."""
import copy

import pytest

from operations.choices import JobMode, JobState
from operations.models import JobRun
from operations.services import job_control
from sessions.services.templates import save_template_version
from tests.factories import PASSWORD
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit(page) -> None:
    with page.expect_navigation():
        page.click(".qbox button[type=submit]")


def result_keys(page) -> list[str]:
    return [text.strip() for text in page.locator("table.results tbody tr td:nth-child(3)").all_inner_texts()]  # after pick, start


@pytest.mark.parametrize("username", ["viewer", "admin"])
def test_search_by_conclusion_label_severity_and_unknown_field(page, live_server, demo_sessions, users, username):
    login(page, live_server, username, PASSWORD)
    page.select_option("select[name=conclusion]", label="Paid but not delivered")
    submit(page)
    assert result_keys(page) == ["ORD-1003"], "the README's Try step finds the lost order"
    assert "conclusion=lost_order" in page.url, "the label is shown, the code is sent"

    page.goto(f"{live_server.url}/?conclusion=PAID+BUT+NOT+DELIVERED")
    assert result_keys(page) == ["ORD-1003"]
    page.fill("input[name=q]", "paid but not delivered")
    page.select_option("select[name=conclusion]", "")
    submit(page)
    assert result_keys(page) == ["ORD-1003"], "the label typed in the q box works too"

    page.goto(f"{live_server.url}/")
    page.select_option("select[name=severity]", "critical")
    submit(page)
    assert result_keys(page) == ["ORD-1002"]

    page.goto(f"{live_server.url}/")
    assert page.locator("#luna-field-names option[value=channel]").count() == 1, "the field box offers the names"
    page.fill("input[name=field]", "chanel")
    page.fill("input[name=value]", "alipay")
    submit(page)
    assert "Unknown field 'chanel'" in page.inner_text(".filter-form")


@pytest.mark.parametrize("username", ["viewer", "admin"])
def test_conditions_missing_node_prefix_sort_export_and_saved_search(page, live_server, demo_sessions, users, username, tmp_path):
    login(page, live_server, username, PASSWORD)
    page.fill("textarea[name=where]", "amount_value >= 6\namount_value < 100")
    page.select_option("select[name=missing]", "delivery")
    submit(page)
    assert result_keys(page) == ["ORD-1003"]

    page.goto(f"{live_server.url}/?key=ORD-100*")
    with page.expect_navigation():
        page.click("th a.sort:has-text('Session key')")
    assert result_keys(page)[:2] == ["ORD-1001", "ORD-1002"]
    with page.expect_navigation():
        page.click("th a.sort:has-text('Session key')")
    assert result_keys(page)[0] == "ORD-1005"

    with page.expect_download() as download:
        page.click("text=Export CSV")
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("id,start,session_key") and len(lines) == 7

    page.fill("input[name=name]", "All ORD-100")
    with page.expect_navigation():
        page.click("text=Save this search")
    page.goto(f"{live_server.url}/")
    with page.expect_navigation():
        page.click(".saved-list a:has-text('All ORD-100')")
    assert "key=ORD-100" in page.url and len(result_keys(page)) == 6


def test_error_pages_keep_the_role_and_the_menu(page, live_server, demo_sessions, users):
    login(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server.url}/no/such/page/")
    assert page.inner_text(".usermenu summary").strip().endswith("admin")
    assert page.locator("nav.mainnav a:has-text('Jobs')").count() == 1
    page.goto(f"{live_server.url}/templates/no-such-template/")
    assert "Not found" in page.inner_text("main") and "merged" not in page.inner_text("main")
    page.goto(f"{live_server.url}/?cursor=garbage")
    assert "start again from the first page" in page.inner_text("main")
    assert page.inner_text(".usermenu summary").strip().endswith("admin")

    page.context.clear_cookies()
    login(page, live_server, "viewer", PASSWORD)
    page.goto(f"{live_server.url}/jobs/")
    assert "needs the admin role" in page.inner_text("main")
    assert page.inner_text(".usermenu summary").strip().endswith("viewer")


@pytest.mark.parametrize("username", ["viewer", "admin"])
def test_dead_letters_are_grouped_with_details_on_demand(page, live_server, dead_letters, users, username):
    login(page, live_server, username, PASSWORD)
    page.goto(f"{live_server.url}/templates/mobile-pay/dead-letters/")
    groups = page.locator("details.rejection")
    assert groups.count() == 3, "one row per source and reason class"
    first = groups.first
    assert not first.locator("table").is_visible()
    first.locator("summary").click()
    assert first.locator("table").is_visible() and "{not json" in first.inner_text()


def test_the_jobs_page_shows_the_version_a_restart_applies(page, live_server, demo_template, demo_document, users, monkeypatch):
    changed = copy.deepcopy(demo_document)
    changed["conclusions"][2]["label"] = "Paid, never delivered"
    v2 = save_template_version(changed)
    JobRun.objects.create(version=demo_template.versions.get(number=1), mode=JobMode.CONTINUOUS, state=JobState.STOPPED,
                          target="t", live_version=2, savepoint_path="file:/sp")
    monkeypatch.setattr(job_control, "launch", lambda version, **kw: JobRun.objects.create(
        version=version, mode=JobMode.CONTINUOUS, state=JobState.RUNNING, target="t", previous=kw["previous"]))
    job_control.restart(demo_template.pk)
    login(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server.url}/jobs/")
    assert page.inner_text("tr[data-template=mobile-pay] .badge.version").strip() == f"v{v2.number}"
