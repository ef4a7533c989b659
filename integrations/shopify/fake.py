"""A fake Shopify shop as a real local HTTP server, for `make run` and the tests.

REST Admin API shapes (resources wrapped as {"orders": [...]}, ids as numbers, money as
decimal strings), cursor pagination through the Link header with an opaque page_info,
`limit` <= 250, a leaky call bucket shown in `X-Shopify-Shop-Api-Call-Limit` (429 with
Retry-After when full), GraphQL answers with `extensions.cost.throttleStatus` from a cost bucket
that restores over time (THROTTLED when a query costs more than is available), bulk operations
(`bulkOperationRunQuery`, `currentBulkOperation`, `node(id:)`, a JSONL download), and the Page
API. The shop's data is the demo shop (fixtures/demo_shop.json) turned into Shopify's shapes
(integrations/shopify/fake_data.py); tests add more. Every request is recorded with its arrival time,
so tests can measure waits.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from integrations.shopify.fake_data import demo_shop_resources, gid, graphql_lines

_BULK_ROOT = re.compile(r"^\s*\{\s*(customers|orders|products)\s*(\(([^)]*)\))?", re.S)
_BULK_SINCE = re.compile(r"updated_at:>=\s*'?([^'\s\"]+)'?")


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class FakeShop:
    def __init__(self, resources: dict | None = None, *, bucket_size: int = 40, leak_per_second: float = 2.0):
        self.resources = resources if resources is not None else demo_shop_resources()
        self.resources.setdefault("pages", [])
        self.requests: list[tuple[str, str]] = []
        self.request_log: list[tuple[str, str, float]] = []  # (method, path, time.monotonic() on arrival)
        self.failures: list[tuple[int, float | str | None]] = []
        self.path_failures: list[list] = []  # [path suffix, nth matching request, status]
        self.graphql_throttled = 0
        self.graphql_throttled_body: dict | None = None  # a recorded THROTTLED answer to replay
        self.graphql_throttled_answers = 0  # how many THROTTLED answers the cost bucket gave
        # Shopify's GraphQL cost bucket: restores restore_rate points a second up to maximum.
        self.graphql_cost = 1.0
        self._gql = {"maximum": 1000.0, "available": 1000.0, "restore": 50.0, "at": time.monotonic()}
        # The REST leaky bucket: each call adds one, it leaks leak_per_second, a full bucket answers 429.
        self.bucket_size = bucket_size
        self.leak_per_second = leak_per_second
        self.bucket_used = 0.0
        self._bucket_at = time.monotonic()
        self.bulk_operations: dict[str, dict] = {}
        self.bulk_current: str | None = None
        self.bulk_fail: str | None = None  # errorCode the next bulk operation fails with
        self.bulk_polls_to_complete = 2
        self.bulk_downloads: list[dict] = []  # headers of each JSONL download (a signed URL takes no token)
        self.bulk_drop_after_lines: int | None = None  # the next download breaks off after this many lines
        self.graphql_operations: list[str] = []  # bulkOperationRunQuery, currentBulkOperation, node or query
        self._lock = threading.Lock()
        self._sorted: dict[str, tuple] = {}  # resource -> ((id, len) of its list, rows in updated_at order)
        self._next_page_id = 131092082
        # False after the app is uninstalled: Shopify has revoked the token, every Admin API call answers 401.
        self.installed = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(self, status: int, times: int = 1, retry_after: float | str | None = None) -> None:
        with self._lock:
            self.failures += [(status, retry_after)] * times

    def fail_request(self, path_suffix: str, *, nth: int, status: int = 500) -> None:
        """Answer `status` once, to the nth request (counted from now) whose path ends with path_suffix."""
        with self._lock:
            seen = len([r for r in self.requests if r[1].endswith(path_suffix)])
            self.path_failures.append([path_suffix, seen + nth, status])

    def fill_bucket(self, used: float) -> None:
        with self._lock:
            self.bucket_used, self._bucket_at = float(used), time.monotonic()

    def throttle_graphql(self, *, available: float, restore_rate: float, cost: float, maximum: float = 1000.0) -> None:
        """Drain the GraphQL cost bucket to `available`; each query then costs `cost`."""
        with self._lock:
            self._gql = {"maximum": maximum, "available": available, "restore": restore_rate, "at": time.monotonic()}
            self.graphql_cost = cost

    def page_requests(self, resource: str) -> int:
        return len([r for r in self.requests if r[1].endswith(f"/{resource}.json")])

    def request_times(self, path_suffix: str) -> list[float]:
        return [t for _, path, t in self.request_log if path.endswith(path_suffix)]

    def _rest_call_allowed(self) -> tuple[bool, int]:
        with self._lock:
            now = time.monotonic()
            self.bucket_used = max(0.0, self.bucket_used - self.leak_per_second * (now - self._bucket_at))
            self._bucket_at = now
            if self.bucket_used + 1 > self.bucket_size:
                return False, self.bucket_size
            self.bucket_used += 1
            return True, round(self.bucket_used)

    def _graphql_spend(self, cost: float) -> tuple[bool, dict]:
        with self._lock:
            now, b = time.monotonic(), self._gql
            b["available"] = min(b["maximum"], b["available"] + b["restore"] * (now - b["at"]))
            b["at"] = now
            allowed = cost <= b["available"]
            if allowed:
                b["available"] -= cost
            else:
                self.graphql_throttled_answers += 1
            return allowed, {"maximumAvailable": b["maximum"], "currentlyAvailable": round(b["available"], 3),
                             "restoreRate": b["restore"]}

    def sorted_rows(self, resource: str) -> list[dict]:
        """The resource in Shopify's `updated_at asc` order. Sorting 50,000 orders takes ~0.1 s, once
        per page made the fake the bottleneck of the ingest benchmark: the order is kept until the
        list is replaced or changes length, or the fake edits a row itself."""
        rows = self.resources[resource]
        key = (id(rows), len(rows))
        cached = self._sorted.get(resource)
        if cached is None or cached[0] != key:
            cached = (key, sorted(rows, key=lambda r: (r.get("updated_at") or "", r["id"])))
            self._sorted[resource] = cached
        return cached[1]

    def _bulk_start(self, query: str) -> dict:
        m = _BULK_ROOT.match(query or "")
        if not m:
            return {"bulkOperation": None, "userErrors": [
                {"field": ["query"], "message": "Invalid bulk query: must select customers, orders or products"}]}
        with self._lock:
            current = self.bulk_operations.get(self.bulk_current or "")
            if current and current["status"] in ("CREATED", "RUNNING"):
                return {"bulkOperation": None, "userErrors": [{"field": None, "message": (
                    f"A bulk query operation for this app and shop is already in progress: {current['id']}.")}]}
            since = _BULK_SINCE.search(m.group(3) or "")
            since_at = _parse_time(since.group(1)) if since else None
            resource = m.group(1)
            rows = sorted(self.resources[resource], key=lambda r: (r.get("updated_at") or "", r["id"]))
            if since_at:
                rows = [r for r in rows if r.get("updated_at") and _parse_time(r["updated_at"]) >= since_at]
            number = len(self.bulk_operations) + 1
            op = {"id": gid("BulkOperation", 720000 + number), "number": number, "status": "CREATED",
                  "query": query, "polls": 0, "lines": graphql_lines(resource, rows), "fail": self.bulk_fail}
            self.bulk_fail = None
            self.bulk_operations[op["id"]], self.bulk_current = op, op["id"]
        return {"bulkOperation": {"id": op["id"], "status": op["status"]}, "userErrors": []}

    def _bulk_view(self, op: dict | None, *, poll: bool) -> dict | None:
        if op is None:
            return None
        with self._lock:
            if poll and op["status"] in ("CREATED", "RUNNING"):
                op["polls"] += 1
                if op["polls"] >= self.bulk_polls_to_complete:
                    op["status"] = "FAILED" if op["fail"] else "COMPLETED"
                else:
                    op["status"] = "RUNNING"
            done = op["status"] == "COMPLETED"
            return {"id": op["id"], "status": op["status"], "errorCode": op["fail"] if op["status"] == "FAILED" else None,
                    "objectCount": str(len(op["lines"]) if done else 0),
                    "url": f"{self.url}/bulk/{op['number']}.jsonl" if done and op["lines"] else None,
                    "partialDataUrl": None}

    def _handler(self):
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload, headers: dict | None = None, *, call_limit: int | None = None):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if call_limit is not None:
                    self.send_header("X-Shopify-Shop-Api-Call-Limit", f"{call_limit}/{shop.bucket_size}")
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
                with shop._lock:
                    shop.requests.append((method, url.path))
                    shop.request_log.append((method, url.path, time.monotonic()))
                    count = {rule[0]: len([r for r in shop.requests if r[1].endswith(rule[0])])
                             for rule in shop.path_failures}
                    rule = next((r for r in shop.path_failures if count[r[0]] == r[1]), None)
                    if rule:
                        shop.path_failures.remove(rule)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if method == "GET" and (m := re.match(r"^/bulk/(\d+)\.jsonl$", url.path)):
                    return self._bulk_download(int(m.group(1)))
                with shop._lock:
                    failure = shop.failures.pop(0) if shop.failures else None
                if rule:
                    failure = (rule[2], None)
                if failure:
                    status, retry_after = failure
                    return self._send(status, {"errors": "Exceeded 2 calls per second for api client."
                                               if status == 429 else "Internal Server Error"},
                                      {"Retry-After": str(retry_after)} if retry_after is not None else None)
                if not self.headers.get("X-Shopify-Access-Token") or not shop.installed:
                    return self._send(401, {"errors": "[API] Invalid API key or access token"})
                m = re.match(r"^/admin/api/[^/]+/(.+)\.json$", url.path)
                if not m:
                    return self._send(404, {"errors": "Not Found"})
                if m.group(1) == "graphql" and method == "POST":
                    return self._graphql(json.loads(body or b"{}"))
                allowed, used = shop._rest_call_allowed()
                if not allowed:  # Shopify's answer to a full bucket
                    return self._send(429, {"errors": "Exceeded 2 calls per second for api client. Reduce request "
                                            "rates to resume uninterrupted service."}, {"Retry-After": "1.0"},
                                      call_limit=used)
                self.call_limit = used
                self._resource(method, m.group(1), parse_qs(url.query), json.loads(body or b"{}"), url.path)

            def _ok(self, status, payload, headers=None):
                return self._send(status, payload, headers, call_limit=self.call_limit)

            def _resource(self, method, path, query, body, full_path):
                if method == "GET" and path == "shop":
                    return self._ok(200, {"shop": {
                        "id": 548380009, "name": "Demo Shop", "email": "owner@demo-shop.example",
                        "domain": "demo-shop.example", "myshopify_domain": "demo-shop.myshopify.com",
                        "plan_name": "basic", "currency": "USD"}})
                if method == "GET" and path in ("customers", "orders", "products", "pages"):
                    return self._list(path, query, full_path)
                m = re.match(r"^orders/(\d+)$", path)
                if method == "GET" and m:
                    order = next((o for o in shop.resources["orders"] if str(o["id"]) == m.group(1)), None)
                    return self._ok(200, {"order": order}) if order else self._ok(404, {"errors": "Not Found"})
                if method == "GET" and path == "inventory_levels":
                    ids = set(query.get("inventory_item_ids", [""])[0].split(","))
                    # A test may give levels per location ("inventory_levels"); else one location per variant.
                    levels = [lvl for lvl in shop.resources.get("inventory_levels") or [
                        {"inventory_item_id": v["inventory_item_id"], "location_id": 1,
                         "available": v["inventory_quantity"], "updated_at": v["updated_at"]}
                        for p in shop.resources["products"] for v in p["variants"]]
                        if str(lvl["inventory_item_id"]) in ids]
                    return self._ok(200, {"inventory_levels": levels})
                if path == "pages" and method == "POST":
                    page = body.get("page") or {}
                    if not page.get("title"):
                        return self._ok(422, {"errors": {"title": ["can't be blank"]}})
                    with shop._lock:
                        shop._next_page_id += 1
                        page = {**page, "id": shop._next_page_id, "handle": page.get("handle") or "faq",
                                "updated_at": "2026-11-25T00:00:00+00:00"}
                        shop.resources["pages"].append(page)
                    return self._ok(201, {"page": page})
                m = re.match(r"^pages/(\d+)$", path)
                if m:
                    page = next((p for p in shop.resources["pages"] if str(p["id"]) == m.group(1)), None)
                    if page is None:
                        return self._ok(404, {"errors": "Not Found"})
                    if method == "PUT":
                        page.update({k: v for k, v in (body.get("page") or {}).items() if k != "id"})
                        shop._sorted.pop("pages", None)  # edited in place: its updated_at may have moved
                    return self._ok(200, {"page": page})
                return self._ok(404, {"errors": "Not Found"})

            def _list(self, resource, query, full_path):
                limit = int(query.get("limit", ["50"])[0])
                if limit > 250:
                    return self._ok(400, {"errors": {"limit": "must be at most 250"}})
                if "page_info" in query:
                    state = json.loads(base64.urlsafe_b64decode(query["page_info"][0]))
                    offset, since = state["offset"], state["since"]
                else:
                    offset, since = 0, query.get("updated_at_min", [""])[0]
                rows = shop.sorted_rows(resource)
                if since:
                    rows = [r for r in rows if (r.get("updated_at") or "") >= since]
                page = rows[offset:offset + limit]
                headers = {}
                if offset + limit < len(rows):
                    token = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit, "since": since}).encode())
                    next_query = urlencode({"limit": limit, "page_info": token.decode()})
                    headers["Link"] = f'<{shop.url}{full_path}?{next_query}>; rel="next"'
                return self._ok(200, {resource: page}, headers)

            def _graphql(self, body):
                query, variables = body.get("query") or "", body.get("variables") or {}
                with shop._lock:
                    replay = shop.graphql_throttled > 0
                    shop.graphql_throttled -= 1 if replay else 0
                if replay and shop.graphql_throttled_body:
                    return self._send(200, shop.graphql_throttled_body)
                cost = shop.graphql_cost
                allowed, throttle = shop._graphql_spend(0 if replay else cost)
                extensions = {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost if allowed else None,
                                       "throttleStatus": throttle}}
                if replay or not allowed:
                    return self._send(200, {"errors": [{"message": "Throttled", "extensions": {
                        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                        "extensions": extensions})
                operation = next((name for name in ("bulkOperationRunQuery", "currentBulkOperation")
                                  if name in query), "node" if re.search(r"\bnode\s*\(", query) else "query")
                shop.graphql_operations.append(operation)
                if operation == "bulkOperationRunQuery":
                    data = {"bulkOperationRunQuery": shop._bulk_start(variables.get("query") or "")}
                elif operation == "currentBulkOperation":
                    data = {"currentBulkOperation": shop._bulk_view(
                        shop.bulk_operations.get(shop.bulk_current or ""), poll=True)}
                elif operation == "node":
                    data = {"node": shop._bulk_view(shop.bulk_operations.get(variables.get("id") or ""), poll=False)}
                else:
                    data = {"shop": {"name": "Demo Shop"}}
                return self._send(200, {"data": data, "extensions": extensions})

            def _bulk_download(self, number: int):
                op = next((o for o in shop.bulk_operations.values() if o["number"] == number), None)
                shop.bulk_downloads.append(dict(self.headers))
                if op is None or op["status"] != "COMPLETED":
                    return self._send(404, {"errors": "Not Found"})
                body = b"".join(json.dumps(line).encode() + b"\n" for line in op["lines"])
                with shop._lock:
                    drop, shop.bulk_drop_after_lines = shop.bulk_drop_after_lines, None
                self.send_response(200)
                self.send_header("Content-Type", "application/jsonl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if drop is None:
                    return self.wfile.write(body)
                # A connection lost mid-file: fewer bytes than Content-Length promised, then close.
                self.wfile.write(b"".join(json.dumps(line).encode() + b"\n" for line in op["lines"][:drop]))
                self.wfile.flush()
                self.close_connection = True

        return Handler


_shared: FakeShop | None = None
_shared_lock = threading.Lock()


def fake_shop_url() -> str:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeShop()
        return _shared.url
