"""The console in a real browser: Playwright driving Debian's Chromium against the live server."""
import pytest

from tests.browser import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_searches_a_lost_order_and_reads_its_tree(page, live_server, demo_sessions, users, tmp_path):
    login(page, live_server, "viewer", PASSWORD)
    assert "/login/" not in page.url

    page.fill("input[name=q]", "TX-9003")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "ORD-1003" in rows.first.inner_text()

    with page.expect_navigation():
        page.click("text=ORD-1003")
    body = page.inner_text("body")
    assert "Paid but not delivered" in body
    missing = page.locator(".node.missing")
    assert missing.count() >= 2, "callback and delivery are drawn greyed as missing"
    page.screenshot(path=str(tmp_path / "session.png"), full_page=True)
    assert (tmp_path / "session.png").stat().st_size > 10_000


def test_the_search_page_draws_the_duration_histogram(page, live_server, demo_sessions, users):
    login(page, live_server, "viewer", PASSWORD)
    page.goto(f"{live_server.url}/?template=mobile-pay")
    page.wait_for_selector("#duration-histogram.js-plotly-plot", timeout=15_000)
    assert page.locator("#duration-histogram .bars path").count() >= 1
