"""Every real Shopify resource fixture through its normalizer, rows asserted field by field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.models import InventoryItem
from customers.models import Customer, Order
from customers.services import customer_upsert, order_upsert
from integrations.shopify import ingest
from omnichannel.errors import InvalidPayload
from tests.integrations.shopify.conftest import fixture

pytestmark = pytest.mark.django_db


def _shipped(order: dict) -> dict:
    """Shopify's sample order with its fulfillment succeeded (in the sample it failed)."""
    return {**order, "fulfillments": [{**f, "status": "success"} for f in order["fulfillments"]]}


def test_order_450789469_keeps_tracking_carrier_skus_refund_and_customer():
    customer_upsert(facts=ingest.customer_facts(fixture("customers__list.json")["customers"][0]))
    order, outcome = order_upsert(facts=ingest.order_facts(_shipped(fixture("order__450789469.json")["order"])))
    assert outcome == "created"
    order = Order.objects.get(shopify_id="450789469")
    assert order.name == "#1001" and order.status == "partially_refunded"
    assert order.tracking == [{"number": "1Z1234512345123456", "company": "USPS",
                               "url": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=1Z1234512345123456"}]
    assert order.tracking_numbers == ["1Z1234512345123456"]
    assert [li["sku"] for li in order.line_items] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert order.refunds[0]["id"] == "509562969" and order.refunds[0]["amount_cents"] == 20900
    assert order.refunds[0]["note"] == "it broke during shipping"
    assert order.total_price_cents == 59894 and order.currency == "USD"
    assert order.customer == Customer.objects.get(shopify_id="207119551")
    assert order.email == "bob.norman@mail.example.com"
    assert order.source_updated_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", ["failure", "error", "cancelled"])
def test_a_fulfillment_that_shipped_nothing_gives_no_tracking_number(status):
    order = fixture("order__450789469.json")["order"]
    assert order["fulfillments"][0]["status"] == "failure"  # as Shopify's sample has it
    failed = {**order, "fulfillments": [{**f, "status": status} for f in order["fulfillments"]]}
    assert ingest.order_facts(failed).tracking == []
    assert ingest.order_facts(_shipped(order)).tracking[0]["number"] == "1Z1234512345123456"


def test_customer_fixtures_normalize_to_customers():
    for data in [fixture("customer.json")["customer"], *fixture("customers_search.json")["customers"],
                 *fixture("customers__list.json")["customers"]]:
        facts = ingest.customer_facts(data)
        assert facts.shopify_id == str(data["id"]) and "@" in facts.email
    customer, _ = customer_upsert(facts=ingest.customer_facts(fixture("customer.json")["customer"]))
    assert customer.name == "Bob Norman" and customer.orders_count == 1 and customer.segment == "new"


def test_a_guest_checkout_keeps_the_order_email_and_no_customer():
    data = dict(fixture("orders.json")["orders"][0])
    data.pop("customer")
    order, _ = order_upsert(facts=ingest.order_facts(data))
    assert order.customer is None and order.email == "bob.norman@hostmail.com"


def test_product_variants_become_inventory_items_in_cents():
    facts = ingest.product_inventory_facts(fixture("product.json")["product"])
    assert [(f.sku, f.quantity_available, f.price_cents) for f in facts][:2] == [
        ("IPOD2008PINK", 10, 19900), ("IPOD2008RED", 20, 19900)]


def test_inventory_item_and_level_fixtures():
    item = ingest.inventory_item_facts(fixture("inventory_item.json")["inventory_item"])
    assert (item.sku, item.shopify_id, item.tracked) == ("IPOD2008PINK", "808950810", True)
    level = fixture("inventory_level.json")["inventory_level"]  # 6 available at one location
    # Oversold by 2 at another location: owed units, subtracted as Shopify does; below zero means none.
    assert ingest.inventory_level_total([level, {**level, "location_id": 2, "available": -2}]) == 4
    assert ingest.inventory_level_total([{**level, "available": -2}]) == 0
    assert ingest.inventory_level_total([{**level, "available": None}]) == 0  # an untracked item


def test_fulfillment_and_refund_fixtures_feed_the_order():
    order = dict(fixture("orders.json")["orders"][0])
    order["fulfillments"] = [fixture("fulfillment.json")["fulfillment"]]
    order["refunds"] = [fixture("refund.json")["refund"]]
    facts = ingest.order_facts(order)
    assert facts.tracking[0]["number"] == "1Z2345"
    assert facts.refunds[0]["id"] == "509562969"


def test_a_paid_unshipped_order_waiting_for_an_out_of_stock_item_is_backordered():
    InventoryItem.objects.create(sku="IPOD2008GREEN", quantity_available=0)
    data = dict(fixture("order__450789469.json")["order"], financial_status="paid", fulfillment_status=None)
    assert ingest.order_facts(data).status == "backordered"


def test_a_paid_unshipped_order_for_an_item_of_unknown_stock_is_not_backordered():
    InventoryItem.objects.create(sku="IPOD2008GREEN", quantity_available=None)  # Shopify has not stated it
    data = dict(fixture("order__450789469.json")["order"], financial_status="paid", fulfillment_status=None)
    assert ingest.order_facts(data).status == "paid"


@pytest.mark.parametrize("change,reason", [
    ({"id": None}, "'id' is required"),
    ({"id": "abc"}, "'id' must be a numeric id"),
    ({"total_price": "lots"}, "'total_price' is not a decimal amount"),
    ({"total_price": "-5.00"}, "'total_price' must not be negative"),
    ({"updated_at": "last tuesday"}, "'updated_at' is not an ISO 8601 time"),
    ({"line_items": [{"sku": "X", "quantity": "two"}]}, "'line_items.quantity' must be an integer"),
    ({"line_items": [{"sku": "X", "quantity": -1}]}, "'line_items.quantity' must not be negative"),
])
def test_bad_fields_are_refused_by_name(change, reason):
    with pytest.raises(InvalidPayload, match=reason):
        ingest.order_facts({**fixture("order__450789469.json")["order"], **change})
