"""The production web process (deploy/gunicorn.conf.py: gthread workers) taking webhooks from many
senders at once: Shopify retries a delivery it did not see answered, so the same delivery can arrive
twice at the same moment on two threads of one worker. Each is stored once, both senders get 200 with
the same delivery id, and the worker holds no more database connections than it has threads.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from omnichannel.celery import ALL_QUEUES, app
from omnichannel.models import WebhookDelivery
from tests.web import gunicorn_process

THREADS = 4


def _order(n: int) -> bytes:
    return json.dumps({"id": 820_982_911_946_154_500 + n, "name": f"#{1040 + n}", "email": f"mia.{n}@example.org",
                       "financial_status": "paid", "total_price": "54.90", "currency": "EUR", "line_items": [],
                       "updated_at": "2026-12-06T21:14:03+01:00"}).encode()


def _other_client_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        return cursor.fetchone()[0]


@pytest.fixture
def gunicorn(settings, tmp_path, transactional_db):
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the web process runs on Postgres and Redis")
    db = connection.settings_dict
    secret = f"shpss_{uuid.uuid4().hex}"
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
           f"{db['NAME']}", "REDIS_URL": settings.REDIS_URL, "SYNC_USE_CELERY": "1", "SHOPIFY_WEBHOOK_SECRET": secret,
           "VAR_DIR": str(tmp_path), "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": str(THREADS), "LOG_LEVEL": "ERROR",
           "CHROMA_ALLOW_EMBEDDED_MULTIPROCESS": "1"}  # nothing here opens Chroma
    already = _other_client_backends()  # an earlier test's connection may not have closed yet
    try:
        with gunicorn_process(env, tmp_path / "gunicorn.log", "--access-logfile", "/dev/null") as base:
            yield base, secret, already
    finally:
        with app.connection_for_write() as conn:  # the drains the deliveries woke (no worker runs here)
            for queue in ALL_QUEUES:
                conn.default_channel.queue_purge(queue)


def test_the_same_delivery_sent_twice_at_once_is_stored_once_and_both_senders_hear_its_id(gunicorn):
    base, secret, already = gunicorn
    sends, bodies = [], {}
    for n in range(12):
        body = _order(n)
        headers = {"X-Shopify-Topic": "orders/updated", "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                   "X-Shopify-Hmac-Sha256": base64.b64encode(hmac.digest(secret.encode(), body, "sha256")).decode(),
                   "Content-Type": "application/json"}
        sends += [(body, headers), (body, headers)]  # Shopify's retry racing the first attempt
        bodies[headers["X-Shopify-Webhook-Id"]] = body

    def send(delivery):
        body, headers = delivery
        answer = requests.post(f"{base}/webhooks/shopify/", data=body, headers=headers, timeout=30)
        return headers["X-Shopify-Webhook-Id"], answer.status_code, answer.json()

    with ThreadPoolExecutor(max_workers=2 * THREADS) as pool:
        answers = list(pool.map(send, sends))

    assert {status for _, status, _ in answers} == {200}, answers
    by_delivery = {}
    for webhook_id, _, answer in answers:
        by_delivery.setdefault(webhook_id, []).append(answer)
    for webhook_id, both in by_delivery.items():
        assert sorted(a["status"] for a in both) == ["accepted", "duplicate"], (webhook_id, both)
        assert both[0]["delivery_id"] == both[1]["delivery_id"], both
    stored = WebhookDelivery.objects.filter(source="shopify", topic="orders/updated")
    assert sorted(stored.values_list("external_id", flat=True)) == sorted(by_delivery)
    for delivery in stored:
        assert delivery.status == WebhookDelivery.Status.RECEIVED and delivery.attempts == 0
        assert not delivery.is_erased and delivery.processed_at is None and delivery.lease_expires_at is None
        assert delivery.received_at is not None and delivery.correlation_id
        assert bytes(delivery.body) == bodies[delivery.external_id]  # the raw bytes as sent
        assert "x-shopify-hmac-sha256" not in delivery.headers and delivery.headers["x-shopify-topic"] == "orders/updated"
    assert _other_client_backends() - already <= THREADS  # one connection per thread, kept (CONN_MAX_AGE)
