"""A real Celery worker process: correlation ids across processes, and a worker killed mid-way."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from conversations.models import Conversation, Draft, Message
from conversations.tasks import ensure_drafts
from integrations.replay import deliveries_replay_stalled
from omnichannel.jobs import enqueue
from omnichannel.models import AuditLog, WebhookDelivery
from omnichannel.task_names import TaskName
from omnichannel.webhook_deliveries import webhook_delivery_store
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _payload(n: int) -> bytes:
    return json.dumps({"messageId": f"{1_700_000_000_000_000_000 + n}", "threadId": f"thread-{n}",
                       "fromAddress": f"customer{n % 50}@example.com", "subject": f"Order question {n}",
                       "html": f"<p>Where is my order #{n}?</p>", "receivedTime": str(1764000000000 + n)}).encode()


def test_a_task_set_off_by_a_request_runs_in_the_worker_with_the_requests_correlation_id(client, settings,
                                                                                        celery_worker_process):
    settings.ZOHO_WEBHOOK_SECRET = "worker-secret"
    worker = celery_worker_process()
    response = client.post("/webhooks/zoho/?token=worker-secret", data=_payload(1), content_type="application/json",
                           HTTP_X_CORRELATION_ID="req-abc-123")
    assert response.status_code == 200
    assert wait_for(lambda: Draft.objects.filter(status="pending").exists(), timeout=180), (
        list(WebhookDelivery.objects.values_list("status", "last_error")), worker.log_tail())
    ingested = AuditLog.objects.get(event_type="message.ingested")
    drafted = AuditLog.objects.get(event_type="draft.created")
    assert ingested.correlation_id == "req-abc-123" and drafted.correlation_id == "req-abc-123"
    assert WebhookDelivery.objects.get().status == "processed"


def test_webhooks_in_the_production_shape_are_drained_and_processed_by_the_worker(client, settings,
                                                                                 celery_worker_process):
    """The web side as in production (SYNC_USE_CELERY=1): each request only stores its delivery, one
    drain per one-second window queues the processing, and the worker does the rest."""
    from integrations import intake

    settings.ZOHO_WEBHOOK_SECRET = "worker-secret"
    settings.SYNC_USE_CELERY = True
    intake._window_open_until = 0.0
    intake._redis().delete(intake.WAKE_KEY)
    worker = celery_worker_process()
    for n in range(25):
        response = client.post("/webhooks/zoho/?token=worker-secret", data=_payload(100 + n),
                               content_type="application/json")
        assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert wait_for(lambda: not WebhookDelivery.objects.exclude(status="processed").exists(), timeout=180), (
        list(WebhookDelivery.objects.values_list("status", "last_error")[:5]), worker.log_tail())
    assert Message.objects.count() == 25
    assert wait_for(lambda: Draft.objects.filter(status="pending").count() == 25, timeout=180), worker.log_tail()


def test_a_worker_killed_mid_way_loses_nothing_and_duplicates_nothing(celery_worker_process):
    total = 1000
    ids = []
    for n in range(total):
        delivery, _ = webhook_delivery_store(source="zoho", topic="mail.incoming", external_id=f"kill-{n}",
                                             headers={}, body=_payload(n))
        ids.append(delivery.pk)
    for pk in ids:
        enqueue(TaskName.PROCESS_INCOMING_EMAIL, pk)  # outside a transaction: sent at once, 1,000 in Redis
    first = celery_worker_process()
    assert wait_for(lambda: Message.objects.count() >= total // 4, timeout=120)
    first.kill()  # SIGKILL mid-way: tasks in flight are neither finished nor acknowledged
    done_at_kill = Message.objects.count()
    assert done_at_kill < total
    celery_worker_process()
    # Unacknowledged tasks come back after the visibility timeout; deliveries left "processing" by the
    # killed worker are claimed again once their lease (30 s, no longer renewed) has expired. A task the
    # broker lost outright (taken off the queue, killed before it was recorded as unacknowledged) is
    # re-queued from its stored delivery by the replay_stalled_deliveries sweep (every minute; here once
    # the queue has drained).
    wait_for(lambda: Message.objects.count() == total, timeout=60)
    deliveries_replay_stalled(older_than=timedelta(seconds=20))
    assert wait_for(lambda: Message.objects.count() == total and not WebhookDelivery.objects.exclude(
        status="processed").exists(), timeout=240), (Message.objects.count(), list(
        WebhookDelivery.objects.exclude(status="processed").values_list("status", flat=True)[:5]))
    assert Message.objects.values("external_msg_id").distinct().count() == total
    # A generate_draft lost with the killed worker is re-requested by the ensure_drafts sweep (every 10 minutes).
    # Drafts still in flight may be requested a second time here: harmless, a message gets one automatic draft.
    lost = ensure_drafts()
    assert wait_for(lambda: Draft.objects.filter(status="pending").count() == Conversation.objects.count(), 90), (
        Draft.objects.filter(status="pending").count(), lost)
    per_conversation = Draft.objects.filter(status="pending").values("conversation").distinct().count()
    assert per_conversation == Conversation.objects.count() == total


def test_in_fake_mode_a_worker_sends_an_approved_reply_through_its_own_fake_zoho(celery_worker_process,
                                                                                  agent_user):
    """ZOHO_MODE=fake with no ZOHO_BASE_URL: the worker's process-wide fake Zoho finds the email in our
    database, so `make run`'s fake sending works with workers too (the README's worker section)."""
    from conversations.services.approvals import draft_approve
    from tests.builders import make_inbound_message

    worker = celery_worker_process()  # ZOHO_MODE=fake, no ZOHO_BASE_URL (tests/workers.py)
    message = make_inbound_message(email="fake.mode@example.com")
    assert wait_for(lambda: Draft.objects.filter(reply_to=message, status="pending").exists(), timeout=120), \
        worker.log_tail()
    draft = Draft.objects.get(reply_to=message, status="pending")
    draft_approve(draft_id=draft.pk, acting_user=agent_user)
    assert wait_for(lambda: Draft.objects.get(pk=draft.pk).status == "sent", timeout=120), (
        Draft.objects.filter(pk=draft.pk).values_list("status", "last_send_error").get(), worker.log_tail())
    sent = Draft.objects.select_related("sent_message").get(pk=draft.pk).sent_message
    assert sent.direction == "outbound" and sent.to_addresses == ["fake.mode@example.com"]
