"""What the browser tests share: Debian's Chromium, where screenshots go, bounded waits, logging in."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
# Every wait is bounded: a hung page fails the test in seconds, never stalls the suite.
STEP_TIMEOUT_MS = 15_000
TEST_BUDGET_SECONDS = 120


def login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
