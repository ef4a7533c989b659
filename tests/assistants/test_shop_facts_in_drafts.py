"""What a draft says about an order's state and an item's stock is what Shopify stated, nothing more.

The shop facts arrive as shared real Shopify payloads, stored and processed as webhook deliveries,
then a customer's email is drafted by the offline grounded drafter.
"""

from __future__ import annotations

import json
import uuid

import pytest

from assistants.context import email_in
from assistants.services import draft_compose, draft_generate
from catalog.models import InventoryItem, ProductRequest
from customers.models import Order
from integrations.shopify.events import process_shopify_event
from omnichannel.webhook_deliveries import webhook_delivery_store
from tests.builders import make_inbound_message
from tests.integrations.shopify.conftest import fixture

pytestmark = pytest.mark.django_db

# Shopify's sample order 450789469 (#1001): financial_status "partially_refunded", fulfillment_status
# null, and its only fulfillment has status "failure". Partly refunded; nothing shipped.
SAMPLE_ORDER = "shared/app-js__order__test_8__GET_orders_450789469__response.json"
# Shopify's example products/update body: a T-Shirt whose variant carries no inventory_quantity.
PRODUCT_WITHOUT_STOCK = "shared/dev-docs__delivery-structure_example_payload_products_update.json"


def _process(topic: str, payload: dict) -> str:
    delivery, _ = webhook_delivery_store(source="shopify", topic=topic, external_id=str(uuid.uuid4()),
                                         headers={"x-shopify-topic": topic}, body=json.dumps(payload).encode())
    return process_shopify_event(delivery.pk)


def _draft(sender: str, subject: str, body: str):
    return draft_compose(email=email_in(from_address=sender, subject=subject, body=body), provider="grounded")


@pytest.fixture
def sample_order() -> Order:
    assert _process("orders/updated", fixture(SAMPLE_ORDER)["order"]) == "created"
    return Order.objects.get(shopify_id="450789469")


def test_the_partly_refunded_sample_order_that_shipped_nothing_is_not_said_to_have_shipped(sample_order):
    assert (sample_order.status, sample_order.financial_status, sample_order.fulfillment_status) == (
        "partially_refunded", "partially_refunded", "")
    outcome = _draft(sample_order.email, "Order #1001", "Hello, has my order #1001 shipped yet?")
    assert outcome.intent.intent == "order_status"
    body = outcome.result.body
    assert "Your order #1001 was partly refunded and has not shipped yet." in body
    assert "has shipped" not in body and "1Z1234512345123456" not in body  # the failed fulfillment's number
    assert outcome.context.referenced_order.facts["shipped"] is False  # what an LLM provider is given


def test_an_address_change_for_the_sample_order_is_offered_since_nothing_shipped(sample_order):
    outcome = _draft(sample_order.email, "New address for #1001",
                     "Hi, I moved. Can you change the shipping address of order #1001 to my new address?")
    assert outcome.intent.intent == "address_change"
    assert "#1001 has not shipped yet, so we can still change the address" in outcome.result.body
    assert "already shipped" not in outcome.result.body


def test_the_sample_order_once_fulfilled_is_said_to_be_partly_refunded_and_shipped(sample_order):
    order = fixture(SAMPLE_ORDER)["order"]
    shipped = {**order, "fulfillment_status": "fulfilled", "updated_at": "2008-01-11T11:00:00-05:00",
               "fulfillments": [{**f, "status": "success"} for f in order["fulfillments"]]}
    assert _process("orders/fulfilled", shipped) == "updated"
    body = _draft(sample_order.email, "Order #1001", "Hello, has my order #1001 shipped yet?").result.body
    assert "Your order #1001 was partly refunded and has shipped." in body and "1Z1234512345123456" in body


def test_a_product_update_without_inventory_quantity_stores_unknown_stock_and_the_draft_checks_it():
    assert _process("products/update", fixture(PRODUCT_WITHOUT_STOCK)) == "created"
    item = InventoryItem.objects.get(sku="TSHIRT-001")
    assert item.quantity_available is None and item.price_cents == 2999

    outcome = _draft("someone@example.com", "T-Shirt", "Hi, is the T-Shirt in stock?")
    assert outcome.intent.intent == "availability"
    assert "I am checking the stock of the T-Shirt" in outcome.result.body
    assert "out of stock" not in outcome.result.body and "stock" in outcome.result.notes["missing"]


def test_unknown_stock_is_not_counted_as_demand_for_an_out_of_stock_item():
    _process("products/update", fixture(PRODUCT_WITHOUT_STOCK))
    message = make_inbound_message(email="someone@example.com", subject="T-Shirt", body="Hi, is the T-Shirt in stock?")
    outcome = draft_generate(message_id=message.pk)
    assert outcome.intent.intent == "availability" and outcome.draft is not None
    assert not ProductRequest.objects.exists()


def test_a_later_product_update_without_inventory_quantity_keeps_the_stated_stock():
    product = fixture(PRODUCT_WITHOUT_STOCK)
    stated = {**product, "variants": [{**v, "inventory_quantity": 7} for v in product["variants"]]}
    assert _process("products/update", stated) == "created"
    later = {**product, "updated_at": "2025-04-23T09:00:00-05:00",
             "variants": [{**v, "updated_at": "2025-04-23T09:00:00-05:00", "price": "24.99"} for v in product["variants"]]}
    assert _process("products/update", later) == "updated"
    item = InventoryItem.objects.get(sku="TSHIRT-001")
    assert (item.quantity_available, item.price_cents) == (7, 2499)
