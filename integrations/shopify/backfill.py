"""The reconciliation backfill: page through Shopify from each resource's cursor.

Shopify promises no order and may drop webhook deliveries, so a nightly backfill re-reads
everything changed since the cursor. Each page is normalized, upserted in one bulk statement
per table, and the cursor (newest `updated_at` applied, and the next page's opaque link) is
saved in the same transaction: a crash resumes from the last committed page, with no gap and
no duplicate. Rows that fail validation are skipped with their ids in the run's audit event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalog.services import inventory_items_bulk_upsert
from customers.models import Customer, Order
from customers.services import customers_bulk_upsert, orders_bulk_upsert
from integrations.models import ShopifyCursor
from integrations.shopify import ingest
from integrations.shopify.client import ShopifyClient
from omnichannel.audit import audit_log_write
from omnichannel.errors import InvalidPayload
from omnichannel.metrics import records_ingested_total, shopify_cursor_lag_seconds

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourceSpec:
    path: str
    key: str
    params: dict
    normalize: Callable[[dict, dict], list]
    upsert: Callable[..., dict]
    kind: str
    prepare: Callable[[list[dict]], dict] = lambda rows: {}  # page-wide lookups, one query per page
    model: type | None = None  # rows keyed by shopify_id: unchanged ones are skipped before normalizing


def _order_page_context(rows: list[dict]) -> dict:
    skus = {str(li.get("sku")) for row in rows if isinstance(row, dict) for li in row.get("line_items") or []
            if isinstance(li, dict) and li.get("sku")}
    return {"out_of_stock": ingest.out_of_stock_skus(skus)}


RESOURCES = {
    "customers": ResourceSpec("customers.json", "customers", {"order": "updated_at asc"},
                              lambda row, ctx: [ingest.customer_facts(row)], customers_bulk_upsert, "customer",
                              model=Customer),
    "orders": ResourceSpec("orders.json", "orders", {"status": "any", "order": "updated_at asc"},
                           lambda row, ctx: [ingest.order_facts(row, **ctx)], orders_bulk_upsert, "order",
                           _order_page_context, Order),
    "inventory": ResourceSpec("products.json", "products", {"order": "updated_at asc"},
                              lambda row, ctx: ingest.product_inventory_facts(row), inventory_items_bulk_upsert,
                              "inventory"),
}
ORDER = ["customers", "inventory", "orders"]  # orders link to customers and read stock for backorders


@dataclass
class ResourceReport:
    resource: str
    pages: int = 0
    upserted: int = 0
    stale: int = 0
    invalid: list[str] = field(default_factory=list)


def _changed(spec: ResourceSpec, rows: list[dict]) -> list[dict]:
    """Rows newer than what we hold. A nightly rerun mostly re-reads unchanged rows: one query per
    page finds them, and they are neither normalized nor written."""
    if spec.model is None:
        return rows
    ids = [str(row.get("id")) for row in rows if isinstance(row, dict)]
    held = {sid: stamp.isoformat() for sid, stamp in spec.model.objects.filter(shopify_id__in=ids)
            .exclude(source_updated_at__isnull=True).values_list("shopify_id", "source_updated_at")}
    changed = []
    for row in rows:
        stamp = held.get(str(row.get("id"))) if isinstance(row, dict) else None
        try:
            if stamp and ingest.when(row, "updated_at") <= datetime.fromisoformat(stamp):
                continue
        except (InvalidPayload, TypeError):
            pass  # let the normalizer report it
        changed.append(row)
    return changed


def _save_page(*, cursor_pk: int, spec: ResourceSpec, facts: list, newest: datetime | None, next_url: str) -> dict:
    with transaction.atomic():
        counts = spec.upsert(facts_list=facts) if facts else {"upserted": 0, "stale": 0}
        cursor = ShopifyCursor.objects.select_for_update().get(pk=cursor_pk)
        if newest and (cursor.last_updated_at is None or newest > cursor.last_updated_at):
            cursor.last_updated_at = newest
        if counts["upserted"]:
            cursor.last_delta_at = timezone.now()
        cursor.page_info = next_url
        cursor.records_total += counts["upserted"]
        cursor.save()
    return counts


def backfill_resource(*, client: ShopifyClient, resource: str, since: datetime | None = None, full: bool = False,
                      progress: Callable[[int], None] | None = None) -> ResourceReport:
    spec = RESOURCES[resource]
    cursor, _ = ShopifyCursor.objects.get_or_create(resource=resource)
    report = ResourceReport(resource)
    resume = cursor.page_info if not (full or since) else ""
    params = dict(spec.params)
    start = since or (None if full else cursor.last_updated_at)
    if start and not resume:
        params["updated_at_min"] = start.isoformat()
    for rows, next_url in client.paginate(spec.path, spec.key, params, page_info_url=resume):
        facts, newest = [], None
        rows = _changed(spec, rows)
        context = spec.prepare(rows)
        for row in rows:
            try:
                facts.extend(spec.normalize(row, context))
                stamp = ingest.when(row, "updated_at")
                newest = max(filter(None, [newest, stamp]), default=None)
            except InvalidPayload as exc:
                report.invalid.append(f"{row.get('id', '?')}: {exc.message}")
        counts = _save_page(cursor_pk=cursor.pk, spec=spec, facts=facts, newest=newest, next_url=next_url)
        report.pages += 1
        report.upserted += counts["upserted"]
        report.stale += counts["stale"]
        records_ingested_total.labels(source="shopify", kind=spec.kind).inc(counts["upserted"])
        if progress:
            progress(len(rows))
    ShopifyCursor.objects.filter(pk=cursor.pk).update(last_run_at=timezone.now(), page_info="",
                                                      last_run_status="partial" if report.invalid else "ok")
    cursor.refresh_from_db()
    if cursor.last_delta_at:
        shopify_cursor_lag_seconds.labels(resource=resource).set((timezone.now() - cursor.last_delta_at).total_seconds())
    audit_log_write(event_type="shopify.backfill", integration="shopify", payload={
        "resource": resource, "pages": report.pages, "upserted": report.upserted, "stale": report.stale,
        "invalid": report.invalid[:50], "full": full, "since": since.isoformat() if since else None})
    return report


def backfill_run(*, resources: list[str] | None = None, since: datetime | None = None, full: bool = False,
                 client: ShopifyClient | None = None, progress: Callable[[int], None] | None = None) -> dict:
    client = client or ShopifyClient.from_settings()
    reports = {}
    for resource in [r for r in ORDER if resources is None or r in resources]:
        report = backfill_resource(client=client, resource=resource, since=since, full=full, progress=progress)
        reports[resource] = {"pages": report.pages, "upserted": report.upserted, "stale": report.stale,
                             "invalid": len(report.invalid)}
    return reports
