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

This module is the HTTP layer: `FakeShop._answer` (log, injected failures, token, call bucket) and a
route table of small handlers. The state they read and change is `ShopState` (fake_state.py).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from urllib.parse import urlencode

from integrations.fake_http import Request, Response, dispatch, json_response, route, serve
from integrations.shopify.fake_state import ShopState

_ADMIN = re.compile(r"/admin/api/[^/]+/(.+)\.json")
_DOWNLOAD = re.compile(r"/bulk/(\d+)\.jsonl")
_NOT_FOUND = {"errors": "Not Found"}
_OVER_LIMIT = "Exceeded 2 calls per second for api client."


class FakeShop(ShopState):
    def __init__(self, resources: dict | None = None, *, bucket_size: int = 40, leak_per_second: float = 2.0):
        super().__init__(resources, bucket_size=bucket_size, leak_per_second=leak_per_second)
        self.httpd, self.url = serve(self._answer, ("GET", "POST", "PUT"))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _answer(self, req: Request) -> Response:
        rule = self.arrived(req.method, req.path)
        if req.method == "GET" and (download := _DOWNLOAD.fullmatch(req.path)):
            return _bulk_download(self, req, int(download.group(1)))  # a signed URL: no token, no failures
        if failure := self.next_failure(rule):
            return _injected(*failure)
        if not req.headers.get("X-Shopify-Access-Token") or not self.installed:
            return json_response(401, {"errors": "[API] Invalid API key or access token"})
        admin = _ADMIN.fullmatch(req.path)
        if not admin:
            return json_response(404, _NOT_FOUND)
        if admin.group(1) == "graphql" and req.method == "POST":
            return _graphql(self, req)
        allowed, used = self._rest_call_allowed()
        call_limit = {"X-Shopify-Shop-Api-Call-Limit": f"{used}/{self.bucket_size}"}
        if not allowed:  # Shopify's answer to a full bucket
            return json_response(429, {"errors": f"{_OVER_LIMIT} Reduce request rates to resume uninterrupted "
                                       "service."}, {**call_limit, "Retry-After": "1.0"})
        response = dispatch(REST_ROUTES, self, req, admin.group(1)) or json_response(404, _NOT_FOUND)
        response.headers.update(call_limit)
        return response


def _injected(status: int, retry_after: float | str | None) -> Response:
    return json_response(status, {"errors": _OVER_LIMIT if status == 429 else "Internal Server Error"},
                         {"Retry-After": str(retry_after)} if retry_after is not None else None)


def _shop(shop: FakeShop, req: Request) -> Response:
    return json_response(200, {"shop": {
        "id": 548380009, "name": "Demo Shop", "email": "owner@demo-shop.example", "domain": "demo-shop.example",
        "myshopify_domain": "demo-shop.myshopify.com", "plan_name": "basic", "currency": "USD"}})


def _list(shop: FakeShop, req: Request) -> Response:
    resource, limit = req.match.group(0), int(req.arg("limit", "50"))
    if limit > 250:
        return json_response(400, {"errors": {"limit": "must be at most 250"}})
    if "page_info" in req.query:
        state = json.loads(base64.urlsafe_b64decode(req.arg("page_info")))
        offset, since = state["offset"], state["since"]
    else:
        offset, since = 0, req.arg("updated_at_min", "")
    rows, more = shop.list_rows(resource, offset=offset, limit=limit, since=since)
    headers = {}
    if more:
        token = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit, "since": since}).encode())
        next_query = urlencode({"limit": limit, "page_info": token.decode()})
        headers["Link"] = f'<{shop.url}{req.path}?{next_query}>; rel="next"'
    return json_response(200, {resource: rows}, headers)


def _order(shop: FakeShop, req: Request) -> Response:
    order = next((o for o in shop.resources["orders"] if str(o["id"]) == req.match.group(1)), None)
    return json_response(200, {"order": order}) if order else json_response(404, _NOT_FOUND)


def _inventory_levels(shop: FakeShop, req: Request) -> Response:
    item_ids = set(req.arg("inventory_item_ids", "").split(","))
    return json_response(200, {"inventory_levels": shop.inventory_levels(item_ids)})


def _page_create(shop: FakeShop, req: Request) -> Response:
    page = req.json().get("page") or {}
    if not page.get("title"):
        return json_response(422, {"errors": {"title": ["can't be blank"]}})
    return json_response(201, {"page": shop.page_create(page)})


def _page(shop: FakeShop, req: Request) -> Response:
    page = shop.page_find(req.match.group(1))
    if page is None:
        return json_response(404, _NOT_FOUND)
    if req.method == "PUT":
        shop.page_update(page, req.json().get("page") or {})
    return json_response(200, {"page": page})


# Matched against the path between /admin/api/<version>/ and .json, in order.
REST_ROUTES = [
    route("GET", r"shop", _shop),
    route("GET", r"customers|orders|products|pages", _list),
    route("GET", r"orders/(\d+)", _order),
    route("GET", r"inventory_levels", _inventory_levels),
    route("POST", r"pages", _page_create),
    route("GET POST PUT", r"pages/(\d+)", _page),
]


def _graphql(shop: FakeShop, req: Request) -> Response:
    body = req.json()
    replay = shop.graphql_replay()
    if replay and shop.graphql_throttled_body:
        return json_response(200, shop.graphql_throttled_body)
    cost = shop.graphql_cost
    allowed, throttle = shop._graphql_spend(0 if replay else cost)
    extensions = {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost if allowed else None,
                           "throttleStatus": throttle}}
    if replay or not allowed:
        return json_response(200, {"errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": extensions})
    data = _graphql_data(shop, body.get("query") or "", body.get("variables") or {})
    return json_response(200, {"data": data, "extensions": extensions})


def _graphql_data(shop: FakeShop, query: str, variables: dict) -> dict:
    operation = next((name for name in ("bulkOperationRunQuery", "currentBulkOperation") if name in query),
                     "node" if re.search(r"\bnode\s*\(", query) else "query")
    shop.graphql_operations.append(operation)
    if operation == "bulkOperationRunQuery":
        return {"bulkOperationRunQuery": shop._bulk_start(variables.get("query") or "")}
    if operation == "currentBulkOperation":
        return {"currentBulkOperation": shop._bulk_view(shop.bulk_operations.get(shop.bulk_current or ""), poll=True)}
    if operation == "node":
        return {"node": shop._bulk_view(shop.bulk_operations.get(variables.get("id") or ""), poll=False)}
    return {"shop": {"name": "Demo Shop"}}


def _jsonl(lines: list[dict]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def _bulk_download(shop: FakeShop, req: Request, number: int) -> Response:
    op, drop = shop.bulk_download(number, dict(req.headers))
    if op is None:
        return json_response(404, _NOT_FOUND)
    body = _jsonl(op["lines"])
    if drop is None:
        return Response(200, body, content_type="application/jsonl")
    # A connection lost mid-file: fewer bytes than Content-Length promised, then close.
    return Response(200, _jsonl(op["lines"][:drop]), content_type="application/jsonl", content_length=len(body))


_shared: FakeShop | None = None
_shared_lock = threading.Lock()


def fake_shop_url() -> str:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FakeShop()
        return _shared.url
