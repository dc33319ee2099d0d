"""The console in a real browser: Playwright driving Debian's Chromium against the live server."""
import os
import shutil
import tempfile

import pytest

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is required for browser tests (apt-get install chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="luna-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield context.new_page()
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url, "anonymous visitors are sent to the login page"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit], input[type=submit]")


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
