"""Browser tests' shared pieces: Debian's Chromium through Playwright (the `page` fixture lives in conftest.py)."""
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def chromium_page() -> Iterator:
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
