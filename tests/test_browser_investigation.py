"""Investigation in a real browser (Playwright + Debian's Chromium): an analyst works a case and judges a
conclusion, an editor compares and merges a split pair, and the precision shows on the template page."""
import pytest

from sessions.models import Session
from tests.factories import PASSWORD
from tests.flows import MINUTE, T0, in_time_order, payment_flow
from tests.browser import login
from tests.storing import store
from tests.test_investigation import split_pair

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_works_a_case_and_an_editor_merges_a_split_pair(page, live_server, demo_template, users):
    store(demo_template, in_time_order(payment_flow("B-1", T0 + 90 * MINUTE)))
    first, second = split_pair(demo_template)
    session = Session.objects.get(session_key="B-1")

    login(page, live_server, "viewer", PASSWORD)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    assert page.locator("#waterfall .wf-slowest").count() == 1
    with page.expect_navigation():
        page.click("text=Assign to me")
    page.fill("#case-comment", "checked with the channel: delivered")
    with page.expect_navigation():
        page.click("text=Add comment")
    with page.expect_navigation():
        page.click("button[value='delivered:confirmed']")
    panel = page.inner_text("#case")
    assert "assigned to viewer" in panel and "checked with the channel" in panel and "Confirmed" in panel
    page.goto(f"{live_server.url}/cases/?mine=1")
    assert "B-1" in page.inner_text("table.cases")
    page.goto(f"{live_server.url}/templates/{demo_template.name}/")
    assert "1.00" in page.inner_text("#precision")

    page.context.clear_cookies()
    login(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server.url}/sessions/{first.pk}/")
    with page.expect_navigation():
        page.click("text=compare with the next part")
    assert page.locator(".compare-side").count() == 2 and "Compare sessions" in page.inner_text("h1")
    page.goto(f"{live_server.url}/sessions/{first.pk}/")
    with page.expect_navigation():
        page.click("text=Merge with the next part")
    body = page.inner_text("body")
    assert "Merged the two parts" in body and "Merged from sessions" in body
    assert Session.objects.filter(session_key="O-S").count() == 1
    assert "Paid and delivered" in body


def test_an_editor_runs_read_only_sql_and_a_write_is_refused(page, live_server, demo_template, users):
    store(demo_template, in_time_order(payment_flow("Q-1", T0)))
    login(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server.url}/sql/")
    page.fill("textarea[name=sql]", "SELECT session_key, primary_conclusion FROM luna_session")
    with page.expect_navigation():
        page.click("button[value=run]")
    table = page.inner_text("table.sql-result").lower()  # headers are shown in capitals
    assert "session_key" in table and "q-1" in table and "delivered" in table
    page.fill("textarea[name=sql]", "DELETE FROM luna_session")
    with page.expect_navigation():
        page.click("button[value=run]")
    assert "only SELECT" in page.inner_text(".sql-error")
    assert Session.objects.filter(session_key="Q-1").exists()
    assert "DELETE FROM luna_session" in page.inner_text("body"), "the refused run is in the audit list"
