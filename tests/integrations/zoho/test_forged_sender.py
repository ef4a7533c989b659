"""A forged From: with our own support address (issue items 4 and 11).

Anyone can write `support@demo-shop.example` into a From header. Before, such an email counted as
our own reply: it joined whatever thread its In-Reply-To or Zoho thread id pointed at, superseded the
customer's pending draft and showed in her conversation as if we had said it. Now a message is ours
only when Zoho filed it in our Sent folder (ZOHO_SENT_FOLDER); anywhere else our address is a forgery:
triaged as spam, given no draft, kept in a conversation of its own, and never made into a customer.

Real signed Zoho webhooks through the Django test client, real Postgres, drafts made inline.
"""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Draft, Message
from customers.models import Customer
from tests.builders import zoho_deliver, zoho_email

pytestmark = pytest.mark.django_db
SECRET = "forged-sender-secret"
ADA_FIRST = "<ada-first@example.com>"
OURS = "support@demo-shop.example"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ZOHO_WEBHOOK_SECRET = SECRET
    settings.THREAD_TRUSTED_DOMAINS = []
    assert settings.ZOHO_OWN_ADDRESSES == [OURS] and settings.ZOHO_SENT_FOLDER == "sent"


def email(n: int, *, sender: str, **fields) -> dict:
    return zoho_email(n, sender=sender, first_id=1764300000000000000, **fields)


def deliver(client, capture, data: dict) -> Message:
    return zoho_deliver(client, capture, data, secret=SECRET)


@pytest.fixture
def ada_thread(client, django_capture_on_commit_callbacks) -> Conversation:
    """Ada asked about her order (Zoho thread 7001); the assistant's draft waits for review."""
    message = deliver(client, django_capture_on_commit_callbacks, email(
        1, sender="Ada Lovelace <ada@example.com>", threadId=7001, rfcMessageId=ADA_FIRST))
    assert Draft.objects.filter(conversation=message.conversation, status="pending").count() == 1
    return message.conversation


def assert_kept_apart_as_spam(forged: Message, ada_thread: Conversation) -> None:
    assert forged.direction == "inbound"
    assert forged.conversation_id != ada_thread.pk and forged.conversation.claimed_reply_to_id == ada_thread.pk
    assert (forged.triage_label, forged.triage_reason) == (
        "spam", "Forged sender: our own address, on an email that did not leave our mailbox")
    assert not Draft.objects.filter(reply_to=forged).exists()  # nobody is asked to answer a phishing lure
    # Ada's conversation is as she left it: her message alone, her draft still waiting.
    assert list(ada_thread.messages.values_list("from_address", flat=True)) == ["ada@example.com"]
    assert Draft.objects.get(conversation=ada_thread).status == "pending"
    assert not Customer.objects.filter(email__iexact=OURS).exists()  # our mailbox is no customer


@pytest.mark.parametrize("sender", [OURS, "Demo Shop Support <Support@Demo-Shop.example>",
                                    "\"support@demo-shop.example\" <SUPPORT@demo-shop.example>"])
def test_our_address_forged_into_a_reply_to_adas_message_is_spam_in_a_conversation_of_its_own(
        client, django_capture_on_commit_callbacks, ada_thread, sender):
    forged = deliver(client, django_capture_on_commit_callbacks, email(
        2, sender=sender, inReplyTo=ADA_FIRST, references=ADA_FIRST, subject="Re: Where is my order?",
        html="<p>Your order is held. Confirm your card at https://demo-shop.example.evil.test/pay</p>"))
    assert_kept_apart_as_spam(forged, ada_thread)


def test_our_address_forged_into_an_email_zoho_filed_under_adas_thread_is_spam_in_a_conversation_of_its_own(
        client, django_capture_on_commit_callbacks, ada_thread):
    """The forged In-Reply-To makes Zoho file the email in Ada's thread: the thread id is the forger's claim too."""
    forged = deliver(client, django_capture_on_commit_callbacks, email(2, sender=OURS, threadId=7001))
    assert_kept_apart_as_spam(forged, ada_thread)
    assert Conversation.objects.get(external_thread_id="7001") == ada_thread


def test_our_address_outside_the_sent_folder_is_forged_whatever_folder_zoho_names(
        client, django_capture_on_commit_callbacks, ada_thread):
    for n, folder in ((2, "spam"), (3, ""), (4, "Sent")):  # "Sent": a folder name, not our folder id
        forged = deliver(client, django_capture_on_commit_callbacks, email(
            n, sender=OURS, threadId=7001, inReplyTo=ADA_FIRST, folderId=folder))
        assert forged.direction == "inbound" and forged.triage_label == "spam", folder
    assert_kept_apart_as_spam(forged, ada_thread)


def test_a_reply_we_really_sent_from_the_sent_folder_joins_adas_thread_and_supersedes_her_draft(
        client, django_capture_on_commit_callbacks, ada_thread):
    """The other half: an agent who answered in Zoho Mail itself is still recognised as us."""
    ours = deliver(client, django_capture_on_commit_callbacks, email(
        2, sender=OURS, folderId="sent", threadId=7001, inReplyTo=ADA_FIRST, toAddress="ada@example.com"))
    assert ours.direction == "outbound" and ours.conversation_id == ada_thread.pk and ours.triage_label == ""
    assert Draft.objects.get(conversation=ada_thread).status == "superseded"
