"""A real worker killed mid-draft: the broker redelivers its generate_draft, and exactly-once holds."""

from __future__ import annotations

import time

import pytest

from assistants.services import draft_generate
from conversations.models import Draft
from conversations.services.approvals import draft_approve
from omnichannel.models import AuditLog
from tests.builders import make_inbound_message
from tests.gated_llm import GatedChatServer
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
VISIBILITY_TIMEOUT = 12  # seconds


def test_a_generate_draft_redelivered_after_its_worker_was_killed_makes_no_second_draft(celery_worker_process,
                                                                                         agent_user):
    llm = GatedChatServer()  # the slow provider: its answer waits until the test opens the gate
    env = {"LLM_PROVIDER": "openai", "LLM_BASE_URL": llm.url, "LLM_API_KEY": "sk-test", "LLM_TIMEOUT_SECONDS": "5",
           "LLM_MAX_RETRIES": "1",
           # A short visibility timeout, so the broker hands the killed worker's unacknowledged task to the
           # next worker within seconds. It must outlast every task's hard limit (settings refuse it otherwise).
           "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT), "CELERY_TASK_TIME_LIMIT": "10",
           "CELERY_TASK_SOFT_TIME_LIMIT": "8", "CELERY_LONG_TASK_TIME_LIMIT": "10"}
    try:
        first = celery_worker_process(**env)
        message = make_inbound_message()  # after commit its generate_draft goes to Redis; the first worker takes it
        assert llm.wait_for_requests(1, timeout=120), first.log_tail()  # mid-draft: waiting on the provider
        taken_before = time.monotonic()
        first.kill()  # SIGKILL: the task (acks_late) is neither finished nor acknowledged
        # Meanwhile the message gets its draft (the ensure_drafts sweep's work, done here in the test process
        # with the grounded drafter) and an agent approves it.
        draft = draft_generate(message_id=message.pk).draft
        draft_approve(draft_id=draft.pk, acting_user=agent_user)
        llm.open()
        # kombu's Redis transport looks for expired unacknowledged tasks when a worker starts, then only
        # every 100 s (unacked_restore_interval x unacked_restore_throttle): start the next worker once the
        # task's visibility timeout has run out, so its first look finds it.
        time.sleep(max(0.0, taken_before + VISIBILITY_TIMEOUT + 2 - time.monotonic()))
        second = celery_worker_process(**env)

        def redelivered() -> bool:
            skipped = AuditLog.objects.filter(event_type="draft.skipped", payload__message_id=message.pk).exists()
            return skipped or Draft.objects.filter(reply_to=message).count() > 1

        assert wait_for(redelivered, timeout=150), second.log_tail()  # its first look, or the next
    finally:
        llm.close()
    assert list(Draft.objects.filter(reply_to=message).values_list("pk", flat=True)) == [draft.pk]
    assert Draft.objects.get(pk=draft.pk).status in (Draft.Status.APPROVED, Draft.Status.SENT)
    assert not Draft.objects.filter(conversation=message.conversation, status=Draft.Status.PENDING).exists()
    skip = AuditLog.objects.get(event_type="draft.skipped", payload__message_id=message.pk)
    assert skip.payload["reason"] == "already_drafted" and skip.payload["draft_id"] == draft.pk
