"""An agent's day outside the queue, in a real headless Chromium at 1280 px: the Triaged emails list and a
conversation page.

Before: on the Triaged emails list the app sidebar pushed the subject, the conversation and the Close
button out of sight (a sideways scroll inside the table); the reasons read "Auto-Submitted: auto-replied
(RFC 3834)"; and a conversation page (reached from "Awaiting reply" or a customer's other conversations)
had no way to its draft: the agent had to go back to the queue and search for it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from assistants.triage import message_triage
from conversations.models import Conversation
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead
from tests.browser import CHROMIUM, login
from tests.builders import make_draft, make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def _triaged(n: int, email: str, subject: str, body: str, headers: dict):
    customer, _ = customer_get_or_create_lead(email=email, name="")
    message, _ = message_ingest(facts=MessageFacts(
        channel="email", direction="inbound", external_msg_id=f"triaged-{n}", external_thread_id=f"triaged-thread-{n}",
        from_address=email, subject=subject, body=body, headers=headers,
        sent_at=datetime(2026, 12, 1, 9, n, tzinfo=UTC)), customer=customer, integration="test")
    message_triage(message=message)
    message.refresh_from_db()
    return message


def test_the_triaged_list_fits_1280_px_says_why_in_plain_words_and_closes_in_one_click(page, live_server):
    away = _triaged(1, "away@corp.example", "Automatic reply: your order", "I am away.", {"Auto-Submitted": "auto-replied"})
    _triaged(2, "news@list.example", "Weekly news", "Hello all.", {"Precedence": "bulk"})
    _triaged(3, "rr@corp.example", "Read: your reply", "Read.",
             {"Content-Type": "multipart/report; report-type=disposition-notification"})
    make_staff("Agents", "grace", password="grace-pass-2026")
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server, "grace", "grace-pass-2026")

    page.goto(f"{live_server.url}/admin/conversations/triagedmessage/")
    page.wait_for_selector("#result_list")
    text = page.inner_text("#result_list")
    assert "Automatic reply (out of office)" in text and "Bulk mail" in text and "Read receipt" in text
    assert not [word for word in ("RFC", "Auto-Submitted", "Precedence", "Content-Type") if word in text], text
    buttons = page.locator("#result_list button", has_text="Close")
    assert buttons.count() == 3
    for i in range(3):  # each one on screen, not behind a sideways scroll
        box = buttons.nth(i).bounding_box()
        assert box and box["x"] + box["width"] <= 1280, box
    table = page.evaluate("(() => { const r = document.querySelector('#changelist .results');"
                          " return [r.scrollWidth, r.clientWidth]; })()")
    assert table[0] <= table[1], table

    page.locator("tr", has_text="away@corp.example").locator("button", has_text="Close").click()
    page.wait_for_selector(".messagelist .success")
    assert Conversation.objects.get(pk=away.conversation_id).status == "closed"
    assert page.locator("#result_list button", has_text="Close").count() == 2


def test_from_a_conversation_page_the_agent_reaches_its_draft_and_decides_it(page, live_server):
    draft = make_draft(body="Hello Ada,\nYour order #1001 shipped.\nBest,\nDemo Shop")
    no_draft = _triaged(4, "away@corp.example", "Automatic reply", "I am away.", {"Auto-Submitted": "auto-replied"})
    make_staff("Agents", "grace", password="grace-pass-2026")
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server, "grace", "grace-pass-2026")

    page.goto(f"{live_server.url}/admin/conversations/conversation/{draft.conversation_id}/change/")
    page.click("#conversation-draft")
    page.wait_for_selector("#final_text")
    assert page.url.endswith(f"/admin/conversations/draft/{draft.pk}/change/")
    page.click("#approve")
    page.wait_for_selector(".messagelist .success")

    page.goto(f"{live_server.url}/admin/conversations/conversation/{draft.conversation_id}/change/")
    assert "Open the latest draft (" in page.inner_text("#conversation-draft")
    page.goto(f"{live_server.url}/admin/conversations/conversation/{no_draft.conversation_id}/change/")
    assert "No draft: the assistant wrote none" in page.inner_text("#content")


def test_on_a_triaged_emails_page_the_agent_hands_it_back_to_drafting_and_reviews_the_draft(page, live_server):
    """The page said "use the action 'Not triage…'": an action of the list, not of the page the agent was on."""
    wrongly = _triaged(5, "ada@example.com", "Out of office next week", "I am out of the office until Monday, "
                       "limited access to email. For urgent matters please contact my colleague.", {})
    away = _triaged(6, "away@corp.example", "Automatic reply", "I am away.", {"Auto-Submitted": "auto-replied"})
    assert (wrongly.triage_label, away.triage_label) == ("auto_reply", "auto_reply")
    make_staff("Agents", "grace", password="grace-pass-2026")
    login(page, live_server, "grace", "grace-pass-2026")

    page.goto(f"{live_server.url}/admin/conversations/triagedmessage/{away.pk}/change/")
    page.click("#triaged-close")
    page.wait_for_selector(".messagelist .success")
    assert Conversation.objects.get(pk=away.conversation_id).status == "closed"

    page.goto(f"{live_server.url}/admin/conversations/triagedmessage/{wrongly.pk}/change/")
    page.click("#triaged-draft")
    page.wait_for_selector("#final_text")
    wrongly.refresh_from_db()
    assert wrongly.triage_label == "customer" and f"/admin/conversations/draft/{wrongly.drafts.get().pk}/change/" in page.url
