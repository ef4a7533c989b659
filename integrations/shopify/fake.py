"""A fake Shopify shop as a real local HTTP server, for `make run` and the tests.

REST Admin API shapes (resources wrapped as {"orders": [...]}, ids as numbers, money as
decimal strings), cursor pagination through the Link header with an opaque page_info,
`limit` <= 250, `X-Shopify-Shop-Api-Call-Limit`, 429 with Retry-After, GraphQL answers with
`extensions.cost.throttleStatus` and THROTTLED errors, and the Page API. The shop's data is
the demo shop (fixtures/demo_shop.json) turned into Shopify's shapes; tests add more.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

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


class FakeShop:
    def __init__(self, resources: dict | None = None, *, bucket_size: int = 40):
        self.resources = resources if resources is not None else demo_shop_resources()
        self.resources.setdefault("pages", [])
        self.requests: list[tuple[str, str]] = []
        self.failures: list[tuple[int, float | None]] = []
        self.graphql_throttled = 0
        self.graphql_throttled_body: dict | None = None  # a recorded THROTTLED answer to replay
        self.bucket_size = bucket_size
        self.bucket_used = 0
        self._lock = threading.Lock()
        self._next_page_id = 131092082
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        with self._lock:
            self.failures += [(status, retry_after)] * times

    def page_requests(self, resource: str) -> int:
        return len([r for r in self.requests if r[1].endswith(f"/{resource}.json")])

    def _handler(self):
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload, headers: dict | None = None):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                with shop._lock:
                    shop.bucket_used = min(shop.bucket_size, shop.bucket_used + 1)
                    used = shop.bucket_used
                self.send_header("X-Shopify-Shop-Api-Call-Limit", f"{used}/{shop.bucket_size}")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                self._route("GET")

            def do_POST(self):  # noqa: N802
                self._route("POST")

            def do_PUT(self):  # noqa: N802
                self._route("PUT")

            def _route(self, method: str):
                url = urlparse(self.path)
                shop.requests.append((method, url.path))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with shop._lock:
                    failure = shop.failures.pop(0) if shop.failures else None
                if failure:
                    status, retry_after = failure
                    return self._send(status, {"errors": "Exceeded 2 calls per second for api client."
                                               if status == 429 else "Internal Server Error"},
                                      {"Retry-After": str(retry_after)} if retry_after is not None else None)
                if not self.headers.get("X-Shopify-Access-Token"):
                    return self._send(401, {"errors": "[API] Invalid API key or access token"})
                m = re.match(r"^/admin/api/[^/]+/(.+)\.json$", url.path)
                if not m:
                    return self._send(404, {"errors": "Not Found"})
                self._resource(method, m.group(1), parse_qs(url.query), json.loads(body or b"{}"), url.path)

            def _resource(self, method, path, query, body, full_path):
                if path == "graphql" and method == "POST":
                    return self._graphql(body)
                if method == "GET" and path in ("customers", "orders", "products", "pages"):
                    return self._list(path, query, full_path)
                m = re.match(r"^orders/(\d+)$", path)
                if method == "GET" and m:
                    order = next((o for o in shop.resources["orders"] if str(o["id"]) == m.group(1)), None)
                    return self._send(200, {"order": order}) if order else self._send(404, {"errors": "Not Found"})
                if method == "GET" and path == "inventory_levels":
                    ids = set(query.get("inventory_item_ids", [""])[0].split(","))
                    levels = [{"inventory_item_id": v["inventory_item_id"], "location_id": 1,
                               "available": v["inventory_quantity"], "updated_at": v["updated_at"]}
                              for p in shop.resources["products"] for v in p["variants"]
                              if str(v["inventory_item_id"]) in ids]
                    return self._send(200, {"inventory_levels": levels})
                if path == "pages" and method == "POST":
                    page = body.get("page") or {}
                    if not page.get("title"):
                        return self._send(422, {"errors": {"title": ["can't be blank"]}})
                    with shop._lock:
                        shop._next_page_id += 1
                        page = {**page, "id": shop._next_page_id, "handle": page.get("handle") or "faq",
                                "updated_at": "2026-11-25T00:00:00+00:00"}
                        shop.resources["pages"].append(page)
                    return self._send(201, {"page": page})
                m = re.match(r"^pages/(\d+)$", path)
                if m:
                    page = next((p for p in shop.resources["pages"] if str(p["id"]) == m.group(1)), None)
                    if page is None:
                        return self._send(404, {"errors": "Not Found"})
                    if method == "PUT":
                        page.update({k: v for k, v in (body.get("page") or {}).items() if k != "id"})
                    return self._send(200, {"page": page})
                return self._send(404, {"errors": "Not Found"})

            def _list(self, resource, query, full_path):
                limit = int(query.get("limit", ["50"])[0])
                if limit > 250:
                    return self._send(400, {"errors": {"limit": "must be at most 250"}})
                if "page_info" in query:
                    state = json.loads(base64.urlsafe_b64decode(query["page_info"][0]))
                    offset, since = state["offset"], state["since"]
                else:
                    offset, since = 0, query.get("updated_at_min", [""])[0]
                rows = sorted(shop.resources[resource], key=lambda r: (r.get("updated_at") or "", r["id"]))
                if since:
                    rows = [r for r in rows if (r.get("updated_at") or "") >= since]
                page = rows[offset:offset + limit]
                headers = {}
                if offset + limit < len(rows):
                    token = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit, "since": since}).encode())
                    next_query = urlencode({"limit": limit, "page_info": token.decode()})
                    headers["Link"] = f'<{shop.url}{full_path}?{next_query}>; rel="next"'
                return self._send(200, {resource: page}, headers)

            def _graphql(self, body):
                throttle = {"maximumAvailable": 1000.0, "currentlyAvailable": 990.0, "restoreRate": 50.0}
                with shop._lock:
                    throttled = shop.graphql_throttled > 0
                    shop.graphql_throttled -= 1 if throttled else 0
                if throttled and shop.graphql_throttled_body:
                    return self._send(200, shop.graphql_throttled_body)
                if throttled:
                    throttle["currentlyAvailable"] = 10.0
                    return self._send(200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                                            "extensions": {"cost": {"requestedQueryCost": 12, "actualQueryCost": None,
                                                                    "throttleStatus": throttle}}})
                return self._send(200, {"data": {"shop": {"name": "Demo Shop"}},
                                        "extensions": {"cost": {"requestedQueryCost": 1, "actualQueryCost": 1,
                                                                "throttleStatus": throttle}}})

        return Handler


_shared: FakeShop | None = None
_shared_lock = threading.Lock()


def fake_shop_url() -> str:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeShop()
        return _shared.url
