"""Lifecycle topics (products/delete, customers/delete, app/uninstalled) through the signed webhook, on Postgres."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid

import pytest
from django.core.management import CommandError, call_command

from assistants.context import context_build, email_in
from catalog.models import InventoryItem
from customers.models import Customer, Order
from integrations.models import ShopifyCursor
from integrations.shopify.backfill import backfill_run
from integrations.shopify.client import ShopifyClient
from integrations.shopify.events import shopify_app_install_reset
from omnichannel.errors import StateConflict
from omnichannel.models import AuditLog, WebhookDelivery
from tests.integrations.shopify.conftest import fixture

pytestmark = pytest.mark.django_db
SECRET = "shpss_lifecycle_secret"
PRODUCT_ID = "632910392"
PINK = "IPOD2008PINK"
ASKED = "Hello, is the IPod Nano - 8GB (Pink) in stock? I would like to order one."


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.SHOPIFY_WEBHOOK_SECRET = SECRET
    settings.SHOPIFY_WEBHOOK_SECRET_PREVIOUS = ""


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Sign and POST like Shopify (X-Shopify-Triggered-At when given), then run the on-commit processing."""

    def _deliver(topic: str, payload: dict, *, triggered_at: str | None = None, webhook_id: str | None = None):
        body = json.dumps(payload).encode()
        headers = {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
                   "X-Shopify-Shop-Domain": "demo-shop.myshopify.com", "X-Shopify-API-Version": "2025-01",
                   "X-Shopify-Hmac-Sha256": base64.b64encode(
                       hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()}
        if triggered_at:
            headers["X-Shopify-Triggered-At"] = triggered_at
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/webhooks/shopify/", data=body, content_type="application/json", headers=headers)
        assert response.status_code == 200, response.content
        return WebhookDelivery.objects.get(external_id=headers["X-Shopify-Webhook-Id"])

    return _deliver


def _product(updated_at: str = "2011-10-20T14:05:13-04:00") -> dict:
    product = fixture("product.json")["product"]
    return {**product, "updated_at": updated_at,
            "variants": [{**v, "updated_at": updated_at} for v in product["variants"]]}


def _offered_skus() -> list[str]:
    ctx = context_build(email=email_in(from_address="someone@example.com", subject="Stock?", body=ASKED))
    return [source.facts["sku"] for source in ctx.inventory]


def test_a_deleted_product_is_kept_but_no_longer_offered_as_in_stock(deliver):
    deliver("products/create", _product())
    assert PINK in _offered_skus()  # the question does match the product while it is sold

    delivery = deliver("products/delete", {"id": int(PRODUCT_ID)}, triggered_at="2011-10-21T09:00:00Z")

    assert delivery.status == "processed"
    items = InventoryItem.objects.filter(product_id=PRODUCT_ID)
    assert items.count() == 4 and all(i.deleted_at.isoformat() == "2011-10-21T09:00:00+00:00" for i in items)
    assert InventoryItem.objects.get(sku=PINK).quantity_available == 10  # the row is kept as it was
    assert PINK not in _offered_skus() and _offered_skus() == []
    audit = AuditLog.objects.get(event_type="inventory.product_deleted")
    assert audit.payload["product_id"] == PRODUCT_ID and sorted(audit.payload["marked"]) == sorted(
        i.sku for i in items)


def test_a_delete_without_triggered_at_uses_the_time_it_was_received(deliver):
    deliver("products/create", _product())
    delivery = deliver("products/delete", {"id": int(PRODUCT_ID)})
    assert InventoryItem.objects.get(sku=PINK).deleted_at == delivery.received_at


@pytest.mark.parametrize(("updated_at", "reactivated"), [
    ("2011-10-22T10:00:00Z", True),   # the product came back after the deletion
    ("2011-10-20T19:00:00Z", False),  # a late retry of a version older than the deletion
])
def test_only_a_product_version_newer_than_the_delete_reactivates_it(deliver, updated_at, reactivated):
    deliver("products/create", _product("2011-10-20T14:05:13-04:00"))
    deliver("products/delete", {"id": int(PRODUCT_ID)}, triggered_at="2011-10-21T09:00:00Z")

    deliver("products/update", _product(updated_at))

    item = InventoryItem.objects.get(sku=PINK)
    assert (item.deleted_at is None) is reactivated
    assert (PINK in _offered_skus()) is reactivated


def test_a_backfill_page_newer_than_the_delete_reactivates_in_bulk(deliver):
    from catalog.services import inventory_items_bulk_upsert
    from integrations.shopify import ingest

    deliver("products/create", _product())
    deliver("products/delete", {"id": int(PRODUCT_ID)}, triggered_at="2011-10-21T09:00:00Z")
    inventory_items_bulk_upsert(facts_list=ingest.product_inventory_facts(_product("2011-10-23T00:00:00Z")))
    assert not InventoryItem.objects.filter(product_id=PRODUCT_ID, deleted_at__isnull=False).exists()
    assert AuditLog.objects.filter(event_type="inventory.bulk_upserted").latest("pk").payload["reactivated"] == 4


def test_a_delete_older_than_the_version_we_hold_is_left_alone(deliver):
    deliver("products/create", _product("2011-10-22T10:00:00Z"))
    deliver("products/delete", {"id": int(PRODUCT_ID)}, triggered_at="2011-10-21T09:00:00Z")
    assert not InventoryItem.objects.filter(deleted_at__isnull=False).exists()
    assert len(AuditLog.objects.get(event_type="inventory.product_deleted").payload["kept_newer"]) == 4


def test_a_delete_with_no_id_is_kept_as_failed_for_replay(deliver):
    delivery = deliver("products/delete", {"title": "no id"})
    assert delivery.status == "failed" and "'id' is required" in delivery.last_error


def test_a_deleted_customer_is_marked_and_keeps_history_and_pii(deliver):
    deliver("customers/create", fixture("customer.json")["customer"])
    deliver("orders/create", fixture("order__450789469.json")["order"])
    customer = Customer.objects.get(shopify_id="207119551")
    orders_before = Order.objects.filter(customer=customer).count()
    pii_before = (customer.email, customer.name, customer.phone, customer.shipping_addresses)

    first = deliver("customers/delete", {"id": 207119551}, triggered_at="2026-11-20T10:00:00Z")
    again = deliver("customers/delete", {"id": 207119551}, triggered_at="2026-11-20T10:00:00Z")  # a redelivery

    customer.refresh_from_db()
    assert first.status == again.status == "processed"
    assert customer.shopify_deleted_at.isoformat() == "2026-11-20T10:00:00+00:00"
    # Only a mark: the PII stays (erasure is a separate request) and so does the order history.
    assert (customer.email, customer.name, customer.phone, customer.shipping_addresses) == pii_before
    assert customer.email and not customer.is_erased
    assert orders_before >= 1 and Order.objects.filter(customer=customer).count() == orders_before
    outcomes = [a.payload["outcome"] for a in AuditLog.objects.filter(event_type="customer.deleted_in_shop")
                .order_by("pk")]
    assert outcomes == ["marked", "already"]


def test_deleting_a_customer_we_never_synced_creates_nothing(deliver):
    delivery = deliver("customers/delete", {"id": 999111})
    assert delivery.status == "processed" and not Customer.objects.exists()
    assert AuditLog.objects.get(event_type="customer.deleted_in_shop").payload["outcome"] == "unknown"


def _uninstall(deliver, at="2026-11-20T10:00:00Z"):
    return deliver("app/uninstalled", {"id": 548380009, "name": "Demo", "domain": "shop.example.com",
                                       "myshopify_domain": "demo-shop.myshopify.com"}, triggered_at=at)


def test_an_uninstall_is_recorded_and_refuses_the_backfill_until_reset(deliver, fake_shop, caplog):
    fake_shop.installed = False  # the uninstall is confirmed: our token is revoked (shop.json answers 401)
    with caplog.at_level(logging.WARNING, logger="integrations.shopify.events"):
        assert _uninstall(deliver).status == "processed"
    assert any("uninstalled from demo-shop.myshopify.com" in r.getMessage() for r in caplog.records)
    assert AuditLog.objects.get(event_type="shopify.app_uninstalled").payload["shop"] == "demo-shop.myshopify.com"
    state = ShopifyCursor.objects.get(resource="app")
    assert state.last_run_status == "uninstalled"

    with pytest.raises(StateConflict, match="uninstalled at 2026-11-20T10:00:00.*backfill is refused"):
        backfill_run(resources=["customers"], client=ShopifyClient.from_settings())
    with pytest.raises(CommandError, match="shopify_app_install_reset"):  # one clear line, no traceback
        call_command("shopify_backfill", "--resource", "customers")
    # The shop was asked once per refusal whether the token works again (GET shop.json), nothing else.
    assert {path for _, path in fake_shop.requests} == {"/admin/api/2025-01/shop.json"}

    fake_shop.installed = True
    assert shopify_app_install_reset(reason="reinstalled by hand") is True
    assert backfill_run(resources=["customers"], client=ShopifyClient.from_settings())["customers"]["pages"] >= 1
    assert AuditLog.objects.get(event_type="shopify.app_install_reset").payload["reason"] == "reinstalled by hand"


def test_a_delivery_triggered_after_the_uninstall_means_a_reinstall(deliver, fake_shop):
    fake_shop.installed = False
    _uninstall(deliver, at="2026-11-20T10:00:00Z")
    # A late retry of an event from before the uninstall proves nothing.
    deliver("customers/update", fixture("customer.json")["customer"], triggered_at="2026-11-20T09:59:00Z")
    assert ShopifyCursor.objects.get(resource="app").last_run_status == "uninstalled"

    deliver("customers/update", fixture("customer.json")["customer"], triggered_at="2026-11-20T11:00:00Z")
    assert ShopifyCursor.objects.get(resource="app").last_run_status == "installed"
    # An old uninstall replayed after the reinstall does not mark it again.
    _uninstall(deliver, at="2026-11-20T10:00:00Z")
    assert ShopifyCursor.objects.get(resource="app").last_run_status == "installed"
