"""Claimed work holds a lease: never two workers on one delivery, and a killed worker's delivery is
handed on within minutes (the every-minute sweep takes it once its lease has expired)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integrations.replay import DELIVERY_MAX_ATTEMPTS, deliveries_replay_stalled
from integrations.zoho.fake import FakeZoho
from integrations.zoho.tasks import process_incoming_email
from omnichannel.models import WebhookDelivery
from omnichannel.schedules import SCHEDULES
from omnichannel.webhook_deliveries import webhook_delivery_claim, webhook_delivery_store
from tests.omnichannel.test_metrics_scrape import _scrape

pytestmark = pytest.mark.django_db


def _stored(n: int, **fields) -> WebhookDelivery:
    body = json.dumps({"messageId": str(1764500000000000000 + n), "threadId": f"lease-{n}", "folderId": "inbox",
                       "fromAddress": f"lease{n}@example.com", "subject": "Lease", "html": "<p>Hi</p>",
                       "receivedTime": "1764000000000"}).encode()
    delivery, _ = webhook_delivery_store(source="zoho", topic="mail.incoming", external_id=f"lease-{n}", headers={},
                                         body=body)
    if fields:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return WebhookDelivery.objects.get(pk=delivery.pk)


def test_a_delivery_being_processed_under_a_live_lease_is_not_claimed_by_a_second_worker():
    delivery = _stored(1)
    assert webhook_delivery_claim(delivery_id=delivery.pk) is True
    delivery.refresh_from_db()
    assert delivery.status == "processing" and delivery.lease_expires_at > timezone.now()
    assert webhook_delivery_claim(delivery_id=delivery.pk) is False  # a redelivered task while the first still runs
    assert webhook_delivery_claim(delivery_id=delivery.pk, retry_failed=True) is False
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 1


def test_a_delivery_whose_lease_expired_is_claimed_again():
    delivery = _stored(2, status="processing", attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert webhook_delivery_claim(delivery_id=delivery.pk) is True
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.lease_expires_at > timezone.now()


def test_the_sweep_runs_every_minute_and_hands_on_expired_leases_but_not_live_ones(django_capture_on_commit_callbacks):
    assert SCHEDULES["replay_stalled_deliveries"] == ("every", 60)
    now = timezone.now()
    killed = _stored(3, status="processing", attempts=1, updated_at=now - timedelta(seconds=40),
                     lease_expires_at=now - timedelta(seconds=5))
    alive = _stored(4, status="processing", attempts=1, updated_at=now - timedelta(minutes=30),
                    lease_expires_at=now + timedelta(seconds=20))  # a long task whose heartbeat still renews
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_replay_stalled() == 1
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert statuses == {killed.pk: "processed", alive.pk: "processing"}


def test_a_delivery_that_never_finishes_stops_being_handed_on_and_fails_visibly():
    """A poison delivery (it kills or times out its worker every time) is not re-queued forever."""
    expired = timezone.now() - timedelta(seconds=5)
    poison = _stored(5, status="processing", attempts=DELIVERY_MAX_ATTEMPTS, lease_expires_at=expired)
    assert deliveries_replay_stalled() == 0
    poison.refresh_from_db()
    assert poison.status == "failed" and f"{DELIVERY_MAX_ATTEMPTS} attempts" in poison.last_error


def test_a_delivery_in_processing_whose_lease_expired_counts_as_waiting_in_the_intake_gauge(client):
    now = timezone.now()
    _stored(6, status="processing", lease_expires_at=now + timedelta(seconds=20), received_at=now - timedelta(hours=1))
    assert ("webhook_intake_oldest_waiting_seconds", (("source", "zoho"),)) not in _scrape(client)
    _stored(7, status="processing", lease_expires_at=now - timedelta(seconds=1), received_at=now - timedelta(minutes=10))
    assert 599 <= _scrape(client)[("webhook_intake_oldest_waiting_seconds", (("source", "zoho"),))] <= 630


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_a_slow_delivery_is_processed_so_no_second_worker_takes_it(settings):
    """Processing that outlasts the lease (a slow Zoho) keeps it by heartbeat: a second worker's claim,
    made after the first lease would have expired, is refused."""
    settings.WORK_LEASE_SECONDS = 3  # renewed every second
    fake = FakeZoho()
    fake.delay_seconds = 2.5  # the RFC-header fetch and the attachment-free rest: about 5 s for this email
    settings.ZOHO_MODE, settings.ZOHO_BASE_URL, settings.ZOHO_ACCOUNTS_URL = "live", fake.url, fake.url
    settings.ZOHO_REFRESH_TOKEN = f"lease-{fake.url}"
    delivery = _stored(8)
    outcome = {}

    def first_worker():
        try:
            outcome["first"] = process_incoming_email(delivery.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=first_worker)
    worker.start()
    try:
        time.sleep(4.5)  # past the first lease (3 s)
        assert WebhookDelivery.objects.get(pk=delivery.pk).status == "processing"
        assert webhook_delivery_claim(delivery_id=delivery.pk) is False
    finally:
        worker.join(30)
        fake.close()
    assert outcome["first"].startswith("message") and WebhookDelivery.objects.get(pk=delivery.pk).status == "processed"
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 1
