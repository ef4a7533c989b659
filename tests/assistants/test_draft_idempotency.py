"""Exactly once: a message gets at most one automatic draft, ever.

generate_draft is delivered at least once (acks_late, Redis' visibility timeout, the ensure_drafts
sweep), so a repeated, late or concurrent delivery must create nothing, and say why in the audit
log. A conversation's pending draft answers its newest inbound message, and a reply sent from
Zoho directly supersedes it.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.utils import timezone

from assistants.models import ModelRun
from assistants.tasks import generate_draft
from conversations.models import Draft, Message
from conversations.services.approvals import draft_approve, draft_reject
from conversations.services.drafts import messages_awaiting_draft
from conversations.services.sending import draft_mark_sent, draft_send_claim
from customers.services_erasure import customer_erase
from integrations.zoho.ingest import zoho_message_ingest
from omnichannel.celery import app
from omnichannel.models import AuditLog
from tests.builders import make_inbound_message, task_run_eagerly
from tests.gated_llm import GatedChatServer

pytestmark = pytest.mark.django_db


def _generate(message: Message, **kwargs) -> int | None:
    """One delivery of the generate_draft task (run in this process): the id of the draft it made."""
    return task_run_eagerly(generate_draft, message.pk, **kwargs)


def _skips(message: Message) -> list[str]:
    return list(AuditLog.objects.filter(event_type="draft.skipped", payload__message_id=message.pk)
                .order_by("pk").values_list("payload__reason", flat=True))


def _drafts(message: Message) -> list[tuple[int, str]]:
    return list(Draft.objects.filter(reply_to=message).order_by("pk").values_list("pk", "status"))


def _reply_from_zoho(message: Message, *, after: timedelta, n: int = 1) -> Message:
    """An agent answered the thread in Zoho Mail itself; Zoho tells us like any other message."""
    reply, _ = zoho_message_ingest({
        "messageId": f"zoho-direct-{message.pk}-{n}", "threadId": message.conversation.external_thread_id,
        "folderId": "sent",  # ZOHO_SENT_FOLDER: our address counts as ours only there
        "fromAddress": "support@demo-shop.example", "toAddress": message.from_address,
        "subject": f"Re: {message.subject}", "content": "<p>Answered from Zoho Mail.</p>",
        "receivedTime": str(int((message.sent_at + after).timestamp() * 1000))})
    assert reply.direction == Message.Direction.OUTBOUND and reply.conversation_id == message.conversation_id
    return reply


def test_generate_draft_twice_makes_one_draft_and_records_why_the_second_made_none():
    message = make_inbound_message()
    first = _generate(message)
    assert first is not None
    assert _generate(message) is None
    assert _drafts(message) == [(first, Draft.Status.PENDING)]
    assert _skips(message) == ["already_drafted"]


def test_an_approved_draft_is_never_followed_by_a_second_draft_for_its_message(agent_user):
    message = make_inbound_message()
    draft_id = _generate(message)
    draft_approve(draft_id=draft_id, acting_user=agent_user)
    # A redelivered generate_draft: before, it made a new pending draft, and approving that one too
    # would have sent the customer a second reply.
    assert _generate(message) is None
    assert _drafts(message) == [(draft_id, Draft.Status.APPROVED)]
    assert _skips(message) == ["already_drafted"]


def test_a_rejected_draft_is_not_redrafted_by_a_late_generate_draft(agent_user):
    message = make_inbound_message()
    draft_id = _generate(message)
    draft_reject(draft_id=draft_id, reason="we called the customer instead", acting_user=agent_user)
    assert _generate(message) is None
    assert _drafts(message) == [(draft_id, Draft.Status.REJECTED)]
    assert _skips(message) == ["already_drafted"]


def test_a_message_whose_reply_was_sent_gets_no_new_draft(agent_user):
    message = make_inbound_message()
    draft_id = _generate(message)
    draft_approve(draft_id=draft_id, acting_user=agent_user)
    reply = draft_send_claim(draft_id=draft_id)  # send_draft's own bookkeeping, around the channel call
    draft_mark_sent(reply=reply, external_msg_id="zoho-sent-1", from_address="support@demo-shop.example")
    assert _generate(message) is None
    assert _drafts(message) == [(draft_id, Draft.Status.SENT)]
    assert not Draft.objects.filter(conversation=message.conversation, status=Draft.Status.PENDING).exists()


def test_a_refresh_replaces_a_still_pending_draft_but_never_a_decided_one(agent_user):
    message = make_inbound_message()
    first = _generate(message)
    second = _generate(message, refresh=True)  # what apply_corrections asks after a new correction
    assert second not in (None, first)
    assert _drafts(message) == [(first, Draft.Status.SUPERSEDED), (second, Draft.Status.PENDING)]
    draft_reject(draft_id=second, reason="wrong tone", acting_user=agent_user)
    assert _generate(message, refresh=True) is None
    assert _generate(message, force=True) is None  # the old name, still on the wire from tasks queued before
    assert _drafts(message) == [(first, Draft.Status.SUPERSEDED), (second, Draft.Status.REJECTED)]
    assert _skips(message) == ["draft_not_pending", "draft_not_pending"]


def test_a_parent_arriving_after_its_reply_does_not_supersede_the_replys_draft():
    parent_sent = make_inbound_message().sent_at + timedelta(days=1)
    reply = make_inbound_message(thread="late-parent", subject="Re: My order", body="Any news on my order?",
                                 sent_at=parent_sent + timedelta(hours=2))
    reply_draft = _generate(reply)
    # Zoho delivered the customer's first email late (a webhook retried, a poll catching up).
    parent = make_inbound_message(thread="late-parent", subject="My order", body="Where is my order #1001?",
                                  sent_at=parent_sent)
    assert parent.conversation_id == reply.conversation_id
    assert _generate(parent) is None
    assert list(Draft.objects.filter(conversation=reply.conversation).values_list("pk", "status")) == [
        (reply_draft, Draft.Status.PENDING)]
    assert _skips(parent) == ["newer_inbound"]
    # The sweep agrees: the thread's newest message has its draft, the older one is not owed one.
    assert reply.pk not in messages_awaiting_draft() and parent.pk not in messages_awaiting_draft()


def test_a_reply_sent_from_zoho_directly_supersedes_the_pending_draft_and_the_review_page_says_so(client,
                                                                                                  agent_user):
    message = make_inbound_message()
    draft_id = _generate(message)
    reply = _reply_from_zoho(message, after=timedelta(minutes=30))
    assert _drafts(message) == [(draft_id, Draft.Status.SUPERSEDED)]
    audit = AuditLog.objects.get(event_type="draft.superseded", object_id=str(draft_id))
    assert audit.payload["reason"] == "replied_outside" and audit.payload["message_id"] == reply.pk
    client.force_login(agent_user)
    page = client.get(f"/admin/conversations/draft/{draft_id}/change/").content.decode()
    assert "superseded: a reply was sent from Zoho directly" in page
    assert 'id="decide-form"' not in page


def test_only_a_reply_sent_outside_the_product_after_the_drafts_message_supersedes_it(agent_user):
    first = make_inbound_message(thread="busy-thread", sent_at=timezone.now() - timedelta(hours=2))
    first_draft = _generate(first)
    draft_approve(draft_id=first_draft, acting_user=agent_user)
    second = make_inbound_message(thread="busy-thread", body="Also, can I change the address?",
                                  sent_at=timezone.now() - timedelta(hours=1))
    second_draft = _generate(second)
    # Our own reply to the first email goes out after the second arrived: it does not answer the second.
    draft_mark_sent(reply=draft_send_claim(draft_id=first_draft), external_msg_id="zoho-sent-2",
                    from_address="support@demo-shop.example")
    # A Zoho reply dated before the second email (delivered late) does not answer it either.
    _reply_from_zoho(second, after=-timedelta(seconds=30), n=1)
    assert _drafts(second) == [(second_draft, Draft.Status.PENDING)]
    _reply_from_zoho(second, after=timedelta(minutes=5), n=2)
    assert _drafts(second) == [(second_draft, Draft.Status.SUPERSEDED)]


def test_a_message_already_answered_from_zoho_is_not_drafted_nor_requested_again():
    message = make_inbound_message()  # its generate_draft was lost; an agent answered in Zoho Mail meanwhile
    _reply_from_zoho(message, after=timedelta(minutes=10))
    assert message.pk not in messages_awaiting_draft()
    assert _generate(message) is None
    assert _drafts(message) == []
    assert _skips(message) == ["answered_outside"]


@pytest.fixture
def held_llm(settings):
    server = GatedChatServer()
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = server.url
    settings.LLM_API_KEY = "sk-test"
    settings.LLM_TIMEOUT_SECONDS = 30
    yield server
    server.close()


def _ingested_awaiting_its_draft(**kwargs) -> Message:
    """For a transactional test: the generate_draft the ingest queues goes to the broker, where no worker
    runs (and is purged); the test delivers it itself, as often and as concurrently as it likes."""
    app.conf.task_always_eager = False
    try:
        return make_inbound_message(**kwargs)
    finally:
        app.conf.task_always_eager = True
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("celery")


def _deliver_in_thread(message: Message, results: list, errors: list) -> threading.Thread:
    """A delivery of generate_draft in its own thread, so on its own database connection."""
    def deliver():
        try:
            results.append(_generate(message))
        except Exception as exc:  # noqa: BLE001 - reported by the test's assertions
            errors.append(exc)
        finally:
            close_old_connections()

    thread = threading.Thread(target=deliver)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_workers_drafting_one_message_at_once_make_one_draft(held_llm):
    message = _ingested_awaiting_its_draft()
    results, errors = [], []
    # Two deliveries of its generate_draft (a redelivery racing the original, a sweep racing both).
    threads = [_deliver_in_thread(message, results, errors) for _ in range(2)]
    # Both passed the early check and wait on the provider: only the locked check can stop one now.
    arrived = held_llm.wait_for_requests(2, timeout=60)
    held_llm.open()
    for thread in threads:
        thread.join(60)
    assert arrived and not errors and not any(t.is_alive() for t in threads), errors
    [draft_id] = [r for r in results if r is not None]
    assert results.count(None) == 1
    assert _drafts(message) == [(draft_id, Draft.Status.PENDING)]
    assert _skips(message) == ["already_drafted"]


@pytest.mark.django_db(transaction=True)
def test_a_customer_erased_while_their_draft_is_written_gets_no_draft_and_no_model_run(held_llm):
    message = _ingested_awaiting_its_draft(email="erase.me@example.org", body="Where is order #1001? Call me.")
    results, errors = [], []
    thread = _deliver_in_thread(message, results, errors)
    arrived = held_llm.wait_for_requests(1, timeout=60)  # composed from her email, before the erasure
    customer_erase(email="erase.me@example.org")
    held_llm.open()
    thread.join(60)
    assert arrived and not errors and results == [None], errors
    assert _drafts(message) == [] and not ModelRun.objects.filter(message=message).exists()
    assert _skips(message) == ["not_draftable"]
