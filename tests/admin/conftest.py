"""Fixtures of the admin's browser tests: a headless Chromium page and a fake Zoho over HTTP."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.admin.browser import ARTIFACTS, CHROMIUM, STEP_TIMEOUT_MS


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
