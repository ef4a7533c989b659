"""Approved drafts go out as Zoho replies in their thread, exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from conversations.models import Approval, Draft, Message
from conversations.services.approvals import draft_approve, draft_edit_and_approve
from conversations.services.sending import draft_send_retry, drafts_send_failed_for_good, drafts_send_sweep
from conversations.tasks import send_draft
from customers.services_erasure import customer_erase
from integrations.zoho.client import ZohoClient
from integrations.zoho.ingest import zoho_message_ingest
from omnichannel.errors import ApplicationError
from omnichannel.models import AuditLog
from tests.builders import make_draft, task_run_eagerly

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return get_user_model().objects.create_user(username="sender-agent", password="x")


@pytest.fixture
def inbound(fake_zoho):
    message, _ = zoho_message_ingest(dict(fake_zoho.messages["1732512000000100001"]))
    return message


def test_an_approved_draft_is_sent_as_a_reply_in_the_thread(fake_zoho, inbound, agent,
                                                             django_capture_on_commit_callbacks):
    draft = make_draft(message=inbound, body="Hi Barbara,\nYes, it is rated to -10C.\nThe Demo Shop team")
    with django_capture_on_commit_callbacks(execute=True):
        draft_approve(draft_id=draft.pk, acting_user=agent)
    [sent] = fake_zoho.sent
    assert sent["action"] == "reply" and sent["inReplyTo"] == "1732512000000100001"
    assert sent["toAddress"] == "barbara.liskov@example.com" and sent["fromAddress"] == "support@demo-shop.example"
    assert sent["subject"] == "Re: Sleeping bag for winter" and "rated to -10C" in sent["content"]
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SENT and draft.send_attempts == 1 and draft.last_send_error == ""
    outbound = draft.sent_message
    assert outbound.direction == "outbound" and outbound.external_msg_id == sent["messageId"]
    assert outbound.conversation_id == inbound.conversation_id
    assert AuditLog.objects.filter(event_type="draft.sent").count() == 1


def test_the_edited_text_is_what_goes_out(fake_zoho, inbound, agent, django_capture_on_commit_callbacks):
    draft = make_draft(message=inbound, body="draft text")
    with django_capture_on_commit_callbacks(execute=True):
        draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text="the agent's better text")
    assert fake_zoho.sent[0]["content"] == "the agent's better text"


def test_a_sent_draft_is_never_sent_twice(fake_zoho, inbound, agent, django_capture_on_commit_callbacks):
    draft = make_draft(message=inbound)
    with django_capture_on_commit_callbacks(execute=True):
        draft_approve(draft_id=draft.pk, acting_user=agent)
    assert task_run_eagerly(send_draft, draft.pk) == "nothing to send"
    assert len(fake_zoho.sent) == 1 and Message.objects.filter(direction="outbound").count() == 1


def test_a_5xx_on_the_reply_is_not_repeated_by_the_client_and_stays_visible(fake_zoho, inbound, agent,
                                                                           django_capture_on_commit_callbacks):
    """Zoho may have sent the mail before its 5xx: neither the client nor the task POSTs again, and the
    sweep does not re-queue it; the draft says so and waits for an agent who checks the thread."""
    draft = make_draft(message=inbound)
    ZohoClient.from_settings().access_token()  # so the injected failures hit the reply, not the token refresh
    fake_zoho.fail_next(502, times=2)
    with django_capture_on_commit_callbacks(execute=True):
        draft_approve(draft_id=draft.pk, acting_user=agent)
    draft.refresh_from_db()
    assert len([p for m, p in fake_zoho.requests if m == "POST" and "/messages/" in p]) == 1
    assert draft.status == Draft.Status.APPROVED and draft.sending_started_at is None
    assert "502" in draft.last_send_error and "may have been sent" in draft.last_send_error
    event = AuditLog.objects.get(event_type="draft.send_failed")
    assert event.payload["permanent"] is True
    assert list(drafts_send_failed_for_good().values_list("pk", flat=True)) == [draft.pk]
    assert drafts_send_sweep(now=timezone.now() + timedelta(hours=2)).requeued == []


def test_a_429_on_the_reply_is_retried_by_the_client_and_the_reply_goes_out_once(
        fake_zoho, inbound, agent, django_capture_on_commit_callbacks):
    draft = make_draft(message=inbound)
    ZohoClient.from_settings().access_token()
    fake_zoho.fail_next(429, times=2, retry_after=0.01)
    with django_capture_on_commit_callbacks(execute=True):
        draft_approve(draft_id=draft.pk, acting_user=agent)
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SENT and len(fake_zoho.sent) == 1
    assert len([p for m, p in fake_zoho.requests if m == "POST" and "/messages/" in p]) == 3


def test_a_permanent_refusal_stays_visible_on_the_draft(fake_zoho, inbound, agent, django_capture_on_commit_callbacks):
    draft = make_draft(message=inbound)
    fake_zoho.messages.pop("1732512000000100001")  # Zoho no longer knows the original: 400 Invalid input
    with django_capture_on_commit_callbacks(execute=True):
        draft_approve(draft_id=draft.pk, acting_user=agent)
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED and draft.send_attempts == 1
    assert "400" in draft.last_send_error and draft.sending_started_at is None
    # What the agent reads says what happened and what to do, before the provider's detail.
    assert draft.last_send_error.startswith("Zoho refused the reply, so it was not sent")
    assert "Send again" in draft.last_send_error
    assert not fake_zoho.sent
    assert AuditLog.objects.filter(event_type="draft.send_failed").exists()


def test_an_approved_reply_emptied_by_an_erasure_is_refused_and_never_sent(fake_zoho, inbound, agent):
    draft = make_draft(message=inbound)
    draft_approve(draft_id=draft.pk, acting_user=agent)  # its send_draft has not run yet...
    customer_erase(email=inbound.from_address)  # ...when the customer's data is erased, the reply text with it
    assert task_run_eagerly(send_draft, draft.pk).startswith("refused")
    assert fake_zoho.sent == []
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED and draft.sent_message is None
    assert "The reply is empty" in draft.last_send_error  # what the review page shows the agent
    failure = AuditLog.objects.get(event_type="draft.send_failed", object_id=str(draft.pk))
    assert failure.payload["permanent"] is True
    assert drafts_send_sweep(now=timezone.now() + timedelta(hours=2)).requeued == []  # never re-queued
    with pytest.raises(ApplicationError, match="The reply is empty"):
        draft_send_retry(draft_id=draft.pk, acting_user=agent)
    assert task_run_eagerly(send_draft, draft.pk) == "nothing to send" and fake_zoho.sent == []  # stopped


def _approved(inbound, agent):
    draft = make_draft(message=inbound)
    draft_approve(draft_id=draft.pk, acting_user=agent)  # its on-commit send is dropped (the test's transaction)
    ZohoClient.from_settings().access_token()  # so an injected answer hits the reply, not the token refresh
    return draft


def _reply_posts(fake_zoho) -> int:
    return len([p for m, p in fake_zoho.requests if m == "POST" and "/messages/" in p])


def test_an_unexpected_error_after_the_reply_went_out_flags_the_draft_for_an_agent(fake_zoho, inbound, agent):
    """Not a Zoho error class (here the client trips on a malformed 200 answer): the claim is released with
    the error shown, never re-sent by a machine, and the draft does not read "sending" for ever."""
    draft = _approved(inbound, agent)
    fake_zoho.fail_next(200, body={"status": {"code": 200, "description": "success"}, "data": "messageId"})
    assert task_run_eagerly(send_draft, draft.pk) == "failed: it may have been sent"
    draft.refresh_from_db()
    assert _reply_posts(fake_zoho) == 1
    assert draft.status == Draft.Status.APPROVED and draft.sending_started_at is None
    assert "TypeError" in draft.last_send_error and "may have been sent" in draft.last_send_error
    assert AuditLog.objects.get(event_type="draft.send_failed").payload["permanent"] is True
    assert list(drafts_send_failed_for_good().values_list("pk", flat=True)) == [draft.pk]
    assert drafts_send_sweep(now=timezone.now() + timedelta(hours=2)).requeued == []


def test_a_database_error_recording_a_sent_reply_says_it_was_sent_and_never_resends(fake_zoho, inbound, agent):
    draft = _approved(inbound, agent)
    long_id = "9" * 300  # longer than Message.external_msg_id: recording the sent reply fails in the database
    fake_zoho.fail_next(200, body={"status": {"code": 200, "description": "success"}, "data": {"messageId": long_id}})
    assert task_run_eagerly(send_draft, draft.pk) == "failed: sent, not recorded"
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED and draft.sending_started_at is None
    assert long_id in draft.last_send_error and "has been sent" in draft.last_send_error
    assert list(drafts_send_failed_for_good().values_list("pk", flat=True)) == [draft.pk]
    assert drafts_send_sweep(now=timezone.now() + timedelta(hours=2)).requeued == []
    assert _reply_posts(fake_zoho) == 1


def test_an_unexpected_error_before_the_channel_call_releases_the_claim_for_a_retry(fake_zoho, inbound, agent):
    """Nothing went out (the reply could not be prepared): the error is shown and the sweep tries again later."""
    draft = _approved(inbound, agent)
    with connection.cursor() as cursor:  # a data bug: the claimed draft has lost its (append-only) approval row
        cursor.execute("SET LOCAL session_replication_role = replica")  # past the append-only trigger
        cursor.execute("DELETE FROM approvals WHERE draft_id = %s", [draft.pk])
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    with pytest.raises(Approval.DoesNotExist):
        task_run_eagerly(send_draft, draft.pk)
    draft.refresh_from_db()
    assert _reply_posts(fake_zoho) == 0
    assert draft.status == Draft.Status.APPROVED and draft.sending_started_at is None and draft.send_attempts == 1
    assert "not sent" in draft.last_send_error and "DoesNotExist" in draft.last_send_error
    assert drafts_send_failed_for_good().count() == 0
    assert drafts_send_sweep(now=timezone.now() + timedelta(hours=2)).requeued == [draft.pk]


@pytest.mark.parametrize("zoho_answer", ["502", "malformed 200"])
def test_a_send_task_delivered_again_after_a_reply_that_may_have_gone_out_sends_nothing(fake_zoho, inbound, agent,
                                                                                        zoho_answer):
    """The broker hands the same send_draft out again (a lost ack, a duplicate queue entry, a dead letter Ops
    requeued) after a try whose reply may be in the customer's inbox: no second POST until an agent says so."""
    draft = _approved(inbound, agent)
    if zoho_answer == "502":
        fake_zoho.fail_next(502)
    else:
        fake_zoho.fail_next(200, body={"status": {"code": 200, "description": "success"}, "data": "messageId"})
    assert task_run_eagerly(send_draft, draft.pk).startswith("failed: it may have been sent")
    for _redelivery in range(3):
        assert task_run_eagerly(send_draft, draft.pk) == "nothing to send"
    assert _reply_posts(fake_zoho) == 1 and fake_zoho.sent == []
    draft.refresh_from_db()
    assert draft.send_stopped and "may have been sent" in draft.last_send_error
    # The agent checked the thread in Zoho Mail, the reply is not there: Send again sends it, once.
    draft_send_retry(draft_id=draft.pk, acting_user=agent)
    assert task_run_eagerly(send_draft, draft.pk).startswith("sent ")
    assert task_run_eagerly(send_draft, draft.pk) == "nothing to send"
    assert len(fake_zoho.sent) == 1 and _reply_posts(fake_zoho) == 2


def test_a_send_interrupted_by_a_killed_worker_is_not_resent_by_a_late_task(fake_zoho, inbound, agent):
    """A worker died mid-send (its lease ran out): the sweep flags it; the dead worker's task, redelivered an
    hour later by the broker, finds the draft stopped and sends nothing."""
    draft = _approved(inbound, agent)
    long_ago = timezone.now() - timedelta(minutes=30)
    Draft.objects.filter(pk=draft.pk).update(sending_started_at=long_ago, send_lease_expires_at=long_ago,
                                             send_attempts=1)
    assert drafts_send_sweep().interrupted == [draft.pk]
    assert drafts_send_sweep().interrupted == []  # flagged once
    assert task_run_eagerly(send_draft, draft.pk) == "nothing to send"
    assert fake_zoho.sent == [] and list(drafts_send_failed_for_good().values_list("pk", flat=True)) == [draft.pk]
    draft_send_retry(draft_id=draft.pk, acting_user=agent)
    assert task_run_eagerly(send_draft, draft.pk).startswith("sent ") and len(fake_zoho.sent) == 1
