"""Shopify Admin API client: REST with Link pagination and leaky-bucket pacing, GraphQL with
cost-based pacing, and the Page API the FAQ publisher uses.

Docs: REST rate limits and pagination https://shopify.dev/docs/api/usage/rate-limits and
https://shopify.dev/docs/api/usage/pagination-rest ; GraphQL cost
https://shopify.dev/docs/api/usage/rate-limits#graphql-admin-api-rate-limits ; Pages
https://shopify.dev/docs/api/admin-rest/latest/resources/page .
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import requests
from django.conf import settings
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from integrations.http_retry import retry_after_seconds

logger = logging.getLogger(__name__)
PAGE_LIMIT = 250  # Shopify's maximum page size for REST lists
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class ShopifyError(Exception):
    def __init__(self, message: str, *, status: int = 0, permanent: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.permanent, self.retry_after = status, permanent, retry_after


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, (requests.ConnectionError, requests.Timeout)) or (
        isinstance(exc, ShopifyError) and not exc.permanent)


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, ShopifyError) and exc.retry_after is not None:
        return min(exc.retry_after, settings.SHOPIFY_MAX_RETRY_AFTER_SECONDS)
    return wait_random_exponential(multiplier=settings.SHOPIFY_BACKOFF_SECONDS, max=30)(state)


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class ShopifyClient:
    def __init__(self, *, base_url: str, access_token: str, api_version: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.session = session or requests.Session()
        self.session.headers.update({"X-Shopify-Access-Token": access_token, "Accept": "application/json"})
        # The GraphQL cost bucket as last reported, and what each query last cost: paces the next call.
        self._throttle: dict[str, float] | None = None
        self._query_costs: dict[str, float] = {}
        self._throttle_lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> ShopifyClient:
        if settings.SHOPIFY_MODE == "fake" and not settings.SHOPIFY_BASE_URL:
            from integrations.shopify.fake import fake_shop_url  # a development server: only in fake mode
            base = fake_shop_url()
        else:
            base = settings.SHOPIFY_BASE_URL or f"https://{settings.SHOPIFY_SHOP_DOMAIN}"
        return cls(base_url=base, access_token=settings.SHOPIFY_ACCESS_TOKEN or "fake-token",
                   api_version=settings.SHOPIFY_API_VERSION)

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}/admin/api/{self.api_version}/{path.lstrip('/')}"

    def _retrying(self) -> Retrying:
        return Retrying(retry=retry_if_exception(_retryable), wait=_wait, reraise=True,
                        stop=stop_after_attempt(settings.SHOPIFY_MAX_ATTEMPTS))

    # --- REST ------------------------------------------------------------------------------
    def rest(self, method: str, path: str, **kwargs) -> requests.Response:
        return self._retrying()(self._rest_once, method, path, **kwargs)

    def _rest_once(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.session.request(method, self._url(path), timeout=settings.SHOPIFY_TIMEOUT_SECONDS, **kwargs)
        if response.status_code == 429 or response.status_code >= 500:
            raise ShopifyError(f"Shopify answered {response.status_code} for {method} {path}",
                               status=response.status_code, permanent=False,
                               retry_after=retry_after_seconds(response.headers.get("Retry-After")))
        if response.status_code >= 400:
            raise ShopifyError(f"Shopify answered {response.status_code} for {method} {path}: {response.text[:300]}",
                               status=response.status_code)
        self._pace(response.headers.get("X-Shopify-Shop-Api-Call-Limit", ""))
        return response

    def _pace(self, call_limit: str) -> None:
        # Leaky bucket "used/size": slow down near the top instead of running into 429s.
        try:
            used, size = (int(x) for x in call_limit.split("/"))
        except ValueError:
            return
        if size and used / size >= 0.8:
            time.sleep(settings.SHOPIFY_PACE_SECONDS * (used - 0.8 * size + 1))

    def get_json(self, path: str, params: dict | None = None) -> dict:
        return self.rest("GET", path, params=params).json()

    def paginate(self, path: str, key: str, params: dict | None = None, *, page_info_url: str = ""):
        """Yield (rows, next_url) page by page, following the Link header's rel="next" (opaque page_info)."""
        url, query = (page_info_url, None) if page_info_url else (path, {**(params or {}), "limit": PAGE_LIMIT})
        while url:
            response = self.rest("GET", url, params=query)
            match = _LINK_NEXT.search(response.headers.get("Link", ""))
            url, query = (match.group(1) if match else ""), None
            yield response.json().get(key, []), url

    # --- GraphQL ---------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None) -> dict:
        return self._retrying()(self._graphql_once, query, variables or {})

    def _graphql_once(self, query: str, variables: dict) -> dict:
        self._graphql_pace(query)
        response = self._rest_once("POST", "graphql.json", json={"query": query, "variables": variables})
        body = response.json()
        if not isinstance(body, dict):
            raise ShopifyError(f"Shopify GraphQL answered a {type(body).__name__}, not an object", status=200)
        cost = (body.get("extensions") or {}).get("cost") or {}
        requested = _number(cost.get("requestedQueryCost"))
        self._graphql_observe(query, cost.get("throttleStatus"), requested)
        errors = body.get("errors") or []
        if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
            raise ShopifyError("Shopify GraphQL THROTTLED", status=200, permanent=False,
                               retry_after=self._graphql_wait(requested or 50.0))
        if errors:
            raise ShopifyError(f"Shopify GraphQL errors: {str(errors)[:300]}", status=200)
        return body.get("data") or {}

    def _graphql_observe(self, query: str, status, requested: float | None) -> None:
        with self._throttle_lock:
            if requested:
                self._query_costs[query] = requested
            if isinstance(status, dict) and all(_number(status.get(k)) is not None
                                                for k in ("maximumAvailable", "currentlyAvailable", "restoreRate")):
                self._throttle = {"maximum": float(status["maximumAvailable"]),
                                  "available": float(status["currentlyAvailable"]),
                                  "restore": float(status["restoreRate"]), "at": time.monotonic()}

    def _graphql_wait(self, needed: float) -> float:
        """Seconds until the bucket holds `needed` points: (needed - available) / restoreRate, the
        available points projected from the last report (the bucket refills continuously)."""
        with self._throttle_lock:
            bucket = self._throttle
            if bucket is None or bucket["restore"] <= 0:
                return 0.0
            available = min(bucket["maximum"], bucket["available"] + bucket["restore"] * (time.monotonic() - bucket["at"]))
            wait = (min(needed, bucket["maximum"]) - available) / bucket["restore"]
        return max(0.0, min(wait, settings.SHOPIFY_MAX_RETRY_AFTER_SECONDS))

    def _graphql_pace(self, query: str) -> None:
        # Wait for the points this query cost last time rather than be THROTTLED (and charged a round trip).
        needed = self._query_costs.get(query)
        wait = self._graphql_wait(needed) if needed else 0.0
        if wait > 0:
            logger.info("shopify graphql: waiting %.2fs for %s cost points", wait, needed)
            time.sleep(wait)

    # --- resources ---------------------------------------------------------------------------
    def order_get(self, order_id: str) -> dict:
        """GET orders/{id}.json (https://shopify.dev/docs/api/admin-rest/latest/resources/order#get-orders-order-id)."""
        return self.get_json(f"orders/{order_id}.json", {"status": "any"})["order"]

    def inventory_levels(self, inventory_item_id: str) -> list[dict]:
        """GET inventory_levels.json?inventory_item_ids= (every location's level of one item)."""
        return self.get_json("inventory_levels.json", {"inventory_item_ids": inventory_item_id})["inventory_levels"]

    def page_create(self, *, title: str, body_html: str, handle: str = "") -> dict:
        """POST pages.json (https://shopify.dev/docs/api/admin-rest/latest/resources/page#post-pages)."""
        page = {"title": title, "body_html": body_html, **({"handle": handle} if handle else {})}
        return self.rest("POST", "pages.json", json={"page": page}).json()["page"]

    def page_update(self, page_id: str, *, body_html: str, title: str | None = None) -> dict:
        """PUT pages/{id}.json (https://shopify.dev/docs/api/admin-rest/latest/resources/page#put-pages-page-id)."""
        page: dict[str, Any] = {"id": int(page_id), "body_html": body_html}
        if title:
            page["title"] = title
        return self.rest("PUT", f"pages/{page_id}.json", json={"page": page}).json()["page"]

    def shop_get(self) -> dict:
        """GET shop.json (https://shopify.dev/docs/api/admin-rest/latest/resources/shop#get-shop): the shop, if
        our token still works. After an uninstall Shopify revokes the token: 401 (or 404 for a closed shop)."""
        shop = self.get_json("shop.json").get("shop")
        if not isinstance(shop, dict):
            raise ShopifyError("Shopify answered shop.json without a shop object", status=200)
        return shop

    def page_get(self, page_id: str) -> dict:
        return self.get_json(f"pages/{page_id}.json")["page"]
