"""A decision the server refuses keeps everything the agent typed, in a real headless Chromium.

Before: a refused reject (a draft another agent had decided meanwhile, a reason the server refused)
redirected back to the review page, and the reply the agent had been rewriting was gone.
"""

from __future__ import annotations

import os

import pytest

from conversations.models import Approval, Draft
from conversations.services.approvals import draft_approve
from conversations.services.drafts import draft_create
from tests.browser import CHROMIUM, login
from tests.builders import make_draft, make_inbound_message, make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]

REWRITE = ("Hello Ada,\nYour order #1001 left our warehouse on Monday with DHL; the tracking number is "
           "JD014600006281234567.\nBest,\nGrace")


def _open_review_as_grace(page, live_server, draft) -> None:
    make_staff("Agents", "grace", password="grace-pass-2026")
    login(page, live_server, "grace", "grace-pass-2026")
    page.goto(f"{live_server.url}/admin/conversations/draft/{draft.pk}/change/")
    page.wait_for_selector("#final_text")


def test_a_reject_refused_because_a_colleague_approved_first_keeps_the_rewritten_reply(page, live_server):
    draft = make_draft(message=make_inbound_message(email="ada@example.com", body="Where is my parcel? Order 1001."))
    linus = make_staff("Agents", "linus")
    _open_review_as_grace(page, live_server, draft)
    page.fill("#final_text", REWRITE)
    page.fill("#reason", "Quotes the wrong courier")
    draft_approve(draft_id=draft.pk, acting_user=linus)  # meanwhile, at the next desk
    with page.expect_navigation():
        page.click("#reject")
    page.wait_for_selector("#lost-text")
    assert page.input_value("#your-text") == REWRITE
    error = page.inner_text("#decision-error")
    assert "cannot be decided again" in error and "not recorded" in error
    assert "by linus" in page.inner_text("#decision")  # the winner's decision, beside the agent's text
    assert list(Approval.objects.filter(draft=draft).values_list("action", flat=True)) == [Approval.Action.APPROVE]


def test_a_refused_redraft_on_a_pending_draft_keeps_the_edit_and_the_reason_and_still_warns_on_leaving(
        page, live_server):
    # A draft written for a conversation, answering no message in particular: there is nothing to redraft,
    # and the server refuses "Reject and redraft" (the reject is rolled back, the draft stays pending).
    message = make_inbound_message(email="ada@example.com", body="Where is my parcel? Order 1001.")
    draft = draft_create(conversation_id=message.conversation_id, body="Hello Ada,\nYour order shipped.\nBest",
                         confidence=0.6, refresh=True)
    _open_review_as_grace(page, live_server, draft)
    page.fill("#final_text", REWRITE)
    page.fill("#reason", "Say which courier")
    with page.expect_navigation():
        page.click("#reject-redraft")
    page.wait_for_selector("#reason-error")
    assert "nothing to redraft" in page.inner_text("#reason-error")
    assert page.input_value("#reason") == "Say which courier"
    assert page.input_value("#final_text") == REWRITE  # the agent's edit, still in the box
    assert page.inner_text("#approve").startswith("Approve with your edits")
    draft.refresh_from_db()
    assert draft.status == Draft.Status.PENDING and not Approval.objects.filter(draft=draft).exists()
    # The edit is still unsent: leaving the page asks first.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.click("text=Back to the queue")
    page.wait_for_function("() => document.getElementById('final_text') !== null")
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    # And the kept text is what a second try sends.
    with page.expect_navigation():
        page.click("#edit-approve")
    [approval] = Approval.objects.filter(draft=draft)
    assert approval.action == Approval.Action.EDIT and approval.final_text == REWRITE


def test_an_own_reply_refused_because_a_colleague_approved_the_draft_meanwhile_is_kept(page, live_server):
    draft = make_draft(message=make_inbound_message(email="ada@example.com", body="Can I still change my address?"))
    linus = make_staff("Agents", "linus")
    _open_review_as_grace(page, live_server, draft)
    page.click("#write-own summary")
    own = "Hi Ada, yes: I have changed the address on order #1001 to Hauptstraße 5, Berlin. Grace"
    page.fill("#own_text", own)
    draft_approve(draft_id=draft.pk, acting_user=linus)
    with page.expect_navigation():
        page.click("#send-own")
    page.wait_for_selector("#lost-text")
    assert "answer on its way" in page.inner_text("#decision-error")
    assert page.input_value("#your-text") == own  # what Grace wrote, to copy into a follow-up
    assert not Approval.objects.filter(approved_by__username="grace").exists()
