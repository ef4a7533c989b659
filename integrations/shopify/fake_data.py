"""The fake shop's data (integrations/shopify/fake.py): the demo shop (fixtures/demo_shop.json) in
Shopify's REST shapes (`demo_shop_resources`), and REST rows as a bulk operation's GraphQL JSONL
objects (`graphql_lines`)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings

DEMO = Path(settings.BASE_DIR) / "fixtures" / "demo_shop.json"


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def demo_shop_resources() -> dict[str, list[dict]]:
    data = json.loads(DEMO.read_text())
    customers = [{
        "id": int(c["shopify_id"]), "email": c["email"], "first_name": c["name"].split(" ")[0],
        "last_name": " ".join(c["name"].split(" ")[1:]), "phone": c.get("phone"), "orders_count": c["orders_count"],
        "total_spent": _money(c["lifetime_value_cents"]), "currency": "USD", "tags": c.get("tags", ""),
        "addresses": c["shipping_addresses"], "updated_at": c["updated_at"].replace("Z", "+00:00"),
        "created_at": c["updated_at"].replace("Z", "+00:00")} for c in data["customers"]]
    fulfilled = {"fulfilled": "fulfilled", "partially_fulfilled": "partial", "refunded": "fulfilled",
                 "partially_refunded": "fulfilled"}
    financial = {"pending": "pending", "refunded": "refunded", "partially_refunded": "partially_refunded"}
    orders = []
    for o in data["orders"]:
        orders.append({
            "id": int(o["shopify_id"]), "name": o["name"], "email": o["email"],
            "customer": {"id": int(o["customer_shopify_id"])} if o.get("customer_shopify_id") else None,
            "financial_status": financial.get(o["status"], "paid"),
            "fulfillment_status": fulfilled.get(o["status"]),
            "cancelled_at": o.get("cancelled_at") or ("2026-10-21T10:00:00+00:00" if o["status"] == "cancelled" else None),
            "total_price": _money(o["total_price_cents"]), "currency": "USD",
            "line_items": [{"sku": li["sku"], "name": li["title"], "quantity": li["quantity"],
                            "price": _money(li["price_cents"])} for li in o["line_items"]],
            "fulfillments": [{"id": 7000 + i, "status": "success", "tracking_company": t["company"],
                              "tracking_numbers": [t["number"]], "tracking_urls": [t["url"]]}
                             for i, t in enumerate(o["tracking"])],
            "refunds": [{"id": int(r["id"]), "created_at": r["created_at"], "note": r.get("note"),
                         "transactions": [{"kind": "refund", "status": "success", "amount": _money(r["amount_cents"])}]}
                        for r in o.get("refunds") or []],
            "created_at": o["placed_at"], "updated_at": o["updated_at"]})
    stamp = "2026-11-01T00:00:00+00:00"
    products = [{"id": 8000 + i, "title": item["title"], "updated_at": stamp,
                 "variants": [{"id": 8500 + i, "title": "Default Title", "sku": item["sku"],
                               "price": _money(item["price_cents"]), "inventory_item_id": int(item["shopify_id"]),
                               "inventory_quantity": item["quantity_available"], "updated_at": stamp}]}
                for i, item in enumerate(data["inventory"])]
    return {"customers": customers, "orders": orders, "products": products, "pages": []}


def gid(kind: str, rid) -> str:
    return f"gid://shopify/{kind}/{rid}"


def _shop_money(amount: str | None, currency: str) -> dict:
    return {"shopMoney": {"amount": amount or "0.00", "currencyCode": currency}}


def _mailing_address(address: dict | None) -> dict | None:
    if not isinstance(address, dict):
        return None
    return {k: address.get(k) for k in ("name", "address1", "address2", "city", "province", "zip", "country")}


def _tracking_info(fulfillment: dict) -> list[dict]:
    urls = fulfillment.get("tracking_urls") or []
    return [{"number": n, "company": fulfillment.get("tracking_company"), "url": urls[i] if i < len(urls) else None}
            for i, n in enumerate(fulfillment.get("tracking_numbers") or [])]


def graphql_lines(resource: str, rows: list[dict]) -> list[dict]:
    """The shop's REST rows as a bulk operation's JSONL objects: GraphQL field names, gids, money
    as MoneyBag amounts, and every nested connection's nodes as separate lines with __parentId."""
    lines: list[dict] = []
    for row in rows:
        if resource == "customers":
            tags = [t.strip() for t in (row.get("tags") or "").split(",") if t.strip()]
            lines.append({
                "id": gid("Customer", row["id"]), "email": row.get("email"), "firstName": row.get("first_name"),
                "lastName": row.get("last_name"), "phone": row.get("phone"),
                "numberOfOrders": str(row.get("orders_count") or 0),  # UnsignedInt64 is a string
                "amountSpent": {"amount": row.get("total_spent") or "0.00", "currencyCode": row.get("currency")},
                "tags": tags, "addresses": [_mailing_address(a) for a in row.get("addresses") or []],
                "createdAt": row.get("created_at"), "updatedAt": row.get("updated_at")})
        elif resource == "orders":
            currency = row.get("currency") or "USD"
            order_gid = gid("Order", row["id"])
            refunds = []
            for r in row.get("refunds") or []:
                total = sum((Decimal(t["amount"]) for t in r.get("transactions") or []
                             if t.get("kind", "refund") == "refund" and t.get("status") != "failure"), Decimal(0))
                refunds.append({"id": gid("Refund", r["id"]), "createdAt": r.get("created_at"), "note": r.get("note"),
                                "totalRefundedSet": _shop_money(f"{total:.2f}", currency)})
            customer = row.get("customer")
            lines.append({
                "id": order_gid, "name": row.get("name"), "email": row.get("email"),
                "customer": {"id": gid("Customer", customer["id"])} if customer else None,
                "displayFinancialStatus": (row.get("financial_status") or "pending").upper(),
                "displayFulfillmentStatus": {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED",
                                             "restocked": "RESTOCKED"}.get(row.get("fulfillment_status"), "UNFULFILLED"),
                "cancelledAt": row.get("cancelled_at"), "createdAt": row.get("created_at"),
                "updatedAt": row.get("updated_at"), "currencyCode": currency,
                "totalPriceSet": _shop_money(row.get("total_price"), currency),
                "shippingAddress": _mailing_address(row.get("shipping_address")),
                "fulfillments": [{"status": (f.get("status") or "success").upper(), "trackingInfo": _tracking_info(f)}
                                 for f in row.get("fulfillments") or []],
                "refunds": refunds})
            for i, li in enumerate(row.get("line_items") or []):
                lines.append({"id": gid("LineItem", f"{row['id']}{i:03d}"), "sku": li.get("sku"), "name": li.get("name"),
                              "quantity": li.get("quantity"),
                              "originalUnitPriceSet": _shop_money(li.get("price"), currency), "__parentId": order_gid})
        elif resource == "products":
            product_gid = gid("Product", row["id"])
            lines.append({"id": product_gid, "title": row.get("title"), "updatedAt": row.get("updated_at")})
            for v in row.get("variants") or []:
                lines.append({
                    "id": gid("ProductVariant", v["id"]), "title": v.get("title"), "sku": v.get("sku"),
                    "price": v.get("price"), "inventoryQuantity": v.get("inventory_quantity"),
                    "updatedAt": v.get("updated_at"),
                    "inventoryItem": {"id": gid("InventoryItem", v["inventory_item_id"]), "tracked": True}
                    if v.get("inventory_item_id") else None, "__parentId": product_gid})
    return lines
