"""Correlation ids stay true under concurrency: each email's X-Correlation-ID finds exactly its rows.

Many webhook requests at once, in the production shape (each request only stores its delivery; one
drain per one-second window queues the processing; a real worker does the rest). The drain runs
under the id of the request that opened its window, but every delivery it queues is processed,
ingested and drafted under the id of the request that brought it.
"""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conversations.models import Draft, Message
from omnichannel.models import AuditLog, WebhookDelivery
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
EMAILS = 120
SENDERS = 16


def _payload(n: int) -> bytes:
    return json.dumps({"messageId": str(1_765_000_000_000_000_000 + n), "threadId": f"corr-{n}",
                       "fromAddress": f"corr{n}@example.com", "subject": f"Where is order {n}?",
                       "html": f"<p>Where is my order #{n}?</p>", "receivedTime": str(1764000000000 + n)}).encode()


def test_every_email_of_many_concurrent_requests_keeps_its_requests_correlation_id_on_all_its_rows(
        live_server, settings, celery_worker_process):
    from integrations import intake

    settings.ZOHO_WEBHOOK_SECRET = "corr-secret"
    settings.SYNC_USE_CELERY = True  # the web side as in production: requests store, the drain queues
    intake._window_open_until = 0.0
    intake._redis().delete(intake.WAKE_KEY)
    worker = celery_worker_process()

    def post(n: int) -> int:
        request = urllib.request.Request(f"{live_server.url}/webhooks/zoho/?token=corr-secret", data=_payload(n),
                                         headers={"Content-Type": "application/json",
                                                  "X-Correlation-ID": f"mail-{n}"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the test's own server
            return response.status

    with ThreadPoolExecutor(SENDERS) as pool:
        assert set(pool.map(post, range(EMAILS))) == {200}
    assert wait_for(lambda: Draft.objects.filter(status="pending").count() == EMAILS, timeout=180), (
        Draft.objects.count(), list(WebhookDelivery.objects.exclude(status="processed").values_list("status")[:5]),
        worker.log_tail())

    drains = AuditLog.objects.values("correlation_id").distinct().count()
    wrong = []
    for message in Message.objects.select_related("conversation"):
        n = int(message.external_msg_id) - 1_765_000_000_000_000_000
        expected = f"mail-{n}"
        delivery = WebhookDelivery.objects.get(source="zoho", external_id=message.external_msg_id)
        draft = Draft.objects.get(reply_to=message)
        mine = AuditLog.objects.filter(correlation_id=expected)
        # Its processing, its message, its lead and its draft carry the id; nobody else's rows do.
        objects = set(mine.values_list("object_type", "object_id"))
        if delivery.correlation_id != expected or not {
                ("conversations.message", str(message.pk)), ("conversations.draft", str(draft.pk))} <= objects:
            wrong.append((expected, delivery.correlation_id, sorted(objects)))
            continue
        others = objects - {("conversations.message", str(message.pk)), ("conversations.draft", str(draft.pk)),
                            ("customers.customer", str(message.conversation.customer_id)),
                            ("conversations.conversation", str(message.conversation_id))}
        if others:
            wrong.append((expected, "rows of other objects", sorted(others)))
    assert not wrong, f"{len(wrong)} of {EMAILS} emails lost their correlation id (audit ids in use: {drains}), " \
                      f"e.g. {wrong[:3]}"
    ingested = AuditLog.objects.filter(event_type="message.ingested")
    assert ingested.values("correlation_id").distinct().count() == EMAILS
