"""Webhook intake with Celery: one INSERT per request, one drain per window, nothing left behind.

Real Postgres and the real Redis broker; no worker runs here, so what the requests publish is
read off the broker's queue (tests/omnichannel/test_real_worker.py runs a worker behind it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import psycopg
import pytest
from django.db import connection

from integrations import intake
from omnichannel.celery import app
from omnichannel.models import WebhookDelivery

pytestmark = pytest.mark.django_db
SECRET = "intake-secret"


QUEUES = ("intake", "drafts", "send", "long", "celery")  # omnichannel/celery.py routes tasks per workload


def _broker_messages() -> list[str]:
    """Task names waiting on every queue (the Redis transport keeps each as a list)."""
    with app.connection_for_write() as conn:
        raw = [m for queue in QUEUES for m in conn.default_channel.client.lrange(queue, 0, -1)]
    return [json.loads(message)["headers"]["task"] for message in raw]


@pytest.fixture
def windows(settings):
    """The production shape of intake: tasks queued on Redis, wake-ups collapsed into windows."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("needs Postgres and the Redis broker")
    settings.SYNC_USE_CELERY = True
    settings.ZOHO_WEBHOOK_SECRET = SECRET
    app.conf.task_always_eager = False

    def reset():
        intake._window_open_until = 0.0
        intake._redis().delete(intake.WAKE_KEY)
        with app.connection_for_write() as conn:
            for queue in QUEUES:
                conn.default_channel.queue_purge(queue)

    reset()
    yield
    reset()
    app.conf.task_always_eager = True


def _post(client, n: int):
    body = json.dumps({"messageId": str(1764200000000000000 + n), "fromAddress": f"w{n}@example.com",
                       "subject": "Window", "html": "<p>Hello</p>", "receivedTime": "1764000000000"}).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return client.post("/webhooks/zoho/", data=body, content_type="application/json", HTTP_X_HOOK_SIGNATURE=signature)


def test_deliveries_in_one_window_publish_one_drain_that_queues_every_one(client, windows,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(20):
            assert _post(client, n).status_code == 200
    assert _broker_messages() == ["drain_webhook_deliveries"]  # not one publish per request
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"received"}

    assert intake._redis().pttl(intake.WAKE_KEY) > 0  # the window is still open
    with django_capture_on_commit_callbacks(execute=True):
        assert intake.deliveries_drain() == 20
    assert intake._redis().pttl(intake.WAKE_KEY) < 0  # the drain looked only once the window had closed
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"queued"}
    queued = _broker_messages()
    assert queued.count("process_incoming_email_task") == 20 and len(queued) == 21
    with django_capture_on_commit_callbacks(execute=True):
        assert intake.deliveries_drain() == 0  # a second drain finds nothing left to take


def test_a_delivery_after_the_window_closed_opens_the_next_one(client, windows, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, 1)
    time.sleep(intake.WAKE_WINDOW_MS / 1000 + 0.1)
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, 2)
    assert _broker_messages() == ["drain_webhook_deliveries"] * 2


def test_a_delivery_locked_by_another_drain_is_skipped_not_taken_twice(windows, transactional_db):
    from omnichannel.webhook_deliveries import webhook_delivery_store

    first, _ = webhook_delivery_store(source="zoho", topic="t", external_id="lock-1", headers={}, body=b"{}")
    second, _ = webhook_delivery_store(source="zoho", topic="t", external_id="lock-2", headers={}, body=b"{}")
    db = connection.settings_dict
    # Another drain, mid-way through taking `first`:
    with psycopg.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"]) as other:
        other.execute("SELECT id FROM webhook_deliveries WHERE id = %s FOR UPDATE", [first.pk])
        taken = intake.deliveries_take(WebhookDelivery.objects.filter(status="received"))
        assert taken == [(second.pk, "zoho", second.correlation_id)]
    assert dict(WebhookDelivery.objects.values_list("pk", "status")) == {first.pk: "received", second.pk: "queued"}


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_the_database_dropped_costs_the_sender_nothing(client, settings):
    """Intake skips Django's per-request health check (a SELECT 1 round trip) and instead retries its
    one idempotent INSERT on a new connection when the one kept from an earlier request is dead."""
    if connection.vendor != "postgresql":
        pytest.skip("terminates a Postgres backend")
    settings.ZOHO_WEBHOOK_SECRET = SECRET
    assert _post(client, 1).status_code == 200
    dead = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [dead])
    assert connection.connection is not None  # still held, dead: the next request starts on it
    response = _post(client, 2)
    assert response.status_code == 200, response.content
    assert connection.connection.info.backend_pid != dead
    assert WebhookDelivery.objects.count() == 2


def test_with_redis_unreachable_the_delivery_is_stored_answered_200_and_left_for_the_next_drain(
        client, windows, settings, django_capture_on_commit_callbacks):
    reachable = settings.REDIS_URL
    intake._redis.cache_clear()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(client, 1)
    finally:
        settings.REDIS_URL = reachable
        intake._redis.cache_clear()
    assert response.status_code == 200
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["received"]


def test_replay_webhooks_by_default_takes_deliveries_never_processed_received_or_queued(
        django_capture_on_commit_callbacks):
    from django.core.management import call_command

    from omnichannel.webhook_deliveries import webhook_delivery_store

    for n, status in ((1, "received"), (2, "queued"), (3, "failed")):
        body = json.dumps({"messageId": str(1764300000000000000 + n), "fromAddress": f"r{n}@example.com",
                           "subject": "Replay", "html": "<p>Hi</p>", "receivedTime": "1764000000000"}).encode()
        delivery, _ = webhook_delivery_store(source="zoho", topic="mail.incoming", external_id=f"replay-{n}",
                                             headers={}, body=body)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=status)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_webhooks")
    assert dict(WebhookDelivery.objects.values_list("external_id", "status")) == {
        "replay-1": "processed", "replay-2": "processed", "replay-3": "failed"}
