"""Which body shape each Shopify topic carries: the topic header is not signed, the body is.

Shopify's HMAC covers the body only (https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook),
so anyone holding one genuine delivery can send its bytes again under another `X-Shopify-Topic`:
a customers/update body as `app/uninstalled` stopped the nightly backfill. Each topic's body is
a resource of one kind (https://shopify.dev/docs/api/webhooks), told apart by the keys only that
kind has; a body of another kind is refused (400, kept as a failed delivery naming the mismatch).
Topics not listed here are stored and acknowledged as before, unchecked: nothing handles them.
"""

from __future__ import annotations

_CUSTOMER_KEYS = {"first_name", "last_name", "addresses", "default_address", "orders_count", "verified_email",
                  "accepts_marketing", "email_marketing_consent", "tax_exemptions", "multipass_identifier"}
# Keys that say nothing of the kind: a delete body is {"id": …} and perhaps its GraphQL id.
_BARE_KEYS = {"id", "admin_graphql_api_id"}


def body_kind(data: dict) -> str:
    """shop, inventory_level, refund, fulfillment, order, product, customer, inventory_item, deleted
    (only an id) or unknown. The order of the tests matters: an order holds line items and a customer,
    a fulfillment holds line items and its order's id, the shop holds an email like a customer."""
    keys = set(data)
    if "myshopify_domain" in keys or {"domain", "plan_name"} <= keys:
        return "shop"
    if {"inventory_item_id", "location_id"} <= keys:
        return "inventory_level"
    if "refund_line_items" in keys:
        return "refund"
    if "order_id" in keys:  # a fulfillment names its order (a refund does too, and was told apart above)
        return "fulfillment"
    if "line_items" in keys or "order_number" in keys:
        return "order"
    if "variants" in keys:
        return "product"
    if keys & _CUSTOMER_KEYS:
        return "customer"
    if "sku" in keys or "tracked" in keys:
        return "inventory_item"
    if "id" in keys and keys <= _BARE_KEYS:
        return "deleted"
    return "unknown"


# A delete body is only an id; one without it (or of no kind we know) goes on to its handler, which
# keeps it as failed ("'id' is required"). A body of another known kind is refused here.
_DELETE = {"deleted", "unknown"}
_KINDS_OF_TOPIC = {
    "customers/create": {"customer"}, "customers/update": {"customer"},
    # Shopify's customers/delete body is the customer with most fields empty (or only its id).
    "customers/delete": {"customer", *_DELETE},
    "orders/create": {"order"}, "orders/updated": {"order"}, "orders/paid": {"order"}, "orders/fulfilled": {"order"},
    "orders/cancelled": {"order"}, "orders/partially_fulfilled": {"order"}, "orders/delete": _DELETE,
    "fulfillments/create": {"fulfillment"}, "fulfillments/update": {"fulfillment"}, "refunds/create": {"refund"},
    "products/create": {"product"}, "products/update": {"product"}, "products/delete": _DELETE,
    "inventory_items/create": {"inventory_item"}, "inventory_items/update": {"inventory_item"},
    "inventory_items/delete": _DELETE,
    "inventory_levels/update": {"inventory_level"}, "inventory_levels/connect": {"inventory_level"},
    "inventory_levels/disconnect": {"inventory_level"},
    "app/uninstalled": {"shop"}, "shop/update": {"shop"},
}


def topic_mismatch(topic: str, data: dict) -> str:
    """Why this body cannot be a `topic` delivery, or "" when it can (or the topic is not checked)."""
    expected = _KINDS_OF_TOPIC.get(topic)
    if expected is None:
        return ""
    found = body_kind(data)
    if found in expected:
        return ""
    described = {"unknown": "of no kind we know", "deleted": "only an id"}.get(found, f"a {found}")
    return f"topic {topic} does not match the body: expected {' or '.join(sorted(expected))}, the body is {described}"
