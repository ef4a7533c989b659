"""Every published Shopify payload in fixtures/shared/ through its normalizer, field by field.

The expected facts are computed here from the raw payload (money through Decimal, times through
datetime.fromisoformat), following the mapping each normalizer documents, and compared whole:
a dataclass comparison fails on any field, and pytest names the fields that differ.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from decimal import Decimal

import pytest

from catalog.services import InventoryFacts
from customers.models import Customer, Order
from customers.services import CustomerFacts, OrderFacts, customer_upsert, order_upsert
from integrations.shopify import ingest
from tests.integrations.shopify.conftest import FIXTURES

pytestmark = pytest.mark.django_db

SHARED = FIXTURES / "shared"

ORDERS = ["app-js__order__test_1__GET_orders__response.json", "app-js__order__test_8__GET_orders_450789469__response.json",
          "python_api__order.json", "python_api__orders.json"]
CUSTOMERS = ["app-js__customer__test_4__GET_customers__response.json",
             "app-js__customer__test_6__GET_customers_search__response.json",
             "app-js__customer__test_12__GET_customers_207119551__response.json",
             "python_api__customer.json", "python_api__customers_search.json", "ruby_legacy__customers.json"]
PRODUCTS = ["app-js__product__test_9__GET_products_632910392__response.json", "python_api__product.json",
            "dev-docs__delivery-structure_example_payload_products_update.json"]
VARIANTS = ["app-js__variant__test_1__GET_products_632910392_variants__response.json",
            "app-js__variant__test_8__GET_variants_808950810__response.json",
            "python_api__variant.json", "python_api__variants.json"]
INVENTORY_ITEMS = ["app-js__inventory_item__test_1__GET_inventory_items__response.json",
                   "app-js__inventory_item__test_2__GET_inventory_items_808950810__response.json",
                   "python_api__inventory_item.json"]
INVENTORY_LEVELS = ["app-js__inventory_level__test_1__GET_inventory_levels__response.json",
                    "app-js__inventory_level__test_4__POST_inventory_levels_adjust__response.json",
                    "app-js__inventory_level__test_7__POST_inventory_levels_set__response.json",
                    "python_api__inventory_level.json", "python_api__inventory_levels.json",
                    "python_api__location_inventory_levels.json"]
FULFILLMENTS = ["app-js__fulfillment__test_1__GET_orders_450789469_fulfillments__response.json",
                "app-js__fulfillment__test_6__POST_fulfillments__response.json",
                "app-js__fulfillment__test_11__POST_fulfillments_1069019869_update_tracking__response.json",
                "python_api__fulfillment.json", "ruby_legacy__fulfillments.json"]
REFUNDS = ["app-js__refund__test_1__GET_orders_450789469_refunds__response.json", "python_api__refund.json"]

# python_api's test/variant_test.py serves variant(s).json, which name no product, for products/632910392/variants.
VARIANTS_PRODUCT_ID = 632910392


def objects(name: str, resource: str) -> list[dict]:
    """The resources a file holds: {"orders": [...]}, {"order": {...}}, a bare array, or a bare webhook body."""
    payload = json.loads((SHARED / name).read_text())
    if isinstance(payload, list):
        found = payload
    elif f"{resource}s" in payload:
        found = payload[f"{resource}s"]
    elif resource in payload:
        found = [payload[resource]]
    else:
        found = [payload]
    assert found and all(isinstance(o, dict) for o in found), f"no {resource} in {name}"
    return found


def cents(amount) -> int:
    return round(Decimal(amount) * 100) if amount not in (None, "") else 0  # absent money is 0


def at(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, value  # every Shopify time carries its offset
    return parsed


def address(raw: dict | None) -> dict:
    return {k: (raw or {}).get(k) or "" for k in ("name", "address1", "address2", "city", "province", "zip", "country")}


def expected_customer(c: dict) -> CustomerFacts:
    spent, orders = cents(c.get("total_spent")), c.get("orders_count") or 0
    # Segment: $1,000 spent makes a VIP, more than one order a returning customer, none at all a lead.
    segment = "vip" if spent >= 100_000 else "returning" if orders > 1 else "new" if orders else "lead"
    addresses = c.get("addresses") or ([c["default_address"]] if c.get("default_address") else [])
    return CustomerFacts(
        shopify_id=str(c["id"]), email=c.get("email") or "",  # kept as sent: customer_upsert lower-cases it
        name=" ".join(filter(None, [c.get("first_name"), c.get("last_name")])), phone=c.get("phone") or "",
        lifetime_value_cents=spent, currency=c.get("currency") or "USD", orders_count=orders, segment=segment,
        shipping_addresses=[address(a) for a in addresses], tags=(c.get("tags") or "")[:500],
        source_updated_at=at(c["updated_at"]),
    )


def expected_tracking(fulfillments: list[dict]) -> list[dict]:
    tracking = []
    for f in fulfillments:
        if f.get("status") in ("cancelled", "failure", "error"):  # nothing shipped: its numbers lead nowhere
            continue
        numbers = f.get("tracking_numbers") or ([f["tracking_number"]] if f.get("tracking_number") else [])
        urls = f.get("tracking_urls") or ([f["tracking_url"]] if f.get("tracking_url") else [])
        tracking += [{"number": n, "company": f.get("tracking_company") or "", "url": urls[i] if i < len(urls) else ""}
                     for i, n in enumerate(numbers)]
    return tracking


def expected_refund(r: dict) -> dict:
    # What was paid back: the refund's successful "refund" transactions.
    amount = sum(cents(t["amount"]) for t in r.get("transactions", [])
                 if t.get("kind", "refund") == "refund" and t.get("status") != "failure")
    return {"id": str(r["id"]), "amount_cents": amount, "created_at": r.get("created_at") or "", "note": r.get("note") or ""}


def expected_status(o: dict) -> str:
    financial, fulfillment = o.get("financial_status"), o.get("fulfillment_status")
    if o.get("cancelled_at"):
        return "cancelled"
    if financial in ("refunded", "partially_refunded"):
        return financial
    if fulfillment in ("fulfilled", "partial"):
        return {"fulfilled": "fulfilled", "partial": "partially_fulfilled"}[fulfillment]
    if financial in ("paid", "partially_paid", "authorized"):
        return "paid"  # not "backordered": no stock row exists in these tests, so no sku is out of stock
    return "pending"


def expected_order(o: dict) -> OrderFacts:
    return OrderFacts(
        shopify_id=str(o["id"]), name=o.get("name") or "",
        customer_shopify_id=str(o["customer"]["id"]) if o.get("customer") else None,
        email=o.get("email") or o.get("contact_email") or "", status=expected_status(o),
        financial_status=o.get("financial_status") or "", fulfillment_status=o.get("fulfillment_status") or "",
        tracking=expected_tracking(o.get("fulfillments", [])),
        line_items=[{"sku": li.get("sku") or "", "title": li.get("name") or li.get("title") or "",
                     "quantity": li["quantity"], "price_cents": cents(li["price"])} for li in o.get("line_items", [])],
        refunds=[expected_refund(r) for r in o.get("refunds", [])],
        total_price_cents=cents(o["total_price"]), currency=o.get("currency") or "USD",
        shipping_address=address(o.get("shipping_address")), placed_at=at(o["created_at"]),
        cancelled_at=at(o.get("cancelled_at")), source_updated_at=at(o["updated_at"]),
    )


def expected_inventory(product: dict) -> list[InventoryFacts]:
    facts = []
    for v in product.get("variants", []):
        if not (v.get("sku") or "").strip():
            continue  # no sku, nothing to key stock on
        title = product.get("title") or ""
        if v.get("title") and v["title"] != "Default Title":
            title = f"{title} ({v['title']})"
        qty = v.get("inventory_quantity")
        facts.append(InventoryFacts(
            sku=v["sku"].strip(), shopify_id=str(v["inventory_item_id"]) if v.get("inventory_item_id") else None,
            variant_id=str(v["id"]), product_id=str(product["id"]), title=title[:300],
            quantity_available=max(0, qty) if qty is not None else None,  # oversold (below zero): none to sell
            price_cents=cents(v.get("price")), source_updated_at=at(v.get("updated_at") or product.get("updated_at")),
        ))
    return facts


def expected_inventory_item(item: dict) -> InventoryFacts:
    return InventoryFacts(sku=item["sku"].strip(), shopify_id=str(item["id"]), tracked=item.get("tracked", True),
                          source_updated_at=at(item.get("updated_at")))


def assert_row_is(row, facts) -> None:
    """The stored row holds every fact; the upsert stores emails trimmed and lower-cased."""
    row = type(row).objects.get(pk=row.pk)
    for f in fields(facts):
        expected = getattr(facts, f.name)
        if f.name == "email":
            expected = expected.strip().lower()
        assert getattr(row, f.name) == expected, f.name


def test_every_copied_payload_is_exercised_and_sourced():
    exercised = ORDERS + CUSTOMERS + PRODUCTS + VARIANTS + INVENTORY_ITEMS + INVENTORY_LEVELS + FULFILLMENTS + REFUNDS
    assert sorted(exercised) == sorted(p.name for p in SHARED.glob("*.json"))
    sources = (SHARED / "SOURCES.md").read_text()
    assert [name for name in exercised if f"`{name}`" not in sources] == []


@pytest.mark.parametrize("name", ORDERS, ids=ORDERS)
def test_orders(name):
    for data in objects(name, "order"):
        customer = None
        if data.get("customer"):  # the order's own customer object goes through the customer normalizer too
            customer_facts = ingest.customer_facts(data["customer"])
            assert customer_facts == expected_customer(data["customer"])
            customer, _ = customer_upsert(facts=customer_facts)
        facts = ingest.order_facts(data)
        assert facts == expected_order(data)

        order, outcome = order_upsert(facts=facts)
        assert outcome == "created"
        assert_row_is(order, facts)
        order = Order.objects.get(pk=order.pk)
        assert order.customer == customer
        assert order.tracking_numbers == [t["number"] for t in facts.tracking]
        assert order.last_event_at == (facts.source_updated_at or facts.placed_at)


@pytest.mark.parametrize("name", CUSTOMERS, ids=CUSTOMERS)
def test_customers(name):
    for data in objects(name, "customer"):
        facts = ingest.customer_facts(data)
        assert facts == expected_customer(data)

        customer, outcome = customer_upsert(facts=facts)
        assert outcome == "created"
        assert_row_is(customer, facts)
        assert Customer.objects.filter(shopify_id=facts.shopify_id).count() == 1


@pytest.mark.parametrize("name", PRODUCTS, ids=PRODUCTS)
def test_products_become_one_inventory_fact_per_variant_sku(name):
    for product in objects(name, "product"):
        assert ingest.product_inventory_facts(product) == expected_inventory(product)


@pytest.mark.parametrize("name", VARIANTS, ids=VARIANTS)
def test_variants_read_as_their_product(name):
    variants = objects(name, "variant")
    # A variant listing is a product's variants: it goes through the product normalizer, which has no title to prefix.
    product = {"id": variants[0].get("product_id", VARIANTS_PRODUCT_ID), "variants": variants}
    assert ingest.product_inventory_facts(product) == expected_inventory(product)


@pytest.mark.parametrize("name", INVENTORY_ITEMS, ids=INVENTORY_ITEMS)
def test_inventory_items(name):
    for item in objects(name, "inventory_item"):
        assert ingest.inventory_item_facts(item) == expected_inventory_item(item)


@pytest.mark.parametrize("name", INVENTORY_LEVELS, ids=INVENTORY_LEVELS)
def test_inventory_levels(name):
    levels = objects(name, "inventory_level")
    by_item: dict[int, list[dict]] = {}
    for level in levels:
        # What the inventory_levels/update handler reads from one level.
        assert ingest.shopify_id(level, "inventory_item_id") == str(level["inventory_item_id"])
        assert ingest.when(level, "updated_at") == at(level["updated_at"])
        assert ingest.inventory_level_total([level]) == max(0, level["available"] or 0)
        by_item.setdefault(level["inventory_item_id"], []).append(level)
    for item_levels in by_item.values():  # the total is taken per item, over its locations
        assert ingest.inventory_level_total(item_levels) == max(0, sum(lv["available"] or 0 for lv in item_levels))


@pytest.mark.parametrize("name", FULFILLMENTS, ids=FULFILLMENTS)
def test_fulfillments_give_the_order_its_tracking(name):
    fulfillments = objects(name, "fulfillment")
    facts = ingest.order_facts({"id": fulfillments[0]["order_id"], "fulfillments": fulfillments})
    assert facts.tracking == expected_tracking(fulfillments)


@pytest.mark.parametrize("name", REFUNDS, ids=REFUNDS)
def test_refunds_give_the_order_its_refunded_amounts(name):
    refunds = objects(name, "refund")
    facts = ingest.order_facts({"id": refunds[0]["order_id"], "refunds": refunds})
    assert facts.refunds == [expected_refund(r) for r in refunds]
