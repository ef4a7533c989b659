"""Shopify webhooks over the test client with real signatures, on Postgres."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import InventoryItem
from customers.models import Customer, Order
from omnichannel.models import WebhookDelivery
from tests.integrations.shopify.conftest import fixture

pytestmark = pytest.mark.django_db
SECRET, OLD_SECRET = "shpss_new_secret", "shpss_old_secret"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.SHOPIFY_WEBHOOK_SECRET = SECRET
    settings.SHOPIFY_WEBHOOK_SECRET_PREVIOUS = OLD_SECRET
    settings.SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL = timezone.now() + timedelta(hours=1)  # a rotation under way


def deliver(client, topic: str, payload, *, secret=SECRET, webhook_id=None, prefix="X-Shopify-", signature=None,
            capture=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sig = signature if signature is not None else base64.b64encode(
        hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {f"{prefix}Topic": topic, f"{prefix}Webhook-Id": webhook_id or str(uuid.uuid4()),
               f"{prefix}Shop-Domain": "demo-shop.myshopify.com", f"{prefix}API-Version": "2025-01"}
    if sig:
        headers[f"{prefix}Hmac-Sha256"] = sig
    return client.post("/webhooks/shopify/", data=body, content_type="application/json", headers=headers)


def _order(**changes) -> dict:
    return {**fixture("order__450789469.json")["order"], **changes}


def test_a_signed_order_webhook_upserts_the_order(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        shipped = [{**f, "status": "success"} for f in _order()["fulfillments"]]  # the sample's failed
        response = deliver(client, "orders/updated", _order(fulfillments=shipped))
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert Order.objects.get(shopify_id="450789469").tracking_numbers == ["1Z1234512345123456"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "processed" and delivery.topic == "orders/updated"
    assert delivery.headers["x-shopify-shop-domain"] == "demo-shop.myshopify.com"


@pytest.mark.parametrize("kwargs", [{"signature": "AAAA"}, {"signature": ""}, {"secret": "someone-else"}])
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(client, kwargs):
    assert deliver(client, "orders/updated", _order(), **kwargs).status_code == 401
    assert not WebhookDelivery.objects.exists() and not Order.objects.exists()


def test_the_previous_secret_is_accepted_during_a_rotation(client):
    assert deliver(client, "orders/updated", _order(), secret=OLD_SECRET).status_code == 200


def test_headers_without_the_x_prefix_and_in_lower_case_are_read(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "orders/updated", _order(), prefix="shopify-").status_code == 200
    assert WebhookDelivery.objects.get().topic == "orders/updated" and Order.objects.count() == 1


def test_a_duplicate_delivery_answers_200_and_does_nothing(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "orders/updated", _order(), webhook_id="wh-1")
        second = deliver(client, "orders/updated", _order(total_price="1.00"), webhook_id="wh-1")
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    assert Order.objects.get().total_price_cents == 59894 and WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize("arrival", ["older after newer", "newer after older"])
def test_out_of_order_updates_keep_the_newest_version(client, arrival, django_capture_on_commit_callbacks):
    newest = _order(updated_at="2026-11-20T10:00:00-05:00", financial_status="refunded", total_price="10.00")
    older = _order(updated_at="2026-11-19T10:00:00-05:00", financial_status="paid", total_price="598.94")
    with django_capture_on_commit_callbacks(execute=True):
        for version in ([newest, older] if arrival == "older after newer" else [older, newest]):
            assert deliver(client, "orders/updated", version).status_code == 200
    order = Order.objects.get()
    assert (order.status, order.total_price_cents) == ("refunded", 1000)
    assert order.source_updated_at.isoformat() == "2026-11-20T15:00:00+00:00"
    assert WebhookDelivery.objects.filter(status="processed").count() == 2


def test_an_unknown_topic_is_stored_and_acknowledged(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "carts/update", {"id": 1}).status_code == 200
    assert WebhookDelivery.objects.get().status == "ignored"


def test_malformed_json_is_kept_as_failed_and_answered_400(client):
    response = deliver(client, "orders/updated", b"{oops")
    assert response.status_code == 400
    assert WebhookDelivery.objects.get().status == "failed"


def test_wrong_types_fail_the_delivery_with_the_reason_and_write_nothing(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "orders/updated", _order(total_price={"amount": 1})).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "'total_price'" in delivery.last_error
    assert not Order.objects.exists()


def test_a_customer_webhook_turns_a_lead_into_the_shop_customer(client, django_capture_on_commit_callbacks):
    Customer.objects.create(email="bob.norman@hostmail.com", segment="lead")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/update", fixture("customer.json")["customer"])
    customer = Customer.objects.get()
    assert customer.shopify_id == "207119551" and customer.name == "Bob Norman"


def test_a_fulfillment_webhook_fetches_the_whole_order(client, fake_shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "fulfillments/create", {"id": 7001, "order_id": 5001, "status": "success"})
    order = Order.objects.get(shopify_id="5001")
    assert order.tracking_numbers == ["1Z999AA10123456784"] and order.status == "fulfilled"


def test_product_and_inventory_level_webhooks_update_stock(client, fake_shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "products/update", fixture("product.json")["product"])
        deliver(client, "inventory_levels/update", {"inventory_item_id": 9101, "location_id": 1, "available": 3,
                                                    "updated_at": "2026-11-24T10:00:00+00:00"})
    assert InventoryItem.objects.get(sku="IPOD2008PINK").price_cents == 19900
    assert not InventoryItem.objects.filter(shopify_id="9101").exists()  # unknown item: skipped, not invented
    assert WebhookDelivery.objects.filter(status="processed").count() == 2


def _level(available: int, location: int) -> dict:
    return {"inventory_item_id": 9101, "location_id": location, "available": available,
            "updated_at": "2026-11-24T10:00:00+00:00"}


@pytest.mark.parametrize("levels,total", [
    ([(3, 905684977), (4, 905684978)], 7),
    ([(5, 905684977), (-2, 905684978)], 3),   # oversold at one location: those units are owed
    ([(0, 905684977), (-2, 905684978)], 0),   # oversold overall: none to offer, not a negative stock
])
def test_an_inventory_level_webhook_sets_the_quantity_summed_over_locations(
        client, fake_shop, levels, total, django_capture_on_commit_callbacks):
    tent = fake_shop.resources["products"][0]  # the demo shop's tent: inventory item 9101, 14 in stock
    fake_shop.resources["inventory_levels"] = [_level(available, location) for available, location in levels]
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "products/update", tent)
    assert InventoryItem.objects.get(shopify_id="9101").quantity_available == 14
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "inventory_levels/update", _level(*levels[0]))
    assert InventoryItem.objects.get(shopify_id="9101").quantity_available == total
    assert WebhookDelivery.objects.filter(status="processed").count() == 2


def test_a_negative_line_item_quantity_fails_the_delivery_naming_the_field(client, django_capture_on_commit_callbacks):
    order = _order()
    order["line_items"] = [{**order["line_items"][0], "quantity": -1}]
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "orders/updated", order).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "'line_items.quantity' must not be negative" in delivery.last_error
    assert not Order.objects.exists()


def test_an_inventory_level_that_is_not_a_number_fails_the_delivery(client, fake_shop,
                                                                    django_capture_on_commit_callbacks):
    fake_shop.resources["inventory_levels"] = [{**_level(3, 1), "available": "3 units"}]
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "products/update", fake_shop.resources["products"][0])
        deliver(client, "inventory_levels/update", _level(3, 1))
    failed = WebhookDelivery.objects.get(topic="inventory_levels/update")
    assert failed.status == "failed" and "'inventory_levels.available' must be an integer" in failed.last_error
    assert InventoryItem.objects.get(shopify_id="9101").quantity_available == 14  # unchanged


def test_a_customer_the_model_refuses_fails_the_delivery_with_the_reason(client, django_capture_on_commit_callbacks):
    """An address Django's EmailField rejects: a ValidationError from the service, not our normalizer.
    The delivery must end failed with the reason (and be replayable), not stay `processing`."""
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "customers/update", {**fixture("customer.json")["customer"],
                                                    "email": "bob at hostmail"}).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error == "ValidationError: email: Enter a valid email address."
    assert not Customer.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_webhooks", "--source", "shopify", "--failed")
    assert WebhookDelivery.objects.get().attempts == 2  # replayed (and failed again, for the same reason)


@pytest.mark.parametrize("signature", ["caf\u00e9==", "\u2603" * 44])
def test_a_signature_with_non_ascii_characters_is_refused_with_401(client, signature):
    assert deliver(client, "orders/updated", _order(), signature=signature).status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_a_body_over_the_limit_is_answered_413_and_kept_as_failed(client, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_MAX_BODY_BYTES = 20_000  # the fixture order is about 19 kB
    big = _order(note="x" * 5000)
    response = deliver(client, "orders/updated", big, webhook_id="wh-big")
    assert response.status_code == 413
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.external_id, delivery.topic) == ("failed", "wh-big", "orders/updated")
    assert "exceeds the limit of 20000 bytes" in delivery.last_error and json.loads(bytes(delivery.body)) == big
    assert deliver(client, "orders/updated", big, webhook_id="wh-big").status_code == 413
    assert WebhookDelivery.objects.count() == 1  # Shopify's retry of it: the same row
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_webhooks", "--source", "shopify", "--failed")
    assert WebhookDelivery.objects.get().status == "processed" and Order.objects.count() == 1


def test_an_oversized_body_with_a_bad_signature_stores_nothing(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 20_000
    assert deliver(client, "orders/updated", _order(note="x" * 5000), secret="someone-else").status_code == 401
    assert not WebhookDelivery.objects.exists()
