"""A real browser (Debian's headless Chromium, driven by Playwright) through the agent's day.

Sending really happens: the approved draft goes to a fake Zoho over HTTP (inline, as with
SYNC_USE_CELERY=0), and the review page then shows the draft sent and the reply in the thread.
Screenshots land in test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import time

import pytest

from conversations.models import Approval, Draft
from tests.browser import ARTIFACTS, CHROMIUM, TEST_BUDGET_SECONDS
from tests.browser import login as _login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


# The elements of the review page whose content sticks out of their own box (clipped or overflowing text).
_OVERFLOWING = """() => [...document.querySelectorAll('#content .panel, #content .panel *')]
    .filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline')
    .map(el => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' + el.scrollWidth + '>' + el.clientWidth)"""


def _assert_nothing_overflows(page) -> None:
    """Long tracking numbers, URLs and diffs wrap: nothing is wider than the window or than its panel."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(_OVERFLOWING) == []


def test_an_agent_edits_and_approves_sees_it_sent_then_rejects_the_next_one(page, live_server, fake_zoho):
    from integrations.demo import seed_demo

    started = time.monotonic()
    seed_demo()  # demo users and conversations; with transaction=True the on-commit drafts are generated
    pending = list(Draft.objects.filter(status="pending").order_by("created_at", "id"))
    assert len(pending) >= 2

    _login(page, live_server, "agent", "agent-demo-2026")
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

    # The reply went to Zoho over HTTP, in the thread of the message it answers.
    [sent] = fake_zoho.sent
    assert sent["inReplyTo"] == pending[0].reply_to.external_msg_id
    assert sent["content"].endswith("P.S. Thanks for being a VIP customer!")
    sent_draft = Draft.objects.get(pk=pending[0].pk)
    assert sent_draft.status == Draft.Status.SENT and sent_draft.sent_message.external_msg_id == sent["messageId"]

    # Back on the first draft's review page: sent, and the outbound message closes the thread.
    page.goto(f"{live_server.url}/admin/conversations/draft/{pending[0].pk}/change/")
    assert page.inner_text("#draft-status").strip() == "Sent"
    last = page.locator("#thread .msg").last
    assert "outbound" in last.get_attribute("class")
    assert last.get_attribute("id") == f"message-{sent_draft.sent_message_id}"
    assert "P.S. Thanks for being a VIP customer!" in last.inner_text()
    assert "Edited and approved by agent" in page.inner_text("#decision")
    assert page.locator("#decide-form").count() == 0  # a sent draft cannot be decided again
    page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)
    _assert_nothing_overflows(page)

    page.goto(f"{live_server.url}/admin/conversations/draft/{pending[1].pk}/change/")
    page.screenshot(path=str(ARTIFACTS / "review-page-pending.png"), full_page=True)
    _assert_nothing_overflows(page)
    page.fill("#reason", "Needs the warehouse's answer first")
    page.click("#reject")
    page.wait_for_load_state()
    rejected = Draft.objects.get(pk=pending[1].pk)
    assert rejected.status == "rejected"
    assert Approval.objects.get(draft=rejected).reason == "Needs the warehouse's answer first"
    assert len(fake_zoho.sent) == 1  # a rejection sends nothing
    assert time.monotonic() - started < TEST_BUDGET_SECONDS


def test_ops_opens_the_weekly_demand_chart_from_the_product_requests_list(page, live_server):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from tests.catalog.test_demand_trend import demand_fixture, monday_now

    demand_fixture(monday_now())
    ops = get_user_model().objects.create_user(username="ops-browser", password="ops-pass-123", is_staff=True)
    ops.groups.add(Group.objects.get(name="Ops"))

    _login(page, live_server, "ops-browser", "ops-pass-123")
    page.goto(f"{live_server.url}/admin/catalog/productrequest/")
    page.click("#demand-trend-link")
    page.wait_for_selector("#demand-chart")
    assert page.locator("#demand-chart rect.bar").count() == 8 + 2 + 1  # kayak every week, filter twice, stove once
    assert page.locator("#demand-table tbody tr").first.inner_text().startswith("inflatable kayak")
    box = page.locator("#demand-chart").bounding_box()
    assert box["width"] > 300 and box["height"] > 150  # drawn, not collapsed
    page.screenshot(path=str(ARTIFACTS / "demand-trend.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
