"""Writes of stock and demand facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F

from catalog.demand import request_normalize
from catalog.models import InventoryItem, ProductRequest
from omnichannel.audit import audit_log_write
from omnichannel.upserts import row_upsert_newer, rows_upsert_newer


@dataclass
class InventoryFacts:
    sku: str
    shopify_id: str | None = None
    variant_id: str = ""
    product_id: str = ""
    title: str = ""
    quantity_available: int | None = None
    lead_time_days: int | None = None
    price_cents: int | None = None
    currency: str = "USD"
    tracked: bool = True
    source_updated_at: datetime | None = None


# What one item upsert may write, each only when sent.
_UPSERT_FIELDS = ["shopify_id", "variant_id", "product_id", "title", "quantity_available", "lead_time_days",
                  "price_cents", "currency", "tracked", "source_updated_at"]


@transaction.atomic
def inventory_item_upsert(*, facts: InventoryFacts, integration: str = "shopify") -> tuple[InventoryItem, str]:
    """Insert or update one item by sku. Fields the source did not send (None) are kept. Returns
    (item, 'created'|'updated'|'reactivated'|'stale'); the database decides which version is newer
    (`row_upsert_newer`), so two deliveries about a new item cannot both insert it."""
    sent = {name: getattr(facts, name) for name in _UPSERT_FIELDS}
    sent = {name: value for name, value in sent.items() if value is not None and value != ""}
    item = InventoryItem(sku=facts.sku, **sent)  # what was not sent gets the model's default on insert
    item.full_clean(validate_unique=False)
    item, outcome = row_upsert_newer(model=InventoryItem, row=item, unique_field="sku", update_fields=list(sent))
    if outcome == "stale":
        return item, outcome
    # The product came back after its deletion: sell it again. Our upsert holds the row's lock.
    if InventoryItem.objects.filter(pk=item.pk, deleted_at__isnull=False,
                                    source_updated_at__gt=F("deleted_at")).update(deleted_at=None):
        item.deleted_at, outcome = None, "reactivated"
    audit_log_write(event_type=f"inventory.{outcome}", payload={"sku": item.sku,
                    "quantity_available": item.quantity_available}, integration=integration, obj=item)
    return item, outcome


@transaction.atomic
def inventory_items_product_deleted(*, product_id: str, deleted_at: datetime,
                                    integration: str = "shopify") -> dict[str, list[str]]:
    """Mark every item of a product Shopify deleted as no longer sold. The rows stay (orders and
    requests still name their skus); availability reads skip them (`InventoryItem.objects.sellable()`).
    An item holding a version newer than the deletion is left alone: the delete arrived late."""
    items = list(InventoryItem.objects.select_for_update().filter(product_id=product_id).order_by("pk"))
    newer = [i.sku for i in items if i.source_updated_at and i.source_updated_at > deleted_at]
    marked = [i.sku for i in items if i.sku not in newer and (i.deleted_at is None or i.deleted_at < deleted_at)]
    if marked:
        InventoryItem.objects.filter(product_id=product_id, sku__in=marked).update(deleted_at=deleted_at)
    audit_log_write(event_type="inventory.product_deleted", integration=integration, payload={
        "product_id": product_id, "deleted_at": deleted_at.isoformat(), "marked": marked, "kept_newer": newer})
    return {"marked": marked, "kept_newer": newer}


@transaction.atomic
def inventory_quantity_set(*, shopify_id: str, quantity_available: int, source_updated_at: datetime | None = None,
                           integration: str = "shopify") -> tuple[InventoryItem | None, str]:
    """Set the available quantity of the item with this Shopify inventory item id (an inventory level
    event names the item, not its sku). Unknown items are skipped: the product event brings them."""
    item = InventoryItem.objects.select_for_update().filter(shopify_id=shopify_id).first()
    if item is None:
        return None, "unknown"
    if item.source_updated_at and source_updated_at and source_updated_at < item.source_updated_at:
        return item, "stale"
    item.quantity_available = max(0, quantity_available)
    if source_updated_at:
        item.source_updated_at = source_updated_at
    item.save(update_fields=["quantity_available", "source_updated_at", "updated_at"])
    audit_log_write(event_type="inventory.quantity_set", payload={"sku": item.sku, "quantity_available":
                    item.quantity_available}, integration=integration, obj=item)
    return item, "updated"


_INVENTORY_FIELDS = ["shopify_id", "variant_id", "product_id", "title", "quantity_available", "price_cents",
                     "currency", "tracked", "source_updated_at"]


@transaction.atomic
def inventory_items_bulk_upsert(*, facts_list: list[InventoryFacts], integration: str = "shopify") -> dict[str, int]:
    """One INSERT … ON CONFLICT (sku) per batch, updating only where the incoming version is newer
    (the database decides, so a webhook's newer row committed meanwhile is kept). What Shopify does
    not send is kept: lead times are ours, and a missing quantity or price keeps the one we hold (a
    new item without a quantity has none: unknown stock, not 0)."""
    newest: dict[str, InventoryFacts] = {}
    for f in facts_list:  # one row per sku per statement: Postgres refuses to update a row twice
        held = newest.get(f.sku)
        if held is None or not (held.source_updated_at and f.source_updated_at
                                and f.source_updated_at < held.source_updated_at):
            newest[f.sku] = f
    # Rows that lack a quantity or a price must not overwrite ours: at most four groups, a statement each.
    groups: dict[tuple[bool, bool], list[InventoryItem]] = {}
    for f in newest.values():
        groups.setdefault((f.quantity_available is None, f.price_cents is None), []).append(InventoryItem(
            sku=f.sku, shopify_id=f.shopify_id, variant_id=f.variant_id, product_id=f.product_id, title=f.title,
            quantity_available=f.quantity_available, lead_time_days=f.lead_time_days,
            price_cents=f.price_cents or 0, currency=f.currency, tracked=f.tracked,
            source_updated_at=f.source_updated_at))
    written = 0
    for (no_quantity, no_price), rows in groups.items():
        skipped = {"quantity_available"} if no_quantity else set()
        skipped |= {"price_cents"} if no_price else set()
        written += len(rows_upsert_newer(model=InventoryItem, rows=rows, unique_field="sku",
                                         update_fields=[n for n in _INVENTORY_FIELDS if n not in skipped]))
    stale = len(facts_list) - written
    # A product version newer than its deletion brings the items back (one statement for the batch).
    reactivated = InventoryItem.objects.filter(
        sku__in=list(newest), deleted_at__isnull=False, source_updated_at__gt=F("deleted_at")).update(deleted_at=None)
    audit_log_write(event_type="inventory.bulk_upserted", payload={"upserted": written, "stale": stale,
                    "reactivated": reactivated}, integration=integration)
    return {"upserted": written, "stale": stale}


# --- product requests written by hand (the admin): the mail's own are recorded by catalog/demand.py -----

_REQUEST_FIELDS = ("description", "normalized", "count", "requested_at", "customer_id", "conversation_id")


def normalized_request(description: str) -> str:
    """The group key of a request typed by hand: as the mail's ("inflatable kayak"), else its words."""
    return (request_normalize(description) or " ".join(description.lower().split()))[:200]


@transaction.atomic
def product_request_create(*, description: str, requested_at: datetime, normalized: str = "", count: int = 1,
                           customer_id: int | None = None, conversation_id: int | None = None,
                           acting_user=None) -> ProductRequest:
    """A request heard elsewhere (a phone call, the shop floor); grouped as the mail's are, by its
    normalized text ("do you sell inflatable kayaks?" -> "inflatable kayak") unless one is given."""
    description = description.strip()
    request = ProductRequest(description=description, normalized=normalized.strip().lower()[:200]
                             or normalized_request(description), count=count,
                             requested_at=requested_at, customer_id=customer_id, conversation_id=conversation_id)
    request.full_clean()
    request.save()
    audit_log_write(event_type="demand.request_created", acting_user=acting_user, obj=request,
                    payload={"normalized": request.normalized, "count": request.count})
    return request


@transaction.atomic
def product_request_edit(*, request_id: int, acting_user=None, **changes) -> ProductRequest:
    """Ops correct a request: its grouping (`normalized`), its description or its count."""
    unknown = set(changes) - set(_REQUEST_FIELDS)
    if unknown:
        raise ValueError(f"product_request_edit cannot change {', '.join(sorted(unknown))}")
    request = ProductRequest.objects.select_for_update().get(pk=request_id)
    changed = [name for name in _REQUEST_FIELDS if name in changes and getattr(request, name) != changes[name]]
    if not changed:
        return request
    for name in changed:
        setattr(request, name, changes[name])
    request.full_clean()
    request.save(update_fields=[*changed, "updated_at"])
    audit_log_write(event_type="demand.request_edited", acting_user=acting_user, obj=request,
                    payload={"fields": [name.removesuffix("_id") for name in changed]})
    return request


@transaction.atomic
def product_request_delete(*, request_id: int, acting_user=None) -> None:
    request = ProductRequest.objects.select_for_update().get(pk=request_id)
    audit_log_write(event_type="demand.request_deleted", acting_user=acting_user, obj=request,
                    payload={"normalized": request.normalized, "count": request.count})
    request.delete()
