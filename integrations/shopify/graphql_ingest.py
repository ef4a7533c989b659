"""GraphQL-shaped Shopify resources (bulk exports) into the same facts the REST normalizers make.

A customer, order or product read through the GraphQL Admin API must become exactly the
CustomerFacts / OrderFacts / InventoryFacts its REST twin becomes (ingest.py), so a bulk
backfill and a REST backfill write the same rows. GraphQL differs in names (camelCase),
ids (gid://shopify/Order/1), enums (PAID, PARTIALLY_FULFILLED), money (MoneyBag
`shopMoney.amount` decimal strings, turned into cents through Decimal) and connections
(`{nodes: [...]}`, or `{edges: [{node}]}` from a paged query).

Docs: https://shopify.dev/docs/api/admin-graphql/latest/objects/Order , .../objects/Customer
"""

from __future__ import annotations

from catalog.services import InventoryFacts
from customers.services import CustomerFacts, OrderFacts
from integrations.shopify import ingest
from omnichannel.errors import InvalidPayload
from omnichannel.safe_urls import http_url

# The queries whose answers these normalizers read. Nested connections (lineItems, variants)
# come back from a bulk export as separate JSONL lines; lists (fulfillments, refunds) stay inline.
_ADDRESS = "name address1 address2 city province zip country"
CUSTOMER_FIELDS = f"""id email firstName lastName phone numberOfOrders amountSpent {{ amount currencyCode }} tags
  addresses {{ {_ADDRESS} }} createdAt updatedAt"""
ORDER_FIELDS = f"""id name email customer {{ id }} displayFinancialStatus displayFulfillmentStatus cancelledAt
  createdAt updatedAt currencyCode totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
  shippingAddress {{ {_ADDRESS} }}
  fulfillments {{ status trackingInfo {{ number company url }} }}
  refunds {{ id createdAt note totalRefundedSet {{ shopMoney {{ amount currencyCode }} }} }}
  lineItems {{ edges {{ node {{ id sku name quantity originalUnitPriceSet {{ shopMoney {{ amount }} }} }} }} }}"""
PRODUCT_FIELDS = """id title updatedAt
  variants { edges { node { id title sku price inventoryQuantity updatedAt inventoryItem { id tracked } } } }"""
CONNECTIONS = {"LineItem": "lineItems", "ProductVariant": "variants"}

# REST's words for GraphQL's enums, so order_status() and the stored fields read the same.
_FULFILLMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}


def bulk_query(resource: str, *, since_iso: str | None = None) -> str:
    """The bulk export of one resource changed since `since_iso` (inclusive, like REST's updated_at_min)."""
    fields = {"customers": CUSTOMER_FIELDS, "orders": ORDER_FIELDS, "products": PRODUCT_FIELDS}[resource]
    search = f'(query: "updated_at:>=\'{since_iso}\'", sortKey: UPDATED_AT)' if since_iso else "(sortKey: UPDATED_AT)"
    return f"{{ {resource}{search} {{ edges {{ node {{ {fields} }} }} }} }}"


def nodes(data: dict, name: str) -> list[dict]:
    """A connection's nodes, from `{nodes: [...]}` or `{edges: [{node}]}`; absent is empty."""
    value = data.get(name)
    if value in (None, ""):
        return []
    if isinstance(value, dict):
        edges = value.get("edges") or []
        if "nodes" not in value and not isinstance(edges, list):
            raise InvalidPayload(f"field '{name}.edges' must be a list")
        items = value.get("nodes") if "nodes" in value else [
            e.get("node") if isinstance(e, dict) else e for e in edges]
        return ingest._objects(items, f"{name}.nodes")
    raise InvalidPayload(f"field {name!r} must be a connection object with nodes or edges")


def _money(bag, name: str) -> int:
    """MoneyBag {shopMoney: {amount}} or MoneyV2 {amount} into cents (Decimal, never float)."""
    if bag in (None, ""):
        return 0
    if not isinstance(bag, dict):
        raise InvalidPayload(f"field {name!r} must be a money object, not {bag!r}"[:200])
    money = bag.get("shopMoney") if "shopMoney" in bag else bag
    if not isinstance(money, dict):
        raise InvalidPayload(f"field '{name}.shopMoney' must be an object")
    return ingest.cents(money.get("amount"), f"{name}.amount")


def _enum(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidPayload(f"field {name!r} must be an enum name, not {value!r}"[:200])
    return value


def _address(raw) -> dict:
    return ingest._address(raw) if isinstance(raw, dict) else {}


def customer_facts(data: dict) -> CustomerFacts:
    if not isinstance(data, dict):
        raise InvalidPayload("a customer must be a JSON object")
    count = data.get("numberOfOrders") or 0  # UnsignedInt64: a string in JSON
    digits = isinstance(count, str) and count.isascii() and count.isdigit()  # '²'.isdigit() is True too
    if isinstance(count, bool) or not (isinstance(count, int) or digits):
        raise InvalidPayload(f"field 'numberOfOrders' must be a non-negative integer, not {count!r}"[:200])
    orders_count = int(count)
    spent = _money(data.get("amountSpent"), "amountSpent")
    segment = "vip" if spent >= 100_000 else "returning" if orders_count > 1 else "new" if orders_count else "lead"
    tags = data.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidPayload("field 'tags' must be a list of strings")
    addresses = data.get("addresses") or ([data["defaultAddress"]] if isinstance(data.get("defaultAddress"), dict)
                                          else [])
    if not isinstance(addresses, list):
        raise InvalidPayload("field 'addresses' must be a list of objects")
    name = " ".join(filter(None, [ingest._str(data, "firstName"), ingest._str(data, "lastName")]))
    currency = (data.get("amountSpent") or {}).get("currencyCode") if isinstance(data.get("amountSpent"), dict) else None
    return CustomerFacts(
        shopify_id=ingest.shopify_id(data), email=ingest._str(data, "email"), name=name,
        phone=ingest._str(data, "phone"), lifetime_value_cents=spent, currency=currency or "USD",
        orders_count=orders_count, segment=segment,
        shipping_addresses=[_address(a) for a in addresses if isinstance(a, dict)],
        tags=", ".join(tags)[:500],  # REST's comma-separated form
        source_updated_at=ingest.when(data, "updatedAt"),
    )


def _tracking(fulfillments) -> list[dict]:
    found = []
    for f in ingest._objects(fulfillments, "fulfillments"):
        if _enum(f, "status") == "CANCELLED":
            continue
        for info in ingest._objects(f.get("trackingInfo"), "fulfillments.trackingInfo"):
            if info.get("number") in (None, ""):
                continue
            found.append({"number": str(info["number"]), "company": str(info.get("company") or ""),
                          "url": http_url(str(info.get("url") or ""))})  # never javascript: and co
    return found


def _refunds(refunds) -> list[dict]:
    return [{"id": ingest.shopify_id(r), "amount_cents": _money(r.get("totalRefundedSet"), "refunds.totalRefundedSet"),
             "created_at": ingest._str(r, "createdAt"), "note": ingest._str(r, "note")}
            for r in ingest._objects(refunds, "refunds")]


def _line_items(order: dict) -> list[dict]:
    return [{"sku": ingest._str(li, "sku"), "title": ingest._str(li, "name") or ingest._str(li, "title"),
             "quantity": ingest.quantity(li.get("quantity", 0), "lineItems.quantity"),
             "price_cents": _money(li.get("originalUnitPriceSet"), "lineItems.originalUnitPriceSet")}
            for li in nodes(order, "lineItems")]


def order_skus(order: dict) -> set[str]:
    return {str(li["sku"]) for li in nodes(order, "lineItems") if li.get("sku")} if isinstance(order, dict) else set()


def order_facts(data: dict, *, out_of_stock: set[str] | None = None) -> OrderFacts:
    if not isinstance(data, dict):
        raise InvalidPayload("an order must be a JSON object")
    line_items = _line_items(data)
    financial = _enum(data, "displayFinancialStatus").lower()
    fulfillment = _FULFILLMENT.get(_enum(data, "displayFulfillmentStatus"), "")
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else None
    rest_view = {"financial_status": financial, "fulfillment_status": fulfillment, "cancelled_at": data.get("cancelledAt")}
    return OrderFacts(
        shopify_id=ingest.shopify_id(data), name=ingest._str(data, "name"),
        customer_shopify_id=ingest.shopify_id(customer, required=False) if customer else None,
        email=ingest._str(data, "email"), status=ingest.order_status(rest_view, line_items, out_of_stock),
        financial_status=financial, fulfillment_status=fulfillment, tracking=_tracking(data.get("fulfillments")),
        line_items=line_items, refunds=_refunds(data.get("refunds")),
        total_price_cents=_money(data.get("totalPriceSet"), "totalPriceSet"),
        currency=ingest._str(data, "currencyCode") or "USD", shipping_address=_address(data.get("shippingAddress")),
        placed_at=ingest.when(data, "createdAt"), cancelled_at=ingest.when(data, "cancelledAt"),
        source_updated_at=ingest.when(data, "updatedAt"),
    )


def product_inventory_facts(product: dict) -> list[InventoryFacts]:
    """One InventoryFacts per variant with a sku, like ingest.product_inventory_facts."""
    if not isinstance(product, dict):
        raise InvalidPayload("a product must be a JSON object")
    product_id = ingest.shopify_id(product)
    facts = []
    for variant in nodes(product, "variants"):
        sku = ingest._str(variant, "sku").strip()
        if not sku:
            continue  # nothing to key stock on
        title = ingest._str(product, "title")
        variant_title = ingest._str(variant, "title")
        if variant_title and variant_title != "Default Title":
            title = f"{title} ({variant_title})"
        qty = variant.get("inventoryQuantity")
        item = variant.get("inventoryItem") if isinstance(variant.get("inventoryItem"), dict) else {}
        facts.append(InventoryFacts(
            sku=sku, shopify_id=ingest.shopify_id(item, required=False) if item else None,
            variant_id=ingest.shopify_id(variant) or "", product_id=product_id, title=title[:300],
            # Oversold stock is negative in Shopify: nothing available, as the REST normalizer says.
            quantity_available=(max(0, ingest.quantity(qty, "variants.inventoryQuantity", negative_ok=True))
                                if qty is not None else None),
            price_cents=ingest.cents(variant.get("price"), "variants.price"),
            tracked=bool(item.get("tracked", True)) if item else True,
            source_updated_at=ingest.when(variant, "updatedAt") or ingest.when(product, "updatedAt"),
        ))
    return facts
