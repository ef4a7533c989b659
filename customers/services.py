"""Writes of customer facts. Integrations call these; they never write the ORM themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery

from customers.models import Customer, Order
from omnichannel.audit import audit_log_write
from omnichannel.jobs import enqueue
from omnichannel.upserts import row_upsert_newer, rows_upsert_newer


def _normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def customer_find_by_email(email: str) -> Customer | None:
    email = _normalize_email(email)
    if not email:
        return None
    return Customer.objects.filter(email__iexact=email).first()


@transaction.atomic
def customer_get_or_create_lead(*, email: str, name: str = "", integration: str = "zoho") -> tuple[Customer, bool]:
    """The customer for a sender address, created as a lead (no Shopify account) if unknown."""
    email = _normalize_email(email)
    if not email:
        raise ValueError("a lead needs an email address")
    existing = customer_find_by_email(email)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            customer = Customer.objects.create(email=email, name=name[:200], segment=Customer.Segment.LEAD)
    except IntegrityError:  # another process created it between our read and our insert
        return Customer.objects.get(email__iexact=email), False
    audit_log_write(event_type="customer.lead_created", payload={"source": integration},
                    integration=integration, obj=customer)
    enqueue("refresh_customer_summary")  # the lead is a customer the summary (and its API) must know now
    return customer, True


@dataclass
class CustomerFacts:
    shopify_id: str
    email: str = ""
    name: str = ""
    phone: str = ""
    lifetime_value_cents: int = 0
    currency: str = "USD"
    orders_count: int = 0
    segment: str = Customer.Segment.NEW
    shipping_addresses: list = field(default_factory=list)
    tags: str = ""
    source_updated_at: datetime | None = None


# The columns an upsert writes (a webhook's one row or a backfill's batch); the rest are ours.
_CUSTOMER_FIELDS = ["shopify_id", "email", "name", "phone", "lifetime_value_cents", "currency", "orders_count",
                    "segment", "shipping_addresses", "tags", "source_updated_at"]
_ORDER_FIELDS = ["name", "customer", "customer_shopify_id", "email", "status", "financial_status",
                 "fulfillment_status", "tracking_numbers", "tracking", "line_items", "refunds", "total_price_cents",
                 "currency", "shipping_address", "placed_at", "cancelled_at", "last_event_at", "source_updated_at"]


def _is_stale(current: datetime | None, incoming: datetime | None) -> bool:
    """True when the incoming version is older than what we hold (never overwrite newer data)."""
    return current is not None and incoming is not None and incoming < current


@transaction.atomic
def customer_upsert(*, facts: CustomerFacts, integration: str = "shopify") -> tuple[Customer, str]:
    """Insert or update one customer by Shopify id. Returns (customer, 'created'|'updated'|'stale').

    The database decides (`row_upsert_newer`): two deliveries about a customer we do not hold yet
    cannot both insert it, and the older one cannot overwrite the newer one."""
    email = _normalize_email(facts.email)
    if email:
        # A lead created from an email becomes the Shopify customer with the same address: one
        # conditional UPDATE. A concurrent delivery waits on the lead's row, then finds it taken
        # (no longer without shopify_id) and goes on to the upsert below, which updates it.
        Customer.objects.filter(shopify_id__isnull=True, email__iexact=email).exclude(
            Exists(Customer.objects.filter(shopify_id=facts.shopify_id))).update(shopify_id=facts.shopify_id)
    customer = Customer(**{name: getattr(facts, name) for name in _CUSTOMER_FIELDS})
    customer.email = email
    # Uniqueness is the statement's to decide: a Python check would read before a racing insert commits.
    customer.full_clean(exclude=["email"] if not email else None, validate_unique=False, validate_constraints=False)
    customer, outcome = row_upsert_newer(model=Customer, row=customer, unique_field="shopify_id",
                                         update_fields=[n for n in _CUSTOMER_FIELDS if n != "shopify_id"])
    if outcome == "stale":
        return customer, outcome
    _orders_link_to_customers([customer.shopify_id])
    audit_log_write(event_type=f"customer.{outcome}", payload={"shopify_id": facts.shopify_id},
                    integration=integration, obj=customer)
    enqueue("refresh_customer_summary")
    return customer, outcome


@transaction.atomic
def customer_mark_deleted_in_shop(*, shopify_id: str, deleted_at: datetime,
                                  integration: str = "shopify") -> tuple[Customer | None, str]:
    """Note that the shop deleted this customer in Shopify. Only a mark: the customer's
    conversations, orders and PII stay. Erasing PII is the separate, explicit erasure request
    (customers/services_erasure.py), never a side effect of a delete.
    Returns (customer, 'marked'|'already'|'unknown')."""
    customer = Customer.objects.select_for_update().filter(shopify_id=shopify_id).first()
    if customer is None:
        outcome = "unknown"  # never synced: nothing of ours to mark
    elif customer.shopify_deleted_at is not None and customer.shopify_deleted_at <= deleted_at:
        outcome = "already"  # a redelivery
    else:
        customer.shopify_deleted_at = deleted_at
        customer.save(update_fields=["shopify_deleted_at", "updated_at"])
        outcome = "marked"
    audit_log_write(event_type="customer.deleted_in_shop", integration=integration, obj=customer, payload={
        "shopify_id": shopify_id, "deleted_at": deleted_at.isoformat(), "outcome": outcome})
    return customer, outcome


@dataclass
class OrderFacts:
    shopify_id: str
    name: str = ""
    customer_shopify_id: str | None = None
    email: str = ""
    status: str = Order.Status.PENDING
    financial_status: str = ""
    fulfillment_status: str = ""
    tracking: list = field(default_factory=list)
    line_items: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    total_price_cents: int = 0
    currency: str = "USD"
    shipping_address: dict = field(default_factory=dict)
    placed_at: datetime | None = None
    cancelled_at: datetime | None = None
    source_updated_at: datetime | None = None


@transaction.atomic
def order_upsert(*, facts: OrderFacts, integration: str = "shopify") -> tuple[Order, str]:
    """Insert or update one order by Shopify id; guest checkouts keep the order's email. The
    database decides which version is newer (`row_upsert_newer`), as for customers."""
    customer_id = None
    if facts.customer_shopify_id:
        customer_id = Customer.objects.filter(shopify_id=facts.customer_shopify_id).values_list("pk", flat=True).first()
    order = _order_row(facts, customer_id)
    order.full_clean(validate_unique=False, exclude=["customer"])
    order, outcome = row_upsert_newer(model=Order, row=order, unique_field="shopify_id", update_fields=_ORDER_FIELDS)
    if outcome == "stale":
        return order, outcome
    audit_log_write(event_type=f"order.{outcome}", payload={"shopify_id": facts.shopify_id, "status": order.status},
                    integration=integration, obj=order)
    enqueue("refresh_customer_summary")
    return order, outcome


def _order_row(f: OrderFacts, customer_id: int | None) -> Order:
    # customer_shopify_id is kept even without a customer: it links the order once the customer arrives.
    return Order(
        shopify_id=f.shopify_id, name=f.name, customer_id=customer_id, customer_shopify_id=f.customer_shopify_id or None,
        email=_normalize_email(f.email), status=f.status, financial_status=f.financial_status,
        fulfillment_status=f.fulfillment_status, tracking_numbers=[t["number"] for t in f.tracking if t.get("number")],
        tracking=f.tracking, line_items=f.line_items, refunds=f.refunds, total_price_cents=f.total_price_cents,
        currency=f.currency, shipping_address=f.shipping_address, placed_at=f.placed_at,
        cancelled_at=f.cancelled_at, last_event_at=f.source_updated_at or f.placed_at,
        source_updated_at=f.source_updated_at)


# --- Bulk upserts for backfills: one INSERT … ON CONFLICT per batch instead of a query per row ----------


def _newest_per_id(facts_list: list) -> list:
    """One facts per Shopify id, the newest: Postgres refuses to update one row twice in a statement."""
    newest: dict[str, object] = {}
    for facts in facts_list:
        held = newest.get(facts.shopify_id)
        if held is None or not _is_stale(held.source_updated_at, facts.source_updated_at):
            newest[facts.shopify_id] = facts
    return list(newest.values())


def _orders_link_to_customers(shopify_ids: list[str]) -> int:
    """Orders that arrived before their customer (a webhook or a page ahead of the customer's) get
    their link once the customer exists: one UPDATE for the whole batch."""
    if not shopify_ids:
        return 0
    return Order.objects.filter(customer__isnull=True, customer_shopify_id__in=shopify_ids).update(
        customer=Subquery(Customer.objects.filter(shopify_id=OuterRef("customer_shopify_id")).values("pk")[:1]))


@transaction.atomic
def customers_bulk_upsert(*, facts_list: list[CustomerFacts], integration: str = "shopify") -> dict[str, int]:
    fresh = _newest_per_id(facts_list)
    emails = {_normalize_email(f.email): f.shopify_id for f in fresh if f.email}
    # Leads created from emails become the Shopify customer with the same address (rare: one update each).
    for lead in Customer.objects.filter(shopify_id__isnull=True, email__in=list(emails)):
        Customer.objects.filter(pk=lead.pk).update(shopify_id=emails[lead.email.lower()])
    rows = [Customer(**{name: getattr(f, name) for name in _CUSTOMER_FIELDS}) for f in fresh]
    for row in rows:
        row.email = _normalize_email(row.email)
    # The database compares source_updated_at: a newer row a webhook committed meanwhile is kept.
    written = rows_upsert_newer(model=Customer, rows=rows, unique_field="shopify_id",
                                update_fields=[n for n in _CUSTOMER_FIELDS if n != "shopify_id"])
    linked = _orders_link_to_customers(written)
    stale = len(facts_list) - len(written)
    audit_log_write(event_type="customers.bulk_upserted",
                    payload={"upserted": len(written), "stale": stale, "orders_linked": linked},
                    integration=integration)
    if written:
        enqueue("refresh_customer_summary")
    return {"upserted": len(written), "stale": stale}


@transaction.atomic
def orders_bulk_upsert(*, facts_list: list[OrderFacts], integration: str = "shopify") -> dict[str, int]:
    fresh = _newest_per_id(facts_list)
    customer_ids = dict(Customer.objects.filter(
        shopify_id__in={f.customer_shopify_id for f in fresh if f.customer_shopify_id}).values_list("shopify_id", "pk"))
    rows = [_order_row(f, customer_ids.get(f.customer_shopify_id)) for f in fresh]
    written = rows_upsert_newer(model=Order, rows=rows, unique_field="shopify_id", update_fields=_ORDER_FIELDS)
    stale = len(facts_list) - len(written)
    audit_log_write(event_type="orders.bulk_upserted", payload={"upserted": len(written), "stale": stale},
                    integration=integration)
    if written:
        enqueue("refresh_customer_summary")
    return {"upserted": len(written), "stale": stale}
