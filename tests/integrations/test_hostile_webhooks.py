"""A hostile sender at the webhook doors: odd header values and JSON that only Python reads.

Every delivery that passes the signature is kept (as failed, naming what is wrong, replayable)
and answered 4xx; none is answered 503, which the sender retries until it gives up: lost.
Signed deliveries through the Django test client, on Postgres.
"""

from __future__ import annotations

import json
import uuid

import pytest

from omnichannel.models import WebhookDelivery
from tests.integrations.test_hostile_input import SHOPIFY_SECRET, ZOHO_SECRET, _secrets, _sign  # noqa: F401 - _secrets: autouse

pytestmark = pytest.mark.django_db
CUSTOMER = json.dumps({"id": 7, "first_name": "Ada", "email": "ada@example.com"}).encode()


def shopify(client, body: bytes, *, topic: str = "customers/update", webhook_id: str = "", **meta):
    return client.post("/webhooks/shopify/", data=body, content_type="application/json",
                       HTTP_X_SHOPIFY_TOPIC=topic, HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id or str(uuid.uuid4()),
                       HTTP_X_SHOPIFY_HMAC_SHA256=_sign(SHOPIFY_SECRET, body), **meta)


def zoho(client, body: bytes, **meta):
    return client.post("/webhooks/zoho/", data=body, content_type="application/json",
                       HTTP_X_HOOK_SIGNATURE=_sign(ZOHO_SECRET, body), **meta)


def email(**overrides) -> bytes:
    data = {"messageId": 1764400000000000001, "folderId": "inbox", "subject": "Where is my order?",
            "fromAddress": "ada@example.com", "toAddress": "support@demo-shop.example",
            "receivedTime": "1764400000000", "html": "<p>Hi</p>"}
    data.update(overrides)
    return json.dumps(data).encode()


def kept_as_failed(response, reason: str) -> WebhookDelivery:
    assert response.status_code == 400, response.content
    assert reason in response.json()["error"]
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery_id"])
    assert delivery.status == "failed" and reason in delivery.last_error
    return delivery


@pytest.mark.parametrize(("header", "value"), [
    ("topic", "customers/update\x00"), ("topic", "customers/update\r\nX-Evil: 1"),
    ("webhook_id", "b1e8\x00c7"),
])
def test_a_control_character_in_the_topic_or_id_is_refused_naming_the_header_and_kept(client, header, value):
    response = shopify(client, CUSTOMER, **{header: value})
    name = {"topic": "X-Shopify-Topic", "webhook_id": "X-Shopify-Webhook-Id"}[header]
    delivery = kept_as_failed(response, f"header {name} holds a control character")
    assert bytes(delivery.body) == CUSTOMER
    assert "\x00" not in delivery.topic + delivery.external_id


@pytest.mark.parametrize("source", ["shopify", "zoho"])
def test_a_nul_in_a_kept_header_does_not_lose_the_delivery(client, source):
    meta = {"HTTP_USER_AGENT": "curl\x00/8", "HTTP_X_REQUEST_ID": "req\x00-1"}
    response = shopify(client, CUSTOMER, **meta) if source == "shopify" else zoho(client, email(), **meta)
    assert response.status_code == 200, response.content
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "received"
    assert delivery.headers["user-agent"] == "curl\ufffd/8" and delivery.headers["x-request-id"] == "req\ufffd-1"


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"id": NaN, "first_name": "Ada"}', "NaN is not a JSON number"),
    (b'{"id": 7, "first_name": "Ada", "total_spent": -Infinity}', "-Infinity is not a JSON number"),
    (b'{"id": 7, "first_name": "Ada", "total_spent": 1e999}', "the number 1e999 is too large"),
    (b'{"id": 7, "first_name": "\\ud800Ada"}', "surrogate"),
    (b'{"id": 7, "first_name": "Ada\\udfff"}', "surrogate"),
])
def test_json_only_python_reads_is_refused_by_shopify_and_kept(client, body, reason):
    kept_as_failed(shopify(client, body), reason)


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"messageId": float("nan")}, "NaN is not a JSON number"),
    ({"html": "<p>\ud83d</p>"}, "surrogate"),
    ({"messageId": [1]}, "'messageId' must be a string or an integer, not list"),
    ({"messageId": True}, "'messageId' must be a string or an integer, not bool"),
    ({"messageId": 1.5}, "'messageId' must be a string or an integer, not float"),
    ({"messageId": {"id": 1}}, "'messageId' must be a string or an integer, not dict"),
])
def test_a_zoho_message_no_mailbox_writes_is_refused_and_kept(client, overrides, reason):
    kept_as_failed(zoho(client, email(**overrides)), reason)


def test_escaped_emoji_and_large_ordinary_numbers_still_pass(client):
    body = json.dumps({"id": 7, "first_name": "Ada \U0001f600", "note": "\\ud800 as text",
                       "total_spent": 1e300, "orders_count": 10**30}).encode()  # ensure_ascii: a surrogate pair
    assert b"\\ud83d\\ude00" in body
    assert shopify(client, body).status_code == 200
    assert zoho(client, email(subject="Hi \U0001f600", messageId="1764400000000000002")).status_code == 200
    assert WebhookDelivery.objects.filter(status="received").count() == 2


def test_two_long_webhook_ids_sharing_their_first_200_characters_are_two_deliveries(client):
    """Cut to the column, the second was answered "duplicate" and never processed."""
    prefix = "gid://shopify/WebhookDelivery/" + "7" * 200
    body = json.dumps({"id": 7001, "first_name": "Ada", "email": "ada@example.com"}).encode()
    first = shopify(client, body, webhook_id=prefix + "-first")
    second = shopify(client, body, webhook_id=prefix + "-second")
    again = shopify(client, body, webhook_id=prefix + "-second")  # a real redelivery of the second
    assert [r.json()["status"] for r in (first, second, again)] == ["accepted", "accepted", "duplicate"]
    assert again.json()["delivery_id"] == second.json()["delivery_id"] != first.json()["delivery_id"]
    assert all(len(key) <= 200 and key.startswith("gid://shopify/WebhookDelivery/777")
               for key in WebhookDelivery.objects.values_list("external_id", flat=True))
