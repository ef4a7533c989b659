"""Who may join a conversation: a reply header is the sender's claim, not proof (issue item 4).

Real Zoho webhooks through the Django test client, real Postgres. A stranger who copies another
customer's Message-ID into In-Reply-To (or whose forged header made Zoho file the email under that
customer's thread id) must get a conversation of their own, never the victim's orders or draft.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from conversations.models import Conversation, Draft, Message
from conversations.services.approvals import draft_approve
from conversations.services.sending import draft_mark_sent, draft_send_claim
from customers.services import customer_get_or_create_lead
from tests.builders import zoho_deliver, zoho_email

pytestmark = pytest.mark.django_db
SECRET = "test-zoho-secret"
ADA_FIRST = "<ada-first@example.com>"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.ZOHO_WEBHOOK_SECRET = SECRET
    settings.THREAD_TRUSTED_DOMAINS = []


def email(n: int, *, sender: str, thread=None, **fields) -> dict:
    return zoho_email(n, sender=sender, first_id=1764200000000000000, threadId=thread, **fields)


def deliver(client, capture, data: dict) -> Message:
    return zoho_deliver(client, capture, data, secret=SECRET)


@pytest.fixture
def ada_thread(client, django_capture_on_commit_callbacks) -> Conversation:
    """Ada asked about her order; the assistant's draft waits for review. Bob is copied."""
    message = deliver(client, django_capture_on_commit_callbacks, email(
        1, sender="Ada Lovelace <ada@example.com>", thread=5001, rfcMessageId=ADA_FIRST,
        ccAddress="bob@example.com"))
    assert Draft.objects.filter(conversation=message.conversation, status="pending").count() == 1
    return message.conversation


def test_a_stranger_quoting_another_customers_message_id_gets_a_conversation_of_their_own(
        client, django_capture_on_commit_callbacks, ada_thread):
    mallory = deliver(client, django_capture_on_commit_callbacks, email(
        2, sender="mallory@evil.example", inReplyTo=ADA_FIRST, references=ADA_FIRST, subject="Re: Where is my order?"))
    assert mallory.conversation_id != ada_thread.pk
    assert mallory.conversation.claimed_reply_to_id == ada_thread.pk
    assert mallory.conversation.customer.email == "mallory@evil.example"
    # Ada's draft is untouched: the stranger's email neither joined nor superseded it.
    assert Draft.objects.get(conversation=ada_thread).status == "pending"
    assert list(ada_thread.messages.values_list("from_address", flat=True)) == ["ada@example.com"]


def test_a_stranger_zoho_filed_under_another_customers_thread_id_is_kept_apart_with_their_follow_ups(
        client, django_capture_on_commit_callbacks, ada_thread):
    """A forged In-Reply-To makes Zoho file the email in Ada's Zoho thread: the thread id is Ada's too.
    The stranger's next email (same Zoho thread) joins the stranger's conversation, and so does our reply."""
    first = deliver(client, django_capture_on_commit_callbacks, email(
        2, sender="mallory@evil.example", thread=5001, rfcMessageId="<m1@evil.example>"))
    again = deliver(client, django_capture_on_commit_callbacks, email(
        3, sender="mallory@evil.example", thread=5001, inReplyTo=ADA_FIRST))
    assert first.conversation_id == again.conversation_id != ada_thread.pk
    assert first.conversation.claimed_reply_to_id == ada_thread.pk
    assert Draft.objects.get(conversation=ada_thread).status == "pending"
    assert Conversation.objects.get(external_thread_id="5001") == ada_thread

    agent = get_user_model().objects.create_user(username="agent-x", password="pw", is_staff=True)
    agent.groups.add(Group.objects.get(name="Agents"))
    draft = Draft.objects.get(conversation=first.conversation, status="pending")
    draft_approve(draft_id=draft.pk, acting_user=agent)
    reply = draft_send_claim(draft_id=draft.pk)
    assert reply.to_address == "mallory@evil.example"
    sent = draft_mark_sent(reply=reply, external_msg_id="sent-to-mallory", from_address="support@demo-shop.example")
    assert sent.conversation_id == first.conversation_id


@pytest.mark.parametrize("sender", ["Ada Lovelace <ADA@example.com>", "bob@example.com"])
def test_the_customer_and_people_copied_on_the_thread_still_join_it(client, django_capture_on_commit_callbacks,
                                                                    ada_thread, sender):
    by_thread = deliver(client, django_capture_on_commit_callbacks, email(2, sender=sender, thread=5001))
    by_header = deliver(client, django_capture_on_commit_callbacks, email(3, sender=sender, inReplyTo=ADA_FIRST))
    assert by_thread.conversation_id == by_header.conversation_id == ada_thread.pk
    assert Conversation.objects.count() == 1


def test_the_conversations_customer_joins_even_from_a_thread_it_never_wrote_in(
        client, django_capture_on_commit_callbacks):
    """A conversation we started (an outbound first message) belongs to its customer."""
    customer, _ = customer_get_or_create_lead(email="grace@example.com", name="Grace")
    outbound = deliver(client, django_capture_on_commit_callbacks, email(
        1, sender="support@demo-shop.example", thread=6001, rfcMessageId="<ours@demo-shop.example>",
        toAddress="grace@example.com", folderId="sent"))
    Conversation.objects.filter(pk=outbound.conversation_id).update(customer=customer)
    answer = deliver(client, django_capture_on_commit_callbacks, email(
        2, sender="grace@example.com", inReplyTo="<ours@demo-shop.example>"))
    assert answer.conversation_id == outbound.conversation_id


def test_a_sender_on_a_trusted_domain_joins(client, django_capture_on_commit_callbacks, settings, ada_thread):
    settings.THREAD_TRUSTED_DOMAINS = ["partner.example"]
    colleague = deliver(client, django_capture_on_commit_callbacks, email(
        2, sender="ops@Partner.example", inReplyTo=ADA_FIRST))
    stranger = deliver(client, django_capture_on_commit_callbacks, email(
        3, sender="ops@evil-partner.example", inReplyTo=ADA_FIRST))
    assert colleague.conversation_id == ada_thread.pk
    assert stranger.conversation_id != ada_thread.pk


def test_the_review_page_says_whom_the_reply_goes_to_and_which_conversation_was_claimed(
        client, django_capture_on_commit_callbacks, ada_thread):
    mallory = deliver(client, django_capture_on_commit_callbacks, email(
        2, sender="mallory@evil.example", inReplyTo=ADA_FIRST))
    agent = get_user_model().objects.create_user(username="agent-y", password="pw", is_staff=True)
    agent.groups.add(Group.objects.get(name="Agents"))
    client.force_login(agent)

    draft = Draft.objects.get(conversation=mallory.conversation, status="pending")
    page = client.get(f"/admin/conversations/draft/{draft.pk}/change/").content.decode()
    assert f"claims to reply to conversation {ada_thread.pk}" in page
    assert f"/admin/conversations/conversation/{ada_thread.pk}/change/" in page
    assert "Reply goes to: <strong>mallory@evil.example</strong>" in page

    ada_draft = Draft.objects.get(conversation=ada_thread, status="pending")
    page = client.get(f"/admin/conversations/draft/{ada_draft.pk}/change/").content.decode()
    assert "claims to reply" not in page
    assert "Reply goes to: <strong>ada@example.com</strong>" in page
