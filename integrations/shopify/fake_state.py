"""The fake shop's state (integrations/shopify/fake.py serves it over HTTP): the shop's resources,
the REST leaky call bucket and the GraphQL cost bucket, bulk operations, the request log and the
failures a test asks for. The demo shop's data in Shopify's shapes comes from fake_data.py."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime

from integrations.shopify.fake_data import demo_shop_resources, gid, graphql_lines

_BULK_ROOT = re.compile(r"^\s*\{\s*(customers|orders|products)\s*(\(([^)]*)\))?", re.S)
_BULK_SINCE = re.compile(r"updated_at:>=\s*'?([^'\s\"]+)'?")


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class ShopState:
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
        self.url = ""  # where the shop is served (bulk operations' download URLs)

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

    def arrived(self, method: str, path: str) -> list | None:
        """Log a request; the fail_request rule it is the nth request for, if any (used up)."""
        with self._lock:
            self.requests.append((method, path))
            self.request_log.append((method, path, time.monotonic()))
            count = {rule[0]: len([r for r in self.requests if r[1].endswith(rule[0])]) for rule in self.path_failures}
            rule = next((r for r in self.path_failures if count[r[0]] == r[1]), None)
            if rule:
                self.path_failures.remove(rule)
            return rule

    def next_failure(self, rule: list | None) -> tuple[int, float | str | None] | None:
        """The failure this request answers with: fail_next's queue is used up either way."""
        with self._lock:
            failure = self.failures.pop(0) if self.failures else None
        return (rule[2], None) if rule else failure

    def inventory_levels(self, item_ids: set[str]) -> list[dict]:
        # A test may give levels per location ("inventory_levels"); else one location per variant.
        return [lvl for lvl in self.resources.get("inventory_levels") or [
            {"inventory_item_id": v["inventory_item_id"], "location_id": 1,
             "available": v["inventory_quantity"], "updated_at": v["updated_at"]}
            for p in self.resources["products"] for v in p["variants"]]
            if str(lvl["inventory_item_id"]) in item_ids]

    def list_rows(self, resource: str, *, offset: int, limit: int, since: str) -> tuple[list[dict], bool]:
        """One page of the resource in updated_at order since `since`, and whether more follow."""
        rows = self.sorted_rows(resource)
        if since:
            rows = [r for r in rows if (r.get("updated_at") or "") >= since]
        return rows[offset:offset + limit], offset + limit < len(rows)

    def page_create(self, page: dict) -> dict:
        with self._lock:
            self._next_page_id += 1
            page = {**page, "id": self._next_page_id, "handle": page.get("handle") or "faq",
                    "updated_at": "2026-11-25T00:00:00+00:00"}
            self.resources["pages"].append(page)
        return page

    def page_find(self, page_id: str) -> dict | None:
        return next((p for p in self.resources["pages"] if str(p["id"]) == page_id), None)

    def page_update(self, page: dict, fields: dict) -> None:
        page.update({k: v for k, v in fields.items() if k != "id"})
        self._sorted.pop("pages", None)  # edited in place: its updated_at may have moved

    def graphql_replay(self) -> bool:
        """Whether this GraphQL call is one of the `graphql_throttled` answers a test asked for."""
        with self._lock:
            replay = self.graphql_throttled > 0
            self.graphql_throttled -= 1 if replay else 0
        return replay

    def bulk_download(self, number: int, headers: dict) -> tuple[dict | None, int | None]:
        """The completed operation whose JSONL is asked for (None if none), and the line after
        which this download breaks off (None: the whole file)."""
        op = next((o for o in self.bulk_operations.values() if o["number"] == number), None)
        self.bulk_downloads.append(headers)
        if op is None or op["status"] != "COMPLETED":
            return None, None
        with self._lock:
            drop, self.bulk_drop_after_lines = self.bulk_drop_after_lines, None
        return op, drop
