"""A queue a team works all day: longest-waiting customer first, soft claims, filters, the awaiting-reply view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conversations.models import Draft
from conversations.services.approvals import draft_approve, draft_reject
from conversations.services.threads import MessageFacts, message_ingest
from tests.builders import make_draft, make_inbound_message, make_staff

pytestmark = pytest.mark.django_db


def _agent_client(name: str) -> tuple[Client, object]:
    user = make_staff("Agents", name)
    client = Client()
    client.force_login(user)
    return client, user


def test_the_customer_who_has_waited_longest_comes_first_and_age_is_their_wait():
    client, _ = _agent_client("grace")
    now = timezone.now()
    # Thirteen days ago a customer wrote; yesterday she wrote again, and only now was the draft made.
    old = make_inbound_message(email="patient@example.com", sent_at=now - timedelta(days=13), thread="t-old",
                               body="Where is my order #1003? It is been ages.")
    make_inbound_message(email="patient@example.com", sent_at=now - timedelta(days=1), thread="t-old",
                         body="Hello?? Still nothing.")
    fresh = make_draft(message=make_inbound_message(email="new@example.com", sent_at=now - timedelta(hours=1)))
    waited = make_draft(message=old.conversation.messages.order_by("-sent_at").first())
    body = client.get("/admin/conversations/draft/?status__exact=pending").content.decode()
    assert body.index(f"/{waited.pk}/change/") < body.index(f"/{fresh.pk}/change/")
    assert "1\xa0week" in body or "13\xa0days" in body  # the wait, not the draft's age of seconds
    assert "Hello?? Still nothing." in body  # a line of what the customer wrote


def test_a_reply_ends_the_wait_and_a_new_message_starts_it_again():
    message = make_inbound_message(sent_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC), thread="t-wait")
    conversation = message.conversation
    conversation.refresh_from_db()
    assert conversation.waiting_since == message.sent_at
    message_ingest(facts=MessageFacts(channel="email", direction="outbound", external_msg_id="out-1",
                                      external_thread_id="t-wait", sent_at=datetime(2026, 11, 1, 10, 0, tzinfo=UTC),
                                      body="Here you go."), integration="test")
    conversation.refresh_from_db()
    assert conversation.waiting_since is None
    # A customer message that reaches us late, but was written before our reply, was answered by it.
    make_inbound_message(sent_at=datetime(2026, 11, 1, 9, 30, tzinfo=UTC), thread="t-wait")
    conversation.refresh_from_db()
    assert conversation.waiting_since is None
    later = make_inbound_message(sent_at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC), thread="t-wait")
    conversation.refresh_from_db()
    assert conversation.waiting_since == later.sent_at


def test_opening_a_draft_claims_it_and_others_are_told_and_steered_past_it():
    grace, _ = _agent_client("grace")
    linus, _ = _agent_client("linus")
    first, second, third = (make_draft(message=make_inbound_message(email=f"c{i}@example.com")) for i in range(3))
    assert grace.get(f"/admin/conversations/draft/{first.pk}/change/").status_code == 200
    page = linus.get(f"/admin/conversations/draft/{first.pk}/change/").content.decode()
    assert "grace is reviewing this draft right now" in page
    # Linus's `n` from the second draft skips the first (held by Grace) as well as his own.
    page = linus.get(f"/admin/conversations/draft/{second.pk}/change/").content.decode()
    assert f'href="/admin/conversations/draft/{third.pk}/change/" id="next-link"' in page
    queue = linus.get("/admin/conversations/draft/?status__exact=pending").content.decode()
    assert "grace" in queue


def test_two_agents_deciding_at_once_are_sent_to_different_drafts():
    grace, _ = _agent_client("grace")
    linus, _ = _agent_client("linus")
    a, b, c, d = (make_draft(message=make_inbound_message(email=f"c{i}@example.com")) for i in range(4))
    grace.get(f"/admin/conversations/draft/{a.pk}/change/")
    linus.get(f"/admin/conversations/draft/{b.pk}/change/")
    to_grace = grace.post(f"/admin/conversations/draft/{a.pk}/decide/", {"action": "approve"})["Location"]
    to_linus = linus.post(f"/admin/conversations/draft/{b.pk}/decide/", {"action": "reject",
                                                                        "reason": "Wrong order"})["Location"]
    assert to_grace != to_linus
    assert {to_grace, to_linus} == {f"/admin/conversations/draft/{c.pk}/change/",
                                    f"/admin/conversations/draft/{d.pk}/change/"}


def test_a_claim_expires(settings):
    settings.REVIEW_CLAIM_SECONDS = 10
    grace, _ = _agent_client("grace")
    linus, _ = _agent_client("linus")
    draft = make_draft()
    grace.get(f"/admin/conversations/draft/{draft.pk}/change/")
    Draft.objects.filter(pk=draft.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    page = linus.get(f"/admin/conversations/draft/{draft.pk}/change/").content.decode()
    assert "is reviewing this draft" not in page
    assert Draft.objects.get(pk=draft.pk).claimed_by.username == "linus"


def test_the_failed_sends_filter_lists_approved_drafts_that_did_not_go_out():
    client, agent = _agent_client("grace")
    failed = make_draft(message=make_inbound_message(email="failed@example.com"))
    draft_approve(draft_id=failed.pk, acting_user=agent)
    Draft.objects.filter(pk=failed.pk).update(status="approved", sent_message=None,
                                              last_send_error="ZohoError: Zoho answered 400")
    make_draft(message=make_inbound_message(email="fine@example.com"))
    body = client.get("/admin/conversations/draft/?send=failed").content.decode()
    assert "failed@example.com" in body and "fine@example.com" not in body


def test_awaiting_reply_lists_open_conversations_with_no_pending_draft():
    client, agent = _agent_client("grace")
    rejected = make_draft(message=make_inbound_message(email="rejected@example.com", subject="Rejected one"))
    draft_reject(draft_id=rejected.pk, acting_user=agent, reason="Needs the warehouse")
    make_inbound_message(email="nodraft@example.com", subject="Never drafted")
    make_draft(message=make_inbound_message(email="pending@example.com", subject="Has a pending draft"))
    body = client.get("/admin/conversations/conversation/?awaiting=reply").content.decode()
    assert "Rejected one" in body and "Never drafted" in body
    assert "Has a pending draft" not in body


def test_the_conversation_page_shows_its_messages_in_order():
    client, _ = _agent_client("grace")
    first = make_inbound_message(body="First: where is my order?", thread="t-show")
    make_inbound_message(body="Second: hello??", thread="t-show")
    body = client.get(f"/admin/conversations/conversation/{first.conversation_id}/change/").content.decode()
    assert body.index("First: where is my order?") < body.index("Second: hello??")
