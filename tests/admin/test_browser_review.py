"""A real browser (Debian's headless Chromium, driven by Playwright) through the agent's day."""

from __future__ import annotations

import os
import shutil

import pytest

from conversations.models import Approval, Draft

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def page(live_server):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test are plain sync code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_an_agent_edits_and_approves_then_rejects_the_next_one(page, live_server):
    from integrations.demo import seed_demo

    seed_demo()  # demo users and conversations; with transaction=True the on-commit drafts are generated
    pending = list(Draft.objects.filter(status="pending").order_by("created_at", "id"))
    assert len(pending) >= 2

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "agent-demo-2026")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/conversations/draft/")
    assert "status__exact=pending" in page.url
    page.click(f"a[href*='/conversations/draft/{pending[0].pk}/change/']")
    page.wait_for_selector("#final_text")
    original = page.input_value("#final_text")
    page.fill("#final_text", original + "\n\nP.S. Thanks for being a VIP customer!")
    page.focus("#final_text")
    page.keyboard.press("Control+Enter")  # the shortcut for Save edits & approve
    page.wait_for_url(f"**/conversations/draft/{pending[1].pk}/change/")
    assert "edited, approved and queued for sending" in page.content()

    approval = Approval.objects.get(draft_id=pending[0].pk)
    assert approval.action == "edit" and approval.approved_by.username == "agent"
    assert "+P.S. Thanks for being a VIP customer!" in approval.diff

    page.fill("#reason", "Needs the warehouse's answer first")
    page.click("#reject")
    page.wait_for_load_state()
    rejected = Draft.objects.get(pk=pending[1].pk)
    assert rejected.status == "rejected"
    assert Approval.objects.get(draft=rejected).reason == "Needs the warehouse's answer first"
