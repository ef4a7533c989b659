"""Shopify resources (REST-shaped: webhooks and the REST API) into customer, order and stock facts.

Strict about what we rely on (ids, dates, money, quantities) and lenient about the rest:
unknown fields are ignored, a wrong type or a missing id raises InvalidPayload naming the field.
Money is turned into integer cents through Decimal, never through floats.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime

from catalog.models import InventoryItem
from catalog.services import InventoryFacts
from customers.services import CustomerFacts, OrderFacts
from omnichannel import lookups  # noqa: F401 - registers `__any`
from omnichannel.errors import InvalidPayload
from omnichannel.safe_urls import http_url


def shopify_id(data: dict, name: str = "id", *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InvalidPayload(f"field {name!r} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        # GraphQL ids look like gid://shopify/Order/450789469: keep the number.
        if isinstance(value, str) and value.startswith("gid://") and value.rsplit("/", 1)[-1].isdigit():
            return value.rsplit("/", 1)[-1]
        raise InvalidPayload(f"field {name!r} must be a numeric id, not {value!r}"[:200])
    return str(value).strip()


def when(data: dict, name: str, *, required: bool = False) -> datetime | None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            raise InvalidPayload(f"field {name!r} is required")
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but impossible: month 13, day 0, an offset of -30:00
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidPayload(f"field {name!r} is not an ISO 8601 time with an offset: {value!r}"[:200])
    return parsed


def cents(value, name: str) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InvalidPayload(f"field {name!r} must be a decimal string like '19.99', not {value!r}"[:200])
    try:
        amount = (Decimal(str(value)) * 100).quantize(Decimal(1))
    except (InvalidOperation, ArithmeticError):  # also 'NaN', and exponents past Decimal's range
        raise InvalidPayload(f"field {name!r} is not a decimal amount: {value!r}"[:200]) from None
    if not amount.is_finite():
        raise InvalidPayload(f"field {name!r} is not a decimal amount: {value!r}"[:200])
    if amount < 0:
        raise InvalidPayload(f"field {name!r} must not be negative: {value!r}")
    return int(amount)


def quantity(value, name: str, *, negative_ok: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidPayload(f"field {name!r} must be an integer, not {value!r}"[:200])
    if value < 0 and not negative_ok:
        raise InvalidPayload(f"field {name!r} must not be negative: {value!r}")
    return value


def _str(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise InvalidPayload(f"field {name!r} must be text, not {type(value).__name__}")
    return str(value)


def _objects(value, name: str) -> list[dict]:
    """A list of JSON objects (variants, line items, fulfillments...), or a clear refusal."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InvalidPayload(f"field {name!r} must be a list of objects")
    return value


def _address(raw) -> dict:
    if not isinstance(raw, dict):
        return {}
    return {k: raw.get(k) or "" for k in ("name", "address1", "address2", "city", "province", "zip", "country")}


def customer_facts(data: dict) -> CustomerFacts:
    if not isinstance(data, dict):
        raise InvalidPayload("a customer must be a JSON object")
    name = " ".join(filter(None, [_str(data, "first_name"), _str(data, "last_name")]))
    orders_count = data.get("orders_count") or 0
    if not isinstance(orders_count, int) or orders_count < 0:
        raise InvalidPayload(f"field 'orders_count' must be a non-negative integer, not {orders_count!r}")
    spent = cents(data.get("total_spent"), "total_spent")
    segment = "vip" if spent >= 100_000 else "returning" if orders_count > 1 else "new" if orders_count else "lead"
    addresses = _objects(data.get("addresses"), "addresses") or (
        [data["default_address"]] if isinstance(data.get("default_address"), dict) else [])
    return CustomerFacts(
        shopify_id=shopify_id(data), email=_str(data, "email"), name=name, phone=_str(data, "phone"),
        lifetime_value_cents=spent, currency=_str(data, "currency") or "USD", orders_count=orders_count,
        segment=segment, shipping_addresses=[_address(a) for a in addresses if isinstance(a, dict)],
        tags=_str(data, "tags")[:500], source_updated_at=when(data, "updated_at"),
    )


def privacy_customer(data: dict) -> tuple[str | None, str]:
    """(Shopify customer id, email) of a privacy request's `customer`: Shopify may send only one of them
    (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance)."""
    customer = data.get("customer")
    if not isinstance(customer, dict):
        raise InvalidPayload("field 'customer' must be an object with the customer's id or email")
    customer_id, email = shopify_id(customer, required=False), _str(customer, "email").strip().lower()
    if not customer_id and not email:
        raise InvalidPayload("field 'customer' names neither an id nor an email")
    if email and "@" not in email:
        raise InvalidPayload(f"field 'customer.email' is not an email address: {email[:100]!r}")
    return customer_id, email


def privacy_order_ids(data: dict, name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list):
        raise InvalidPayload(f"field {name!r} must be a list of order ids")
    return [shopify_id({"id": item}) for item in value]


def privacy_subjects(topic: str, data: dict) -> tuple[list[str], list[str], list[str]]:
    """(emails, Shopify customer ids, Shopify order ids) a delivery names, whatever its topic: what the
    erasure tombstones are asked about once it is processed."""
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    emails = [data.get("email"), data.get("contact_email"), customer.get("email")]
    customer_ids = [customer.get("id"), data.get("customer_id")]
    order_ids = [data.get("order_id"), *(data.get("orders_to_redact") or []), *(data.get("orders_requested") or [])]
    if topic.startswith("customers/"):
        customer_ids.append(data.get("id"))
    elif topic.startswith("orders/"):
        order_ids.append(data.get("id"))
    def present(values: list) -> list[str]:
        return [str(v).strip().lower() for v in values if isinstance(v, (str, int)) and str(v).strip()]

    return present(emails), present(customer_ids), present(order_ids)


# Fulfillments that shipped nothing: cancelled, or a request that failed ("failure") or erred
# ("error"). Their tracking numbers lead nowhere and must not reach a reply to the customer.
# https://shopify.dev/docs/api/admin-rest/2025-01/resources/fulfillment (status)
NO_SHIPMENT_STATUSES = ("cancelled", "failure", "error")


def _tracking(fulfillments) -> list[dict]:
    found = []
    for f in _objects(fulfillments, "fulfillments"):
        if f.get("status") in NO_SHIPMENT_STATUSES:
            continue
        numbers = f.get("tracking_numbers") or ([f["tracking_number"]] if f.get("tracking_number") else [])
        urls = f.get("tracking_urls") or ([f["tracking_url"]] if f.get("tracking_url") else [])
        if not isinstance(numbers, list) or not isinstance(urls, list):
            raise InvalidPayload("fields 'fulfillments.tracking_numbers' and 'tracking_urls' must be lists")
        for i, number in enumerate(numbers):
            found.append({"number": str(number), "company": str(f.get("tracking_company") or ""),
                          "url": http_url(str(urls[i])) if i < len(urls) else ""})  # never javascript: and co
    return found


def _refunds(refunds) -> list[dict]:
    found = []
    for r in _objects(refunds, "refunds"):
        amount = sum(cents(t.get("amount"), "refunds.transactions.amount")
                     for t in _objects(r.get("transactions"), "refunds.transactions")
                     if t.get("kind", "refund") == "refund" and t.get("status") != "failure")
        found.append({"id": shopify_id(r), "amount_cents": amount, "created_at": _str(r, "created_at"),
                      "note": _str(r, "note")})
    return found


def _line_items(items) -> list[dict]:
    out = []
    for li in _objects(items, "line_items"):
        out.append({"sku": _str(li, "sku"), "title": _str(li, "name") or _str(li, "title"),
                    "quantity": quantity(li.get("quantity", 0), "line_items.quantity"),  # refused below zero
                    "price_cents": cents(li.get("price"), "line_items.price")})
    return out


def out_of_stock_skus(skus: set[str]) -> set[str]:
    """One query for a whole page of orders (the backfill), instead of one per order. Unknown stock
    (NULL: Shopify has not stated it) is not out of stock."""
    return {sku for (sku,) in out_of_stock_query(skus)}


def out_of_stock_query(skus: set[str]):
    """The read behind out_of_stock_skus, as a queryset of (sku,) rows (a backfill sends it with its other
    page reads in one round trip)."""
    skus = {sku for sku in skus if "\x00" not in sku}  # Postgres text cannot hold NUL: no stored sku has one
    if not skus:
        return InventoryItem.objects.none()
    return InventoryItem.objects.filter(sku__any=skus, quantity_available__lte=0, tracked=True).values_list("sku")


def order_status(data: dict, line_items: list[dict], out_of_stock: set[str] | None = None) -> str:
    """One summary state, for lists and counts. A refund outranks shipping here, so whether anything
    shipped is read from `fulfillment_status`, kept apart as Shopify sends it, never from this."""
    financial = data.get("financial_status") or ""
    fulfillment = data.get("fulfillment_status") or ""
    if data.get("cancelled_at"):
        return "cancelled"
    if financial in ("refunded", "partially_refunded"):
        return financial
    if fulfillment == "fulfilled":
        return "fulfilled"
    if fulfillment == "partial":
        return "partially_fulfilled"
    if financial in ("paid", "partially_paid", "authorized"):
        skus = {li["sku"] for li in line_items if li["sku"]}
        # Shopify has no backorder state: a paid, unshipped order waiting for an out-of-stock item is one.
        if skus & (out_of_stock if out_of_stock is not None else out_of_stock_skus(skus)):
            return "backordered"
        return "paid"
    return "pending"


def order_facts(data: dict, *, out_of_stock: set[str] | None = None) -> OrderFacts:
    if not isinstance(data, dict):
        raise InvalidPayload("an order must be a JSON object")
    line_items = _line_items(data.get("line_items"))
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else None
    return OrderFacts(
        shopify_id=shopify_id(data), name=_str(data, "name"),
        customer_shopify_id=shopify_id(customer, required=False) if customer else None,
        email=_str(data, "email") or _str(data, "contact_email"),
        status=order_status(data, line_items, out_of_stock),
        financial_status=_str(data, "financial_status"), fulfillment_status=_str(data, "fulfillment_status"),
        tracking=_tracking(data.get("fulfillments")), line_items=line_items, refunds=_refunds(data.get("refunds")),
        total_price_cents=cents(data.get("total_price"), "total_price"), currency=_str(data, "currency") or "USD",
        shipping_address=_address(data.get("shipping_address")), placed_at=when(data, "created_at"),
        cancelled_at=when(data, "cancelled_at"), source_updated_at=when(data, "updated_at"),
    )


def product_inventory_facts(product: dict) -> list[InventoryFacts]:
    """One InventoryFacts per variant with a sku (a products/create|update webhook or products.json)."""
    if not isinstance(product, dict):
        raise InvalidPayload("a product must be a JSON object")
    product_id = shopify_id(product)
    facts = []
    for variant in _objects(product.get("variants"), "variants"):
        sku = _str(variant, "sku").strip()
        if not sku:
            continue  # Shopify allows variants without sku; nothing to key stock on
        title = _str(product, "title")
        variant_title = _str(variant, "title")
        if variant_title and variant_title != "Default Title":
            title = f"{title} ({variant_title})"
        qty = variant.get("inventory_quantity")
        facts.append(InventoryFacts(
            sku=sku, shopify_id=shopify_id(variant, "inventory_item_id", required=False),
            variant_id=shopify_id(variant) or "", product_id=product_id, title=title[:300],
            # Negative when the variant oversells (inventory_policy "continue"): none left to sell.
            quantity_available=(max(0, quantity(qty, "variants.inventory_quantity", negative_ok=True))
                                if qty is not None else None),
            price_cents=cents(variant.get("price"), "variants.price"),
            source_updated_at=when(variant, "updated_at") or when(product, "updated_at"),
        ))
    return facts


def inventory_item_facts(item: dict) -> InventoryFacts:
    """An inventory_items/update webhook or inventory_items.json row: sku and tracking, no quantity."""
    sku = _str(item, "sku").strip()
    if not sku:
        raise InvalidPayload("field 'sku' is required for an inventory item")
    return InventoryFacts(sku=sku, shopify_id=shopify_id(item), tracked=bool(item.get("tracked", True)),
                          source_updated_at=when(item, "updated_at"))


def inventory_level_total(levels: list[dict]) -> int:
    """Available quantity summed over locations, as Shopify sums it to decide "sold out".

    A level is negative, legitimately, where a variant that may oversell (inventory_policy
    "continue") was sold past zero: those units are owed to orders, so they are subtracted from
    what other locations hold, and a total below zero means none to offer (0), not bad input.
    https://shopify.dev/docs/api/admin-rest/latest/resources/inventorylevel ,
    https://community.shopify.dev/t/wrong-availability-calculation/27953
    """
    if not isinstance(levels, list) or not all(isinstance(level, dict) for level in levels):
        raise InvalidPayload("field 'inventory_levels' must be a list of objects")
    total = sum(quantity(level.get("available") or 0, "inventory_levels.available", negative_ok=True)
                for level in levels)
    return max(0, total)
