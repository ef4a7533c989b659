"""Webhook intake under a storm of duplicates, reordering, forgeries and garbage; and a database outage."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random

import pytest
from django.db import connection

from conversations.models import Message
from customers.models import Order
from omnichannel.models import WebhookDelivery

pytestmark = pytest.mark.django_db
SHOPIFY_SECRET, ZOHO_SECRET = "storm-shopify", "storm-zoho"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.SHOPIFY_WEBHOOK_SECRET = SHOPIFY_SECRET
    settings.ZOHO_WEBHOOK_SECRET = ZOHO_SECRET


def _sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _order(n: int, version: int) -> dict:
    return {"id": 900000 + n, "name": f"#S{n}", "email": f"s{n}@example.com", "financial_status": "paid",
            "fulfillment_status": None, "total_price": f"{version}.00", "currency": "USD", "line_items": [],
            "created_at": "2026-11-01T00:00:00+00:00", "updated_at": f"2026-11-0{version}T00:00:00+00:00"}


def _mail(n: int) -> dict:
    return {"messageId": str(1_600_000_000_000_000_000 + n), "threadId": f"storm-{n}", "subject": "Hi",
            "fromAddress": f"m{n}@example.com", "html": f"<p>Question {n}</p>", "receivedTime": str(1764000000000 + n)}


def test_a_storm_of_2000_deliveries_leaves_exactly_the_right_rows(client, django_capture_on_commit_callbacks):
    rng = random.Random(42)
    deliveries, expected_orders, expected_mail, bad_signatures, malformed = [], {}, set(), 0, 0
    for i in range(1400):
        kind = rng.random()
        if kind < 0.05:  # forged
            deliveries.append(("shopify", f"forged-{i}", json.dumps(_order(i % 150, 1)).encode(), "bad"))
            bad_signatures += 1
        elif kind < 0.10:  # garbage
            deliveries.append(("zoho" if i % 2 else "shopify", f"junk-{i}", b"{not json" + str(i).encode(), "good"))
            malformed += 1
        elif kind < 0.55:
            n = i % 150
            version = rng.randint(1, 9)  # out-of-order updates of the same orders
            expected_orders[n] = max(expected_orders.get(n, 0), version)
            deliveries.append(("shopify", f"wh-{i}", json.dumps(_order(n, version)).encode(), "good"))
        else:
            expected_mail.add(i)
            deliveries.append(("zoho", f"mail-{i}", json.dumps(_mail(i)).encode(), "good"))
    good = [d for d in deliveries if d[3] == "good"]
    deliveries += rng.sample(good, 600)  # 30% exact duplicates (same delivery id and body)
    rng.shuffle(deliveries)
    statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        for source, delivery_id, body, signature in deliveries:
            if source == "shopify":
                sig = _sign(SHOPIFY_SECRET if signature == "good" else "forged", body)
                response = client.post("/webhooks/shopify/", data=body, content_type="application/json", headers={
                    "X-Shopify-Topic": "orders/updated", "X-Shopify-Webhook-Id": delivery_id,
                    "X-Shopify-Hmac-Sha256": sig})
            else:
                response = client.post("/webhooks/zoho/", data=body, content_type="application/json",
                                       HTTP_X_HOOK_SIGNATURE=_sign(ZOHO_SECRET, body))
            statuses.append((signature, response.status_code, body.startswith(b"{not")))
    assert all(code == 401 for sig, code, _ in statuses if sig == "bad")
    assert all(code == 400 for sig, code, junk in statuses if junk and sig == "good")
    assert all(code == 200 for sig, code, junk in statuses if sig == "good" and not junk)
    assert not WebhookDelivery.objects.filter(external_id__startswith="forged").exists()
    assert Order.objects.count() == len(expected_orders)
    for order in Order.objects.all():  # the newest version of every order, whatever the arrival order
        assert order.total_price_cents == expected_orders[int(order.shopify_id) - 900000] * 100
    assert Message.objects.count() == len(expected_mail) == Message.objects.values("external_msg_id").distinct().count()
    assert WebhookDelivery.objects.filter(status="failed").count() == malformed
    assert WebhookDelivery.objects.filter(status__in=["received", "processing"]).count() == 0


@pytest.mark.django_db(transaction=True)
def test_intake_answers_503_while_postgres_refuses_and_the_retry_is_ingested(client, django_capture_on_commit_callbacks):
    body = json.dumps(_mail(7)).encode()
    headers = {"HTTP_X_HOOK_SIGNATURE": _sign(ZOHO_SECRET, body)}
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there: every connection attempt is refused
    try:
        outage = client.post("/webhooks/zoho/", data=body, content_type="application/json", **headers)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    assert outage.status_code == 503
    with django_capture_on_commit_callbacks(execute=True):
        retry = client.post("/webhooks/zoho/", data=body, content_type="application/json", **headers)
    assert retry.status_code == 200 and Message.objects.filter(external_msg_id=_mail(7)["messageId"]).exists()
