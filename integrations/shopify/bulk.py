"""Shopify GraphQL bulk operations: start an export, poll it, stream its JSONL.

A bulk query runs on Shopify's side with no cost limit; we poll `currentBulkOperation` with
backoff until it is COMPLETED (or FAILED/CANCELED/EXPIRED), then read the JSONL file line by
line, never whole. Each line is one object with its gid; the nodes of a nested connection come
as separate lines after their parent, naming it in `__parentId`, and are put back under the
parent as `{field: {"nodes": [...]}}` so normalizers see ordinary GraphQL shapes.

Docs: https://shopify.dev/docs/api/usage/bulk-operations/queries
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import requests
from django.conf import settings

from integrations.shopify.client import ShopifyClient, ShopifyError

logger = logging.getLogger(__name__)

_RUN = """mutation bulkOperationRunQuery($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message } }
}"""
_CURRENT = "query { currentBulkOperation { id status errorCode objectCount url partialDataUrl } }"
_NODE = """query bulkOperation($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount url partialDataUrl } }
}"""
_RUNNING = {"CREATED", "RUNNING", "CANCELING"}
POLL_MAX_SECONDS = 30.0
TIMEOUT_SECONDS = 6 * 3600.0  # a large shop's export takes minutes to hours


class BulkOperationError(ShopifyError):
    """A bulk operation Shopify refused, that ended without data, or whose file is malformed."""


@dataclass(frozen=True)
class BulkOperation:
    id: str
    status: str
    url: str | None = None
    error_code: str | None = None
    object_count: int = 0
    partial_data_url: str | None = None

    @classmethod
    def parse(cls, data) -> BulkOperation:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("status"), str):
            raise BulkOperationError(f"Shopify answered a bulk operation without id and status: {str(data)[:200]}")
        count = data.get("objectCount")
        return cls(id=data["id"], status=data["status"], url=data.get("url") or None,
                   error_code=data.get("errorCode") or None, partial_data_url=data.get("partialDataUrl") or None,
                   object_count=int(count) if isinstance(count, (int, str)) and str(count).isdigit() else 0)


def bulk_operation_start(client: ShopifyClient, *, query: str) -> BulkOperation:
    """mutation bulkOperationRunQuery (https://shopify.dev/docs/api/admin-graphql/latest/mutations/bulkoperationrunquery)."""
    answer = client.graphql(_RUN, {"query": query}).get("bulkOperationRunQuery") or {}
    errors = answer.get("userErrors") or []
    if errors:
        messages = "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors)
        raise BulkOperationError(f"Shopify refused the bulk query: {messages}"[:500], status=200)
    return BulkOperation.parse(answer.get("bulkOperation"))


def bulk_operation_current(client: ShopifyClient) -> BulkOperation | None:
    """query currentBulkOperation (https://shopify.dev/docs/api/admin-graphql/latest/queries/currentbulkoperation)."""
    data = client.graphql(_CURRENT).get("currentBulkOperation")
    return BulkOperation.parse(data) if data else None


def bulk_operation_get(client: ShopifyClient, *, operation_id: str) -> BulkOperation | None:
    """query node(id:) on BulkOperation: a finished export's URL stays valid for a week (resuming a backfill)."""
    data = client.graphql(_NODE, {"id": operation_id}).get("node")
    return BulkOperation.parse(data) if data else None


def bulk_operation_wait(client: ShopifyClient, *, operation_id: str, poll_seconds: float | None = None,
                        timeout_seconds: float = TIMEOUT_SECONDS) -> BulkOperation:
    """Poll currentBulkOperation, doubling the wait up to POLL_MAX_SECONDS, until our operation ends.
    COMPLETED is returned; FAILED, CANCELED or EXPIRED raise, naming Shopify's errorCode."""
    wait = poll_seconds if poll_seconds is not None else settings.SHOPIFY_BACKOFF_SECONDS
    deadline = time.monotonic() + timeout_seconds
    while True:
        op = bulk_operation_current(client)
        if op is None or op.id != operation_id:
            # Another export replaced ours as the current one: ask for ours by id.
            op = bulk_operation_get(client, operation_id=operation_id)
            if op is None:
                raise BulkOperationError(f"Shopify knows no bulk operation {operation_id}")
        if op.status == "COMPLETED":
            return op
        if op.status not in _RUNNING:
            partial = f"; partial data at {op.partial_data_url}" if op.partial_data_url else ""
            raise BulkOperationError(
                f"Shopify bulk operation {op.id} ended {op.status} (errorCode {op.error_code or 'none'}){partial}",
                status=200)
        if time.monotonic() + wait > deadline:
            raise BulkOperationError(f"Shopify bulk operation {op.id} still {op.status} after {timeout_seconds:.0f}s",
                                     status=200, permanent=False)
        time.sleep(wait)
        wait = min(max(wait, 0.01) * 2, POLL_MAX_SECONDS)


def bulk_lines(url: str) -> Iterator[dict]:
    """The JSONL file, one object per line, streamed. The URL is signed cloud storage, not the
    Admin API: it gets no access token (a plain request, not the client's session)."""
    try:
        response = requests.get(url, stream=True, timeout=settings.SHOPIFY_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise ShopifyError(f"bulk download failed: {exc}", permanent=False) from exc
    with response:
        if response.status_code != 200:
            raise BulkOperationError(f"bulk download answered {response.status_code}",
                                     status=response.status_code, permanent=response.status_code < 500)
        number = 0
        try:
            for number, raw in enumerate(response.iter_lines(chunk_size=65536), start=1):
                yield from _parse_line(number, raw)
        except requests.RequestException as exc:
            # A broken-off download is transient: the export stays on Shopify's side for a week.
            raise ShopifyError(f"bulk download broke off after line {number}: {exc}", permanent=False) from exc


def _parse_line(number: int, raw: bytes) -> Iterator[dict]:
    if not raw.strip():
        return
    try:
        line = json.loads(raw)
    except ValueError:
        raise BulkOperationError(f"bulk file line {number} is not JSON: {raw[:100]!r}") from None
    if not isinstance(line, dict) or not isinstance(line.get("id"), str):
        raise BulkOperationError(f"bulk file line {number} has no gid 'id': {raw[:100]!r}")
    yield line


def _connection_field(gid: str) -> str:
    """gid://shopify/LineItem/1 -> lineItems: the connection a child line came from."""
    kind = gid.split("/")[-2] if gid.count("/") >= 3 else "node"
    return kind[:1].lower() + kind[1:] + "s"


def bulk_objects(lines: Iterator[dict], *, connections: dict[str, str] | None = None) -> Iterator[dict]:
    """Top-level objects, each with its children (at any depth) under `{field: {"nodes": [...]}}`.
    Children follow their parent in the file, so one object is held at a time; a child whose
    parent is not the object being read is refused, not silently dropped."""
    connections = connections or {}
    current: dict | None = None
    members: dict[str, dict] = {}
    for line in lines:
        parent_id = line.pop("__parentId", None)
        if parent_id is None:
            if current is not None:
                yield current
            current, members = line, {line["id"]: line}
            continue
        parent = members.get(parent_id)
        if parent is None:
            raise BulkOperationError(f"bulk file: {line['id']} names parent {parent_id}, which is not the object "
                                     f"being read ({current['id'] if current else 'none'})")
        kind = line["id"].split("/")[-2] if line["id"].count("/") >= 3 else ""
        field = connections.get(kind) or _connection_field(line["id"])
        connection = parent.get(field)
        if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list):
            connection = parent[field] = {"nodes": []}
        connection["nodes"].append(line)
        members[line["id"]] = line
    if current is not None:
        yield current


def bulk_query_objects(client: ShopifyClient, *, query: str, connections: dict[str, str] | None = None,
                       poll_seconds: float | None = None) -> tuple[str, Iterator[dict]]:
    """Run a bulk query to the end and stream its objects: (operation id, objects)."""
    op = bulk_operation_start(client, query=query)
    logger.info("shopify bulk operation %s started", op.id)
    done = bulk_operation_wait(client, operation_id=op.id, poll_seconds=poll_seconds)
    logger.info("shopify bulk operation %s completed with %s objects", done.id, done.object_count)
    return done.id, bulk_operation_objects(done, connections=connections)


def bulk_operation_objects(op: BulkOperation, *, connections: dict[str, str] | None = None) -> Iterator[dict]:
    if not op.url:  # a COMPLETED export of nothing has no file
        return iter(())
    return bulk_objects(bulk_lines(op.url), connections=connections)
