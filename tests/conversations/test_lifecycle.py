"""A conversation's life: open (the customer waits on us) → waiting (we replied) → closed, reopened by the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from conversations.models import Conversation, Draft
from conversations.services.retention import conversation_archive, conversations_due_for_archive
from conversations.services.threads import (
    MessageFacts,
    conversation_close,
    conversations_auto_close,
    message_ingest,
)
from omnichannel.models import AuditLog
from tests.builders import make_draft, make_inbound_message

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _reply(conversation: Conversation, *, at: datetime, n: int = 1):
    return message_ingest(facts=MessageFacts(
        channel="email", direction="outbound", external_msg_id=f"reply-{conversation.pk}-{n}",
        external_thread_id=conversation.external_thread_id, from_address="support@shop.example",
        to_addresses=["ada@example.com"], subject="Re: Where is my order?", body="It ships today.", sent_at=at,
    ), integration="test")[0]


def test_a_reply_makes_the_conversation_wait_on_the_customer_and_a_new_email_reopens_it():
    message = make_inbound_message(sent_at=MONDAY, thread="t-life")
    conversation = message.conversation
    assert conversation.status == Conversation.Status.OPEN
    _reply(conversation, at=MONDAY + timedelta(hours=1))
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WAITING
    make_inbound_message(sent_at=MONDAY + timedelta(days=1), thread="t-life", body="Thanks, and the lamp?")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN


def test_waiting_conversations_close_after_auto_close_days_and_open_ones_never_do(settings):
    settings.AUTO_CLOSE_DAYS = 7
    answered = make_inbound_message(sent_at=MONDAY, thread="t-answered").conversation
    _reply(answered, at=MONDAY + timedelta(hours=2))
    unanswered = make_inbound_message(sent_at=MONDAY, thread="t-unanswered").conversation
    recent = make_inbound_message(sent_at=MONDAY + timedelta(days=5), thread="t-recent").conversation
    _reply(recent, at=MONDAY + timedelta(days=5, hours=1))

    assert conversations_auto_close(now=MONDAY + timedelta(days=6)) == []
    closed = conversations_auto_close(now=MONDAY + timedelta(days=8))
    assert closed == [answered.pk]  # the customer who is still waiting on us stays open
    answered.refresh_from_db()
    assert answered.status == Conversation.Status.CLOSED and answered.closed_at is not None
    assert AuditLog.objects.filter(event_type="conversation.closed", object_id=str(answered.pk)).exists()
    assert Conversation.objects.get(pk=unanswered.pk).status == Conversation.Status.OPEN
    assert Conversation.objects.get(pk=recent.pk).status == Conversation.Status.WAITING


def test_an_agent_closes_a_thanks_email_without_replying_and_its_draft_leaves_the_queue():
    agent = get_user_model().objects.create_user(username="grace", password="pw", is_staff=True)
    agent.groups.add(Group.objects.get(name="Agents"))
    draft = make_draft(message=make_inbound_message(body="Got it, thanks a lot!"))
    conversation_close(conversation_id=draft.conversation_id, acting_user=agent)
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SUPERSEDED
    assert Conversation.objects.get(pk=draft.conversation_id).status == Conversation.Status.CLOSED


def test_retention_archives_a_conversation_that_reached_closed_through_the_services(settings):
    settings.AUTO_CLOSE_DAYS = 7
    conversation = make_inbound_message(sent_at=MONDAY, thread="t-retained").conversation
    _reply(conversation, at=MONDAY + timedelta(hours=1))
    conversations_auto_close(now=MONDAY + timedelta(days=8))
    conversation.refresh_from_db()
    later = conversation.closed_at + timedelta(days=30 * settings.RETENTION_MONTHS + 1)
    assert conversations_due_for_archive(now=later) == [conversation.pk]
    conversation_archive(conversation_id=conversation.pk)
    conversation.refresh_from_db()
    assert conversation.is_archived


def test_opening_the_review_page_marks_the_thread_read(client):
    agent = get_user_model().objects.create_user(username="grace", password="pw", is_staff=True)
    agent.groups.add(Group.objects.get(name="Agents"))
    client.force_login(agent)
    draft = make_draft()
    assert Conversation.objects.get(pk=draft.conversation_id).unread_count == 1
    assert client.get(f"/admin/conversations/draft/{draft.pk}/change/").status_code == 200
    assert Conversation.objects.get(pk=draft.conversation_id).unread_count == 0
