"""Replies leave through the sender their conversation's channel registered (conversations/channels.py):
conversations sends without importing a channel's client, and a channel nobody registered is refused,
not guessed."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from conversations.channels import channel_sender, channel_sender_register
from conversations.models import Conversation, Draft
from conversations.services.approvals import draft_approve
from conversations.tasks import send_draft
from integrations.zoho.sending import zoho_reply_send
from tests.builders import make_draft, make_inbound_message, task_run_eagerly

pytestmark = pytest.mark.django_db


def test_email_replies_go_through_zoho_once_the_apps_are_loaded():
    assert channel_sender("email") is zoho_reply_send
    assert channel_sender("chat") is None  # no chat client yet


def test_a_second_sender_for_a_channel_is_refused_and_the_first_is_kept():
    with pytest.raises(ValueError, match="already registered"):
        channel_sender_register("email", lambda reply: ("id", "someone@example.com"))
    channel_sender_register("email", zoho_reply_send)  # the same one again (a re-run ready) is harmless
    assert channel_sender("email") is zoho_reply_send


def test_an_approved_reply_on_a_channel_without_a_sender_fails_for_good_and_nothing_is_sent(fake_zoho):
    """A chat conversation's reply must not go out by email to whoever the chat's address was."""
    message = make_inbound_message(email="chat-visitor@example.com")
    Conversation.objects.filter(pk=message.conversation_id).update(channel="chat")
    draft = make_draft(message=message, body="Hi, your order shipped yesterday.")
    agent = get_user_model().objects.create_user(username="chat-agent", password="x")
    draft_approve(draft_id=draft.pk, acting_user=agent)
    Draft.objects.filter(pk=draft.pk).update(send_after=None)  # the undo window has passed

    assert task_run_eagerly(send_draft, draft.pk) == "no sender"
    draft.refresh_from_db()
    assert fake_zoho.sent == []
    assert draft.status != Draft.Status.SENT and "chat" in draft.last_send_error
    assert task_run_eagerly(send_draft, draft.pk) == "nothing to send"  # a redelivery does not try again
