"""The one retry policy with a real worker (omnichannel/task_policy.py): a reply Zoho refused for a moment is
sent by the task's retry, once; a reply whose POST may have reached Zoho (a 5xx) is never sent again by a
machine, but flagged for an agent."""

from __future__ import annotations

import pytest

from conversations.models import Draft
from conversations.services.approvals import draft_approve
from conversations.services.sending import drafts_send_failed_for_good
from integrations.zoho.fake import FakeZoho, ingested_message
from omnichannel.models import AuditLog, DeadLetter
from tests.builders import make_inbound_message
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _reply_posts(zoho: FakeZoho, external_id: str) -> int:
    return sum(1 for method, path in zoho.requests if method == "POST" and path.endswith(f"/messages/{external_id}"))


def _drafted(message, worker) -> Draft:
    assert wait_for(lambda: Draft.objects.filter(reply_to=message, status="pending").exists(), timeout=120), (
        worker.log_tail()
    )
    return Draft.objects.get(reply_to=message, status="pending")


def test_a_refused_send_is_retried_by_the_worker_and_a_send_that_may_have_happened_is_not(celery_worker_process, agent_user):
    zoho = FakeZoho(message_lookup=ingested_message)
    try:
        worker = celery_worker_process(
            ZOHO_MODE="live",
            ZOHO_BASE_URL=zoho.url,
            ZOHO_ACCOUNTS_URL=zoho.url,
            ZOHO_CLIENT_ID="retry",
            ZOHO_CLIENT_SECRET="retry",
            ZOHO_REFRESH_TOKEN=f"retry-{zoho.url}",
            ZOHO_ACCOUNT_ID="1",
            ZOHO_MAX_ATTEMPTS="1",  # the client does not retry the 429 itself: the task's retry must
            TASK_RETRY_BACKOFF_SECONDS="1",
        )  # waits of 0..1 s, 0..2 s...: the policy, made quick
        # 1. Zoho refuses the reply once (429: it did not act): the task fails transiently, its retry sends it.
        refused_once = make_inbound_message(email="refused.once@example.com")
        draft = _drafted(refused_once, worker)
        zoho.fail_nth(1, 429, path_contains="/messages/")
        draft_approve(draft_id=draft.pk, acting_user=agent_user)
        assert wait_for(lambda: Draft.objects.get(pk=draft.pk).status == "sent", timeout=120), (
            Draft.objects.filter(pk=draft.pk).values_list("status", "last_send_error").get(),
            worker.log_tail(),
        )
        draft.refresh_from_db()
        assert draft.send_attempts == 2 and _reply_posts(zoho, refused_once.external_msg_id) == 2
        assert [s["inReplyTo"] for s in zoho.sent] == [refused_once.external_msg_id]  # delivered once
        [failed_try] = AuditLog.objects.filter(event_type="draft.send_failed", object_id=str(draft.pk))
        assert failed_try.payload["permanent"] is False and "429" in failed_try.payload["error"]
        assert not DeadLetter.objects.exists()

        # 2. A 502 after the POST went out: Zoho may have sent it. Flagged for an agent, never retried.
        maybe_sent = make_inbound_message(email="maybe.sent@example.com")
        other = _drafted(maybe_sent, worker)
        zoho.fail_nth(1, 502, path_contains="/messages/")
        draft_approve(draft_id=other.pk, acting_user=agent_user)
        assert wait_for(lambda: drafts_send_failed_for_good().filter(pk=other.pk).exists(), timeout=120), (
            Draft.objects.filter(pk=other.pk).values_list("status", "last_send_error").get(),
            worker.log_tail(),
        )
        other.refresh_from_db()
        assert other.status == "approved" and other.sent_message_id is None and other.send_attempts == 1
        assert "may have been sent" in other.last_send_error
        assert _reply_posts(zoho, maybe_sent.external_msg_id) == 1
        assert not DeadLetter.objects.exists()  # a decision, not a failure of the task
    finally:
        zoho.close()
