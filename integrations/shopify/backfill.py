"""The reconciliation backfill: page through Shopify from each resource's cursor.

Shopify promises no order and may drop webhook deliveries, so a nightly backfill re-reads
everything changed since the cursor. Each page is normalized, upserted in one bulk statement
per table, and the cursor (newest `updated_at` applied, and the next page's opaque link) is
saved in the same transaction: a crash resumes from the last committed page, with no gap and
no duplicate. Rows that fail validation are skipped with their ids in the run's audit event.

`via="bulk"` reads the same resources through a GraphQL bulk export instead (one export per
resource, no page-by-page rate limits) and writes the same rows. Its checkpoint is
`bulk:<operation gid>:<objects applied>`: a crash resumes in the same export's file; the
newest `updated_at` is only advanced once the whole file is applied, because an export
promises no order and a checkpoint past unread rows would be a gap.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from catalog.services import inventory_items_bulk_upsert
from customers.models import Customer, Order
from customers.services import customers_bulk_upsert, orders_bulk_upsert
from integrations.models import ShopifyCursor
from integrations.shopify import bulk, graphql_ingest, ingest
from integrations.shopify.client import ShopifyClient
from integrations.shopify.events import shopify_app_installed_check
from omnichannel.audit import audit_log_write
from omnichannel.errors import InvalidPayload
from omnichannel.jobs import enqueue
from omnichannel.lookups import fetch_together  # also registers `__any`
from omnichannel.metrics import records_ingested_total
from omnichannel.task_names import TaskName

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourceSpec:
    path: str
    key: str
    params: dict
    normalize: Callable[[dict, dict], list]
    upsert: Callable[..., dict]
    kind: str
    # Page-wide reads, {context name: queryset of 1-column rows}: read with the "unchanged" look-up in one
    # round trip, handed to `normalize` as {name: set of values}.
    prepare: Callable[[list[dict]], dict] = lambda rows: {}
    model: type | None = None  # rows keyed by shopify_id: unchanged ones are skipped before normalizing
    summary: bool = False  # its rows feed customer_summary (refreshed by the run, see _summary_refresh)


# The bulk upserts leave customer_summary to the run: a refresh per page re-reads every customer and
# order (inline in embedded mode, in the page loop: 10-20% of a run), where the run refreshes it every
# SUMMARY_REFRESH_EVERY seconds while it goes and once, forced, after its last page.
_customers_upsert = functools.partial(customers_bulk_upsert, refresh_summary=False)
_orders_upsert = functools.partial(orders_bulk_upsert, refresh_summary=False)
SUMMARY_REFRESH_EVERY = 60


def _order_page_context(rows: list[dict]) -> dict:
    skus = {str(li.get("sku")) for row in rows if isinstance(row, dict) for li in row.get("line_items") or []
            if isinstance(li, dict) and li.get("sku")}
    return {"out_of_stock": ingest.out_of_stock_query(skus)}


def _graphql_order_page_context(rows: list[dict]) -> dict:
    skus = set()
    for row in rows:
        try:
            skus |= graphql_ingest.order_skus(row)
        except InvalidPayload:
            pass  # the normalizer reports it
    return {"out_of_stock": ingest.out_of_stock_query(skus)}


RESOURCES = {
    "customers": ResourceSpec("customers.json", "customers", {"order": "updated_at asc"},
                              lambda row, ctx: [ingest.customer_facts(row)], _customers_upsert, "customer",
                              model=Customer, summary=True),
    "orders": ResourceSpec("orders.json", "orders", {"status": "any", "order": "updated_at asc"},
                           lambda row, ctx: [ingest.order_facts(row, **ctx)], _orders_upsert, "order",
                           _order_page_context, Order, summary=True),
    "inventory": ResourceSpec("products.json", "products", {"order": "updated_at asc"},
                              lambda row, ctx: ingest.product_inventory_facts(row), inventory_items_bulk_upsert,
                              "inventory"),
}
# The same resources as a GraphQL bulk export: (root field, normalizer, page context).
BULK_RESOURCES = {
    "customers": ResourceSpec("customers", "customers", {}, lambda row, ctx: [graphql_ingest.customer_facts(row)],
                              _customers_upsert, "customer", model=Customer, summary=True),
    "orders": ResourceSpec("orders", "orders", {}, lambda row, ctx: [graphql_ingest.order_facts(row, **ctx)],
                           _orders_upsert, "order", _graphql_order_page_context, Order, summary=True),
    "inventory": ResourceSpec("products", "products", {}, lambda row, ctx: graphql_ingest.product_inventory_facts(row),
                              inventory_items_bulk_upsert, "inventory"),
}
BULK_BATCH = 250  # objects per transaction and checkpoint, like a REST page
ORDER = ["customers", "inventory", "orders"]  # orders link to customers and read stock for backorders


@dataclass
class ResourceReport:
    resource: str
    pages: int = 0
    upserted: int = 0
    stale: int = 0
    invalid: list[str] = field(default_factory=list)
    summary_at: float = field(default_factory=time.monotonic)  # when the run last refreshed customer_summary


def _row_key(row) -> tuple[str | None, str]:
    """(numeric id, name of its updated-at field) of a REST or GraphQL row; None if unreadable."""
    if not isinstance(row, dict):
        return None, ""
    try:
        return ingest.shopify_id(row), "updatedAt" if "updatedAt" in row else "updated_at"
    except InvalidPayload:
        return None, ""


def _page_reads(spec: ResourceSpec, rows: list[dict]) -> tuple[list[dict], dict]:
    """(rows newer than what we hold, the page's context for normalizing them). A nightly rerun mostly
    re-reads unchanged rows: they are neither normalized nor written, and no context is read for them
    (so the two reads are not sent together: the rerun would pay the stock look-up of every page)."""
    if spec.model is not None:
        keys = [_row_key(row) for row in rows]
        (held,) = fetch_together([spec.model.objects.filter(shopify_id__any=[k for k, _ in keys if k]).exclude(
            source_updated_at__isnull=True).values_list("shopify_id", "source_updated_at")])
        rows = _changed(rows, keys, dict(held))
    reads = spec.prepare(rows) if rows else {}
    found = fetch_together(list(reads.values()))
    return rows, {name: {value for (value,) in result} for name, result in zip(reads, found, strict=True)}


def _changed(rows: list[dict], keys: list[tuple[str | None, str]], held: dict) -> list[dict]:
    changed = []
    for row, (key, stamp_field) in zip(rows, keys, strict=True):
        stamp = held.get(key) if key else None
        try:
            if stamp and ingest.when(row, stamp_field) <= stamp:
                continue
        except (InvalidPayload, TypeError):
            pass  # let the normalizer report it
        changed.append(row)
    return changed


_DONE = object()


def _prefetched(pages: Iterator):
    """The same pages in the same order, the next one fetched (HTTP, JSON) in a thread while this one is
    written. One page ahead at most; a fetch error is raised here after the pages before it are applied,
    and stopping early (an error while writing) stops the thread. The thread touches no database."""
    ahead: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        ahead.put((page, None), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            item = (_DONE, None)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer and raised there
            item = (None, exc)
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=fetch, name="shopify-page-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            page, error = ahead.get()
            if error is not None:
                raise error
            if page is _DONE:
                return
            yield page
    finally:
        stop.set()
        thread.join(timeout=5)


def _save_page(*, cursor_pk: int, spec: ResourceSpec, facts: list, newest: datetime | None, next_url: str) -> dict:
    with transaction.atomic():
        counts = spec.upsert(facts_list=facts) if facts else {"upserted": 0, "stale": 0}
        # The checkpoint in one UPDATE that computes from the row it updates (one round trip, where a
        # SELECT … FOR UPDATE and a save of every column took two): the row lock is the UPDATE's own.
        changes = {"page_info": next_url, "records_total": F("records_total") + counts["upserted"],
                   "updated_at": timezone.now()}
        if newest:
            changes["last_updated_at"] = Greatest(Coalesce("last_updated_at", Value(newest)), Value(newest))
        if counts["upserted"]:
            changes["last_delta_at"] = changes["updated_at"]
        ShopifyCursor.objects.filter(pk=cursor_pk).update(**changes)
    return counts


def backfill_resource(*, client: ShopifyClient, resource: str, since: datetime | None = None, full: bool = False,
                      progress: Callable[[int], None] | None = None) -> ResourceReport:
    spec = RESOURCES[resource]
    cursor, _ = ShopifyCursor.objects.get_or_create(resource=resource)
    report = ResourceReport(resource)
    # A bulk run's checkpoint is no REST link: such a run restarts from last_updated_at (never advanced mid-export).
    resume = cursor.page_info if not (full or since or cursor.page_info.startswith("bulk:")) else ""
    params = dict(spec.params)
    start = since or (None if full else cursor.last_updated_at)
    if start and not resume:
        params["updated_at_min"] = start.isoformat()
    for rows, next_url in _prefetched(client.paginate(spec.path, spec.key, params, page_info_url=resume)):
        _apply_page(cursor_pk=cursor.pk, spec=spec, rows=rows, next_url=next_url, report=report,
                    stamp_field="updated_at")
        if progress:
            progress(len(rows))
    return _finish(cursor=cursor, resource=resource, report=report, full=full, since=since, via="rest")


def _apply_page(*, cursor_pk: int, spec: ResourceSpec, rows: list[dict], next_url: str, report: ResourceReport,
                stamp_field: str, advance: bool = True) -> datetime | None:
    """Normalize and upsert one page, saving the checkpoint with it. Returns the page's newest updated_at."""
    facts, newest = [], None
    rows, context = _page_reads(spec, rows)
    for row in rows:
        try:
            facts.extend(spec.normalize(row, context))
            stamp = ingest.when(row, stamp_field)
            newest = max(filter(None, [newest, stamp]), default=None)
        except InvalidPayload as exc:
            report.invalid.append(f"{row.get('id', '?') if isinstance(row, dict) else '?'}: {exc.message}")
    counts = _save_page(cursor_pk=cursor_pk, spec=spec, facts=facts, newest=newest if advance else None,
                        next_url=next_url)
    report.pages += 1
    report.upserted += counts["upserted"]
    report.stale += counts["stale"]
    records_ingested_total.labels(source="shopify", kind=spec.kind).inc(counts["upserted"])
    if spec.summary and counts["upserted"] and time.monotonic() - report.summary_at >= SUMMARY_REFRESH_EVERY:
        _summary_refresh(report)
    return newest


def _summary_refresh(report: ResourceReport, *, force: bool = False) -> None:
    """customer_summary shows what the run wrote: debounced while it goes (no more stale than
    SUMMARY_REFRESH_EVERY), forced after its last page (a debounced one could be skipped, and inline
    there is no trailing refresh)."""
    report.summary_at = time.monotonic()
    enqueue(TaskName.REFRESH_CUSTOMER_SUMMARY, **({"force": True} if force else {}))


def _finish(*, cursor: ShopifyCursor, resource: str, report: ResourceReport, full: bool, since: datetime | None,
            via: str, newest: datetime | None = None) -> ResourceReport:
    if report.upserted and RESOURCES[resource].summary:
        _summary_refresh(report, force=True)
    with transaction.atomic():
        cursor = ShopifyCursor.objects.select_for_update().get(pk=cursor.pk)
        if newest and (cursor.last_updated_at is None or newest > cursor.last_updated_at):
            cursor.last_updated_at = newest
        cursor.last_run_at, cursor.page_info = timezone.now(), ""
        cursor.last_run_status = "partial" if report.invalid else "ok"
        cursor.save()
    audit_log_write(event_type="shopify.backfill", integration="shopify", payload={
        "resource": resource, "via": via, "pages": report.pages, "upserted": report.upserted, "stale": report.stale,
        "invalid": report.invalid[:50], "full": full, "since": since.isoformat() if since else None})
    return report


def _bulk_resume(client: ShopifyClient, page_info: str) -> tuple[bulk.BulkOperation, int] | None:
    """The export a crashed bulk run was reading, and how many objects it had applied; None when
    there is none to resume (not a bulk checkpoint, or Shopify no longer has the file)."""
    if not page_info.startswith("bulk:"):
        return None
    operation_id, _, done = page_info[len("bulk:"):].rpartition(":")
    op = bulk.bulk_operation_get(client, operation_id=operation_id) if operation_id and done.isdigit() else None
    if op is not None and op.status in ("CREATED", "RUNNING"):
        op = bulk.bulk_operation_wait(client, operation_id=op.id)
    if op is None or op.status != "COMPLETED":
        logger.info("bulk checkpoint %s cannot be resumed; starting a new export", page_info)
        return None
    return op, int(done)


def backfill_resource_bulk(*, client: ShopifyClient, resource: str, since: datetime | None = None,
                           full: bool = False, progress: Callable[[int], None] | None = None) -> ResourceReport:
    """The same backfill as backfill_resource, read from one GraphQL bulk export."""
    spec = BULK_RESOURCES[resource]
    cursor, _ = ShopifyCursor.objects.get_or_create(resource=resource)
    report = ResourceReport(resource)
    resumed = None if (full or since) else _bulk_resume(client, cursor.page_info)
    if resumed:
        op, skip = resumed
        objects = bulk.bulk_operation_objects(op, connections=graphql_ingest.CONNECTIONS)
    else:
        start = since or (None if full else cursor.last_updated_at)
        query = graphql_ingest.bulk_query(spec.path, since_iso=start.isoformat() if start else None)
        operation_id, objects = bulk.bulk_query_objects(client, query=query, connections=graphql_ingest.CONNECTIONS)
        op, skip = bulk.BulkOperation(id=operation_id, status="COMPLETED"), 0
    newest, done, batch = None, 0, []

    def flush() -> None:
        nonlocal newest, batch
        page_newest = _apply_page(cursor_pk=cursor.pk, spec=spec, rows=batch, next_url=f"bulk:{op.id}:{done}",
                                  report=report, stamp_field="updatedAt", advance=False)
        newest = max(filter(None, [newest, page_newest]), default=None)
        if progress:
            progress(len(batch))
        batch = []

    for obj in objects:
        done += 1
        if done <= skip:
            continue  # applied before the crash
        batch.append(obj)
        if len(batch) >= BULK_BATCH:
            flush()
    if batch:
        flush()
    return _finish(cursor=cursor, resource=resource, report=report, full=full, since=since, via="bulk",
                   newest=newest)


VIAS = ("rest", "bulk")


def backfill_run(*, resources: list[str] | None = None, since: datetime | None = None, full: bool = False,
                 client: ShopifyClient | None = None, progress: Callable[[int], None] | None = None,
                 via: str = "rest") -> dict:
    if via not in VIAS:
        raise ValueError(f"via must be one of {', '.join(VIAS)}, not {via!r}")

    client = client or ShopifyClient.from_settings()
    # An uninstalled app's token is dead: refuse rather than hammer the shop (one GET shop.json tells).
    shopify_app_installed_check(client=client)
    run = backfill_resource_bulk if via == "bulk" else backfill_resource
    reports = {}
    for resource in [r for r in ORDER if resources is None or r in resources]:
        report = run(client=client, resource=resource, since=since, full=full, progress=progress)
        reports[resource] = {"pages": report.pages, "upserted": report.upserted, "stale": report.stale,
                             "invalid": len(report.invalid)}
    return reports
