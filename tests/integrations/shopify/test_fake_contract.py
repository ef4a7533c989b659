"""The fake shop's HTTP contract, as a client sees it over a real connection: every route it serves,
its status codes, the headers our client reads (the call-limit bucket, Retry-After, the Link header's
page_info) and the body shapes, the 401/404/501 paths and the injected failures. The fake stands in
for Shopify in every other test, the benches and `make run`: whatever its code looks like, these
answers must not change."""

from __future__ import annotations

import base64
import http.client
import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from integrations.shopify.fake import FakeShop

TOKEN = {"X-Shopify-Access-Token": "shpat_0f3c2a9e7d"}
API = "/admin/api/2024-10"


def _customer(n: int, updated_at: str) -> dict:
    return {"id": 700 + n, "email": f"walker{n}@trailmail.example", "first_name": "Ada", "last_name": f"Hill{n}",
            "updated_at": updated_at}


def _order(n: int, updated_at: str) -> dict:
    return {"id": 4500 + n, "name": f"#10{n:02d}", "email": f"walker{n}@trailmail.example",
            "customer": {"id": 700 + n}, "financial_status": "paid", "fulfillment_status": None,
            "total_price": "89.90", "currency": "EUR", "line_items": [
                {"sku": "TENT-2P", "name": "Two-person tent", "quantity": 1, "price": "89.90"}],
            "created_at": updated_at, "updated_at": updated_at}


def _resources() -> dict:
    return {
        "customers": [_customer(n, f"2026-11-{10 - n:02d}T08:00:00+00:00") for n in range(5)],
        "orders": [_order(n, f"2026-11-0{n + 1}T12:00:00+00:00") for n in range(3)],
        "products": [{"id": 8001, "title": "Summit sleeping bag", "updated_at": "2026-11-01T00:00:00+00:00",
                      "variants": [{"id": 8501, "title": "Default Title", "sku": "BAG-SUMMIT", "price": "149.00",
                                    "inventory_item_id": 39001, "inventory_quantity": 7,
                                    "updated_at": "2026-11-01T00:00:00+00:00"}]},
                     {"id": 8002, "title": "Camp stove", "updated_at": "2026-11-02T00:00:00+00:00",
                      "variants": [{"id": 8502, "title": "Default Title", "sku": "STOVE-1", "price": "59.00",
                                    "inventory_item_id": 39002, "inventory_quantity": 0,
                                    "updated_at": "2026-11-02T00:00:00+00:00"}]}],
    }


@pytest.fixture
def shop():
    fake = FakeShop(_resources())
    yield fake
    fake.close()


def _get(shop: FakeShop, path: str, headers: dict | None = TOKEN, **params) -> requests.Response:
    return requests.get(f"{shop.url}{path}", headers=headers, params=params or None, timeout=5)


def _gql(shop: FakeShop, query: str, variables: dict | None = None) -> requests.Response:
    return requests.post(f"{shop.url}{API}/graphql.json", headers=TOKEN,
                         json={"query": query, "variables": variables or {}}, timeout=5)


def test_the_shop_answers_with_the_call_limit_header_and_json():
    shop = FakeShop()  # the demo shop, as `make run` serves it
    try:
        r = _get(shop, f"{API}/shop.json")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
        assert r.json()["shop"]["myshopify_domain"] == "demo-shop.myshopify.com"
        assert r.json()["shop"]["currency"] == "USD"
        orders = _get(shop, f"{API}/orders.json").json()["orders"]
        assert len(orders) == 10 and isinstance(orders[0]["id"], int)
        assert shop.requests == [("GET", f"{API}/shop.json"), ("GET", f"{API}/orders.json")]
    finally:
        shop.close()


def test_lists_page_through_the_link_header_in_updated_at_order(shop):
    r = _get(shop, f"{API}/customers.json", limit=2)
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["customers"]] == [704, 703]  # updated_at ascending
    seen = [c["id"] for c in r.json()["customers"]]
    pages = 1
    while "Link" in r.headers:
        link = r.headers["Link"]
        assert link.endswith('>; rel="next"') and link.startswith(f"<{shop.url}{API}/customers.json?")
        next_url = link[1:link.index(">")]
        query = parse_qs(urlparse(next_url).query)
        assert query["limit"] == ["2"] and set(query) == {"limit", "page_info"}
        r = requests.get(next_url, headers=TOKEN, timeout=5)
        assert r.status_code == 200
        seen += [c["id"] for c in r.json()["customers"]]
        pages += 1
    assert pages == 3 and seen == [704, 703, 702, 701, 700]
    assert shop.page_requests("customers") == 3


def test_a_list_since_a_time_keeps_the_filter_on_every_page(shop):
    r = _get(shop, f"{API}/customers.json", limit=1, updated_at_min="2026-11-08T00:00:00+00:00")
    assert [c["id"] for c in r.json()["customers"]] == [702]
    token = parse_qs(urlparse(r.headers["Link"][1:r.headers["Link"].index(">")]).query)["page_info"][0]
    state = json.loads(base64.urlsafe_b64decode(token))
    assert state == {"offset": 1, "since": "2026-11-08T00:00:00+00:00"}
    r = _get(shop, f"{API}/customers.json", limit=1, page_info=token)
    assert [c["id"] for c in r.json()["customers"]] == [701]
    token = parse_qs(urlparse(r.headers["Link"][1:r.headers["Link"].index(">")]).query)["page_info"][0]
    r = _get(shop, f"{API}/customers.json", limit=1, page_info=token)
    assert [c["id"] for c in r.json()["customers"]] == [700] and "Link" not in r.headers


def test_every_listed_resource_and_the_default_page_size(shop):
    assert [o["id"] for o in _get(shop, f"{API}/orders.json").json()["orders"]] == [4500, 4501, 4502]
    assert [p["id"] for p in _get(shop, f"{API}/products.json").json()["products"]] == [8001, 8002]
    assert _get(shop, f"{API}/pages.json").json() == {"pages": []}
    shop.resources["orders"] = [_order(n, f"2026-10-01T00:{n // 60:02d}:{n % 60:02d}+00:00") for n in range(60)]
    r = _get(shop, f"{API}/orders.json")
    assert len(r.json()["orders"]) == 50 and 'rel="next"' in r.headers["Link"]


def test_a_page_larger_than_250_is_refused(shop):
    r = _get(shop, f"{API}/orders.json", limit=251)
    assert r.status_code == 400
    assert r.json() == {"errors": {"limit": "must be at most 250"}}
    assert r.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    assert _get(shop, f"{API}/orders.json", limit=250).status_code == 200


def test_one_order_by_id_or_404(shop):
    r = _get(shop, f"{API}/orders/4501.json")
    assert r.status_code == 200 and r.json()["order"]["name"] == "#1001"
    r = _get(shop, f"{API}/orders/999.json")
    assert r.status_code == 404 and r.json() == {"errors": "Not Found"}
    assert r.headers["X-Shopify-Shop-Api-Call-Limit"] == "2/40"


def test_inventory_levels_for_the_asked_items(shop):
    r = _get(shop, f"{API}/inventory_levels.json", inventory_item_ids="39002,123")
    assert r.status_code == 200
    assert r.json() == {"inventory_levels": [{"inventory_item_id": 39002, "location_id": 1, "available": 0,
                                              "updated_at": "2026-11-02T00:00:00+00:00"}]}
    shop.resources["inventory_levels"] = [
        {"inventory_item_id": 39001, "location_id": 11, "available": 3, "updated_at": "2026-11-05T00:00:00+00:00"},
        {"inventory_item_id": 39001, "location_id": 12, "available": 4, "updated_at": "2026-11-05T00:00:00+00:00"}]
    levels = _get(shop, f"{API}/inventory_levels.json", inventory_item_ids="39001").json()["inventory_levels"]
    assert [lvl["location_id"] for lvl in levels] == [11, 12]
    assert _get(shop, f"{API}/inventory_levels.json").json() == {"inventory_levels": []}


def test_pages_are_created_read_and_updated(shop):
    url = f"{shop.url}{API}/pages.json"
    r = requests.post(url, headers=TOKEN, json={"page": {"title": "FAQ", "body_html": "<p>Returns: 30 days</p>"}},
                      timeout=5)
    assert r.status_code == 201
    page = r.json()["page"]
    assert page == {"title": "FAQ", "body_html": "<p>Returns: 30 days</p>", "id": 131092083, "handle": "faq",
                    "updated_at": "2026-11-25T00:00:00+00:00"}
    r = requests.post(url, headers=TOKEN, json={"page": {"title": "Shipping", "handle": "shipping"}}, timeout=5)
    assert r.json()["page"]["id"] == 131092084 and r.json()["page"]["handle"] == "shipping"
    r = requests.post(url, headers=TOKEN, json={"page": {"body_html": "no title"}}, timeout=5)
    assert r.status_code == 422 and r.json() == {"errors": {"title": ["can't be blank"]}}

    one = f"{shop.url}{API}/pages/131092083.json"
    assert requests.get(one, headers=TOKEN, timeout=5).json() == {"page": page}
    r = requests.put(one, headers=TOKEN, json={"page": {"id": 1, "body_html": "<p>Returns: 60 days</p>",
                                                        "updated_at": "2026-12-01T00:00:00+00:00"}}, timeout=5)
    assert r.status_code == 200
    assert r.json()["page"]["id"] == 131092083 and r.json()["page"]["body_html"] == "<p>Returns: 60 days</p>"
    listed = _get(shop, f"{API}/pages.json").json()["pages"]
    assert [p["id"] for p in listed] == [131092084, 131092083]  # the edit moved its updated_at
    r = requests.put(f"{shop.url}{API}/pages/5.json", headers=TOKEN, json={"page": {"title": "x"}}, timeout=5)
    assert r.status_code == 404 and r.json() == {"errors": "Not Found"}


def test_a_full_bucket_answers_429_with_retry_after_and_leaks():
    shop = FakeShop(_resources(), bucket_size=3, leak_per_second=0.0)
    try:
        limits = [_get(shop, f"{API}/shop.json").headers["X-Shopify-Shop-Api-Call-Limit"] for _ in range(3)]
        assert limits == ["1/3", "2/3", "3/3"]
        r = _get(shop, f"{API}/shop.json")
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "1.0" and r.headers["X-Shopify-Shop-Api-Call-Limit"] == "3/3"
        assert r.json()["errors"].startswith("Exceeded 2 calls per second for api client.")
        shop.fill_bucket(0)
        assert _get(shop, f"{API}/shop.json").headers["X-Shopify-Shop-Api-Call-Limit"] == "1/3"
        times = shop.request_times("/shop.json")
        assert len(times) == 5 and times == sorted(times)
    finally:
        shop.close()


def test_a_drained_bucket_refills_at_the_leak_rate(shop):
    shop.fill_bucket(40)
    shop.leak_per_second = 0.0
    assert _get(shop, f"{API}/orders.json").status_code == 429
    shop.leak_per_second = 1_000_000.0
    r = _get(shop, f"{API}/orders.json")
    assert r.status_code == 200 and r.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"


def test_no_token_or_an_uninstalled_app_answers_401(shop):
    r = _get(shop, f"{API}/orders.json", headers=None)
    assert r.status_code == 401 and r.json() == {"errors": "[API] Invalid API key or access token"}
    assert "X-Shopify-Shop-Api-Call-Limit" not in r.headers
    shop.installed = False
    assert _get(shop, f"{API}/orders.json").status_code == 401
    assert _gql(shop, "{ shop { name } }").status_code == 401


def test_unknown_paths_and_methods(shop):
    r = _get(shop, "/api/orders")
    assert r.status_code == 404 and r.json() == {"errors": "Not Found"}
    assert "X-Shopify-Shop-Api-Call-Limit" not in r.headers
    r = _get(shop, f"{API}/webhooks.json")  # a resource the fake does not keep: counted, then 404
    assert r.status_code == 404 and r.json() == {"errors": "Not Found"}
    assert r.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    r = requests.post(f"{shop.url}{API}/orders.json", headers=TOKEN, json={"order": {}}, timeout=5)
    assert r.status_code == 404 and r.json() == {"errors": "Not Found"}
    r = _get(shop, f"{API}/graphql.json")  # GraphQL takes POST only
    assert r.status_code == 404
    r = requests.delete(f"{shop.url}{API}/pages/1.json", headers=TOKEN, timeout=5)
    assert r.status_code == 501  # no such verb at all: the HTTP server's own answer
    assert ("DELETE", f"{API}/pages/1.json") not in shop.requests


def test_injected_failures_come_before_auth_with_retry_after_when_given(shop):
    shop.fail_next(429, retry_after=2.5)
    shop.fail_next(500, times=2)
    r = _get(shop, f"{API}/orders.json", headers=None)
    assert r.status_code == 429 and r.headers["Retry-After"] == "2.5"
    assert r.json() == {"errors": "Exceeded 2 calls per second for api client."}
    for _ in range(2):
        r = _get(shop, f"{API}/orders.json")
        assert r.status_code == 500 and r.json() == {"errors": "Internal Server Error"}
        assert "Retry-After" not in r.headers and "X-Shopify-Shop-Api-Call-Limit" not in r.headers
    shop.fail_next(503, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")
    r = _gql(shop, "{ shop { name } }")
    assert r.status_code == 503 and r.headers["Retry-After"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert _get(shop, f"{API}/orders.json").status_code == 200
    assert _get(shop, f"{API}/orders.json").headers["X-Shopify-Shop-Api-Call-Limit"] == "2/40"


def test_a_failure_for_the_nth_request_to_a_path(shop):
    _get(shop, f"{API}/orders.json")
    shop.fail_request("/orders.json", nth=2, status=502)
    assert _get(shop, f"{API}/customers.json").status_code == 200
    assert _get(shop, f"{API}/orders.json").status_code == 200
    r = _get(shop, f"{API}/orders.json")
    assert r.status_code == 502 and r.json() == {"errors": "Internal Server Error"}
    assert shop.path_failures == []
    assert _get(shop, f"{API}/orders.json").status_code == 200


def test_graphql_answers_with_its_cost_and_throttle_status(shop):
    r = _gql(shop, "{ shop { name } }")
    assert r.status_code == 200 and "X-Shopify-Shop-Api-Call-Limit" not in r.headers
    body = r.json()
    assert body["data"] == {"shop": {"name": "Demo Shop"}}
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1.0 and cost["actualQueryCost"] == 1.0
    assert cost["throttleStatus"]["maximumAvailable"] == 1000.0 and cost["throttleStatus"]["restoreRate"] == 50.0
    assert 999.0 <= cost["throttleStatus"]["currentlyAvailable"] <= 1000.0
    assert shop.graphql_operations == ["query"]


def test_graphql_over_budget_is_throttled_then_restores(shop):
    shop.throttle_graphql(available=5.0, restore_rate=0.0, cost=10.0, maximum=100.0)
    r = _gql(shop, "{ shop { name } }")
    assert r.status_code == 200
    body = r.json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED" and "data" not in body
    assert body["extensions"]["cost"] == {"requestedQueryCost": 10.0, "actualQueryCost": None, "throttleStatus": {
        "maximumAvailable": 100.0, "currentlyAvailable": 5.0, "restoreRate": 0.0}}
    assert shop.graphql_throttled_answers == 1 and shop.graphql_operations == []
    shop.throttle_graphql(available=20.0, restore_rate=0.0, cost=10.0, maximum=100.0)
    cost = _gql(shop, "{ shop { name } }").json()["extensions"]["cost"]
    assert cost["actualQueryCost"] == 10.0 and cost["throttleStatus"]["currentlyAvailable"] == 10.0


def test_graphql_replays_a_recorded_throttled_answer(shop):
    recorded = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                "extensions": {"cost": {"requestedQueryCost": 12}}}
    shop.graphql_throttled, shop.graphql_throttled_body = 1, recorded
    assert _gql(shop, "{ shop { name } }").json() == recorded
    assert _gql(shop, "{ shop { name } }").json()["data"] == {"shop": {"name": "Demo Shop"}}
    shop.graphql_throttled, shop.graphql_throttled_body = 1, None
    body = _gql(shop, "{ shop { name } }").json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] == 1.0  # nothing was spent on the replayed refusal
    assert shop.graphql_throttled == 0


RUN = ("mutation run($query: String!) { bulkOperationRunQuery(query: $query) "
       "{ bulkOperation { id status } userErrors { field message } } }")
CURRENT = "{ currentBulkOperation { id status errorCode objectCount url partialDataUrl } }"
NODE = "query op($id: ID!) { node(id: $id) { ... on BulkOperation { id status url } } }"


def test_a_bulk_operation_runs_completes_and_downloads_as_jsonl(shop):
    query = "{ orders(query: \"updated_at:>='2026-11-02T00:00:00Z'\") { edges { node { id } } } }"
    started = _gql(shop, RUN, {"query": query}).json()["data"]["bulkOperationRunQuery"]
    assert started == {"bulkOperation": {"id": "gid://shopify/BulkOperation/720001", "status": "CREATED"},
                       "userErrors": []}
    busy = _gql(shop, RUN, {"query": query}).json()["data"]["bulkOperationRunQuery"]
    assert busy["bulkOperation"] is None and "already in progress" in busy["userErrors"][0]["message"]

    first = _gql(shop, CURRENT).json()["data"]["currentBulkOperation"]
    assert first == {"id": "gid://shopify/BulkOperation/720001", "status": "RUNNING", "errorCode": None,
                     "objectCount": "0", "url": None, "partialDataUrl": None}
    node = _gql(shop, NODE, {"id": started["bulkOperation"]["id"]}).json()["data"]["node"]
    assert node["status"] == "RUNNING"  # reading by id does not move it on
    done = _gql(shop, CURRENT).json()["data"]["currentBulkOperation"]
    assert done["status"] == "COMPLETED" and done["url"] == f"{shop.url}/bulk/1.jsonl"
    assert done["objectCount"] == "4"  # two orders since the 2nd, each with one line item
    assert _gql(shop, NODE, {"id": "gid://shopify/BulkOperation/9"}).json()["data"] == {"node": None}
    assert shop.graphql_operations == ["bulkOperationRunQuery", "bulkOperationRunQuery", "currentBulkOperation",
                                       "node", "currentBulkOperation", "node"]

    r = requests.get(done["url"], timeout=5)  # a signed URL: no token
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/jsonl"
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [line["id"] for line in lines] == ["gid://shopify/Order/4501", "gid://shopify/LineItem/4501000",
                                              "gid://shopify/Order/4502", "gid://shopify/LineItem/4502000"]
    assert lines[1]["__parentId"] == "gid://shopify/Order/4501"
    assert "X-Shopify-Access-Token" not in shop.bulk_downloads[-1]
    assert ("GET", "/bulk/1.jsonl") in shop.requests


def test_a_bulk_query_on_nothing_known_is_refused(shop):
    body = _gql(shop, RUN, {"query": "{ giftCards { edges { node { id } } } }"}).json()
    assert body["data"]["bulkOperationRunQuery"] == {"bulkOperation": None, "userErrors": [
        {"field": ["query"], "message": "Invalid bulk query: must select customers, orders or products"}]}


def test_a_bulk_operation_can_be_made_to_fail(shop):
    shop.bulk_fail = "ACCESS_DENIED"
    shop.bulk_polls_to_complete = 1
    _gql(shop, RUN, {"query": "{ customers { edges { node { id } } } }"})
    op = _gql(shop, CURRENT).json()["data"]["currentBulkOperation"]
    assert op["status"] == "FAILED" and op["errorCode"] == "ACCESS_DENIED" and op["url"] is None
    assert shop.bulk_fail is None
    second = _gql(shop, RUN, {"query": "{ products { edges { node { id } } } }"}).json()
    assert second["data"]["bulkOperationRunQuery"]["bulkOperation"]["status"] == "CREATED"


def test_a_download_skips_injected_failures_and_can_break_off(shop):
    shop.bulk_polls_to_complete = 1
    _gql(shop, RUN, {"query": "{ customers { edges { node { id } } } }"})
    url = _gql(shop, CURRENT).json()["data"]["currentBulkOperation"]["url"]
    shop.fail_next(500)
    assert requests.get(url, timeout=5).status_code == 200  # the injected failure waits for an API call
    assert _get(shop, f"{API}/shop.json").status_code == 500

    shop.bulk_drop_after_lines = 2
    conn = http.client.HTTPConnection(urlparse(url).hostname, urlparse(url).port, timeout=5)
    conn.request("GET", urlparse(url).path)
    resp = conn.getresponse()
    assert resp.status == 200 and int(resp.getheader("Content-Length")) > 0
    with pytest.raises(http.client.IncompleteRead) as broken:
        resp.read()
    assert len(broken.value.partial.splitlines()) == 2
    conn.close()
    assert shop.bulk_drop_after_lines is None
    assert len(requests.get(url, timeout=5).text.splitlines()) == 5

    missing = requests.get(f"{shop.url}/bulk/7.jsonl", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"errors": "Not Found"}
