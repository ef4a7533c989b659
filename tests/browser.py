"""What the browser tests share: Debian's Chromium, where screenshots go, bounded waits, logging in, and the
fixtures `page` (a headless Chromium page) and `fake_zoho` (a fake Zoho over HTTP that knows the demo mailbox).
Registered for the whole suite by `pytest_plugins` in tests/conftest.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
# Every wait is bounded: a hung page fails the test in seconds, never stalls the suite.
STEP_TIMEOUT_MS = 15_000
TEST_BUDGET_SECONDS = 120


def login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@pytest.fixture
def fake_zoho(settings):
    """A fake Zoho over real HTTP that knows the demo mailbox, so replies to demo messages succeed."""
    from integrations.zoho.fake import FakeZoho

    fake = FakeZoho()
    demo = json.loads((Path(django_settings.BASE_DIR) / "fixtures" / "demo_shop.json").read_text())
    for conversation in demo["conversations"]:
        for m in conversation["messages"]:
            fake.add_message({"messageId": m["id"], "folderId": "inbox", "threadId": conversation["thread"],
                              "subject": m["subject"], "fromAddress": m["from"]}, content=m["body"])
    settings.ZOHO_MODE = "live"
    settings.ZOHO_BASE_URL = fake.url
    settings.ZOHO_ACCOUNTS_URL = fake.url
    settings.ZOHO_REFRESH_TOKEN = f"refresh-{fake.url}-{uuid.uuid4().hex}"  # a reused port must not reuse a cached token
    settings.ZOHO_BACKOFF_SECONDS = 0.01
    settings.ZOHO_TIMEOUT_SECONDS = 2.0
    settings.ZOHO_MAX_ATTEMPTS = 2
    yield fake
    fake.close()


@pytest.fixture
def page(live_server, request):
    """A Chromium page; when the test ends (passed or failed) its last screen is saved as
    test-artifacts/<test name>.png, so a reviewer sees what the agent saw (CI keeps the folder)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test are plain sync code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, timeout=STEP_TIMEOUT_MS, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        page.set_default_timeout(STEP_TIMEOUT_MS)
        page.set_default_navigation_timeout(STEP_TIMEOUT_MS)
        yield page
        name = re.sub(r"[^\w.-]+", "_", request.node.name)[:120]
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, timeout=STEP_TIMEOUT_MS)
        except PlaywrightError:
            pass  # a page that crashed or hung has no screen to keep; the test's own failure says why
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
