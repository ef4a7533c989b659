"""Shopify's mandatory privacy webhooks act: customers/redact erases, customers/data_request exports
(downloaded by Ops from the admin), shop/redact erases the shop's customers. The bodies are the
shapes Shopify documents (fixtures/customers__redact.json and co., see fixtures/SOURCES.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from conversations.models import Message
from customers import services_erasure
from customers.models import Customer, DataRequest, Order
from customers.services import CustomerFacts, OrderFacts, customer_get_or_create_lead, customer_upsert, order_upsert
from integrations.shopify.events import shopify_app_uninstalled_mark
from omnichannel.blobstore import blob_get
from omnichannel.models import AuditLog, WebhookDelivery
from tests.builders import make_inbound_message
from tests.integrations.shopify.conftest import fixture
from tests.pii_scan import anywhere_holding

pytestmark = pytest.mark.django_db
SECRET = "shpss_privacy_secret"
JOHN = ("john@example.com", "Quixley", "555-625-1199")


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.SHOPIFY_WEBHOOK_SECRET = SECRET


def deliver(client, topic: str, payload: dict) -> WebhookDelivery:
    body = json.dumps(payload).encode()
    response = client.post("/webhooks/shopify/", data=body, content_type="application/json", headers={
        "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()})
    assert response.status_code == 200, response.content
    return WebhookDelivery.objects.get(pk=response.json()["delivery_id"])


def _at(day: int) -> datetime:
    return datetime(2026, 11, day, 10, 0, tzinfo=UTC)


@pytest.fixture
def john(django_capture_on_commit_callbacks):
    """Shopify's sample customer 191167 with two of the orders the requests name, one a guest checkout
    under another address, and an email he sent us."""
    with django_capture_on_commit_callbacks(execute=True):
        customer, _ = customer_upsert(facts=CustomerFacts(
            shopify_id="191167", email="john@example.com", name="John Quixley", phone="555-625-1199", orders_count=2,
            shipping_addresses=[{"name": "John Quixley", "address1": "1 Elm Row"}], source_updated_at=_at(1)))
        order_upsert(facts=OrderFacts(shopify_id="299938", name="#2001", customer_shopify_id="191167",
                                      email="john@example.com", total_price_cents=4200,
                                      shipping_address={"name": "John Quixley"}, source_updated_at=_at(2)))
        order_upsert(facts=OrderFacts(shopify_id="280263", name="#2002", email="jq.gifts@example.org",
                                      total_price_cents=1900, shipping_address={"name": "J. Quixley"},
                                      source_updated_at=_at(3)))
        make_inbound_message(email="john@example.com", subject="My order #2001",
                             body="Hi, where is it? John Quixley, 555-625-1199")
    return customer


def test_customers_redact_erases_the_customer_and_every_order_it_names(client, john, django_capture_on_commit_callbacks):
    assert {"customers: john@example.com", "orders: Quixley", "messages: 555-625-1199"} <= set(anywhere_holding(*JOHN))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = deliver(client, "customers/redact", fixture("customers__redact.json"))
    assert anywhere_holding(*JOHN, "jq.gifts@example.org") == []
    john.refresh_from_db()
    assert john.is_erased and john.name == ""
    assert set(Order.objects.filter(is_erased=True).values_list("shopify_id", flat=True)) == {"299938", "280263"}
    delivery.refresh_from_db()
    assert delivery.status == "processed" and delivery.is_erased  # the request itself named him
    event = AuditLog.objects.get(event_type="customer.erased")
    assert event.actor == "integration:shopify" and event.payload["orders"] == 2
    # Shopify retries until it gets a 2xx: a second delivery finds him erased and changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        again = deliver(client, "customers/redact", fixture("customers__redact.json"))
    again.refresh_from_db()
    assert again.status == "processed" and again.is_erased and anywhere_holding(*JOHN) == []


def _staff(group: str, name: str):
    user = get_user_model().objects.create_user(username=name, password="pw-123456789", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_customers_data_request_writes_an_export_that_only_ops_download(client, john, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/data_request", fixture("customers__data_request.json"))
    request = DataRequest.objects.get()
    assert (request.external_id, request.customer_id, request.status) == ("9999", john.pk, "ready")
    assert request.counts == {"customers": 1, "orders": 2, "conversations": 1, "messages": 1, "product_requests": 0}
    assert b"john@example.com" not in blob_get(request.blob_key)  # encrypted at rest
    download = reverse("admin:customers_datarequest_download", args=[request.pk])

    client.force_login(_staff("Agents", "privacy-agent"))
    assert client.get(reverse("admin:customers_datarequest_changelist")).status_code == 403
    assert client.get(download).status_code == 403

    ops = _staff("Ops", "privacy-ops")
    client.force_login(ops)
    listing = client.get(reverse("admin:customers_datarequest_changelist"))
    assert listing.status_code == 200 and download in listing.content.decode()
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="data-request-9999.json"'
    export = json.loads(response.content)
    assert export["customers"][0]["email"] == "john@example.com" and export["customers"][0]["phone"] == "555-625-1199"
    assert {o["shopify_id"] for o in export["orders"]} == {"299938", "280263"}
    assert "555-625-1199" in export["conversations"][0]["messages"][0]["body"]
    assert AuditLog.objects.get(event_type="data_request.downloaded").actor_user == ops
    # A redelivery is the same request.
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customers/data_request", fixture("customers__data_request.json"))
    assert DataRequest.objects.count() == 1


@pytest.fixture
def shop(settings, john, django_capture_on_commit_callbacks):
    settings.SHOPIFY_SHOP_DOMAIN = "{shop}.myshopify.com"  # the shop the documented body names
    with django_capture_on_commit_callbacks(execute=True):
        customer_upsert(facts=CustomerFacts(shopify_id="191168", email="mary@example.com", name="Mary Quarrender",
                                            source_updated_at=_at(1)))
        # Someone who only ever wrote to the support inbox: not the shop's data.
        lead, _ = customer_get_or_create_lead(email="inbox.only@example.net", name="Ivo Inbox")
    return lead


def test_shop_redact_erases_every_customer_the_shop_gave_us_but_not_the_inbox_only_leads(
        client, shop, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services_erasure, "SHOP_ERASURE_BATCH", 1)  # one per run: the task queues itself again
    shopify_app_uninstalled_mark(shop="{shop}.myshopify.com", uninstalled_at=_at(20))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = deliver(client, "shop/redact", fixture("shop__redact.json"))
    delivery.refresh_from_db()
    assert delivery.status == "processed"
    assert anywhere_holding(*JOHN, "mary@example.com", "Quarrender", "jq.gifts@example.org") == []
    assert not Customer.objects.filter(shopify_id__isnull=False, is_erased=False).exists()
    assert not Order.objects.filter(is_erased=False).exists()
    shop.refresh_from_db()
    assert not shop.is_erased and shop.name == "Ivo Inbox"
    assert AuditLog.objects.get(event_type="shop.erased").payload == {"customers": 2, "guests": 1, "orders": 0}
    assert AuditLog.objects.filter(event_type="customer.erased").count() == 3


@pytest.mark.parametrize("case", ["installed", "another shop"])
def test_shop_redact_erases_nothing_while_the_app_is_installed_or_for_another_shop(
        client, shop, settings, case, django_capture_on_commit_callbacks):
    if case == "another shop":
        settings.SHOPIFY_SHOP_DOMAIN = "demo-shop.myshopify.com"
        shopify_app_uninstalled_mark(shop="demo-shop.myshopify.com", uninstalled_at=_at(20))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "shop/redact", fixture("shop__redact.json"))
    assert not Customer.objects.filter(is_erased=True).exists() and not Order.objects.filter(is_erased=True).exists()
    assert Message.objects.filter(from_address="john@example.com").exists()
