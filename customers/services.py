"""Writes of customer facts. Integrations call these; they never write the ORM themselves.

Erasure sticks: every write of Shopify data or of a lead first asks the erasure tombstones
(`tombstones_covering`) whether the person it names was erased. Shopify data about an erased
customer (by Shopify customer id, email, or order id) keeps its non-personal facts (amounts,
counts, statuses, tracking) and never writes the PII columns: an erased row stays blank, a new
row is created blank. A lead is created for an erased address only from an email sent after
the erasure (her writing to us again is a new contact, see `customer_get_or_create_lead`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from customers.models import Customer, Order
from customers.selectors import customer_find, tombstones_covering, tombstones_covering_page
from omnichannel import lookups  # noqa: F401 - registers `__any`
from omnichannel.audit import audit_log_write
from omnichannel.jobs import enqueue
from omnichannel.pii import pii_hash
from omnichannel.task_names import TaskName
from omnichannel.upserts import row_upsert_newer, rows_upsert_newer


def _normalize_email(email: str) -> str:
    return (email or "").strip().lower()


@transaction.atomic
def customer_get_or_create_lead(*, email: str, name: str = "", integration: str = "zoho",
                                seen_at: datetime | None = None) -> tuple[Customer | None, bool]:
    """The customer for a sender address, created as a lead (no Shopify account) if unknown.

    (None, False) for an erased address, unless `seen_at` (when the email was sent) is after its
    erasure: an email she sent before it (a replay, a late poll) must not bring her back, while one
    she writes afterwards is a new contact, which we must be able to answer. That one gets a fresh
    lead holding only what she sent then; the erased row and history stay erased and unlinked."""
    email = _normalize_email(email)
    if not email:
        raise ValueError("a lead needs an email address")
    existing = customer_find(email=email)
    if existing is not None:
        return existing, False
    erased_at = tombstones_covering(emails=[email], lock=True).emails.get(email)
    if erased_at is not None and (seen_at is None or seen_at <= erased_at):
        return None, False
    try:
        with transaction.atomic():
            customer = Customer.objects.create(email=email, name=name[:200], segment=Customer.Segment.LEAD)
    except IntegrityError:  # another process created it between our read and our insert
        return Customer.objects.get(email__iexact=email), False
    audit_log_write(event_type="customer.lead_created", payload={"source": integration},
                    integration=integration, obj=customer)
    enqueue(TaskName.REFRESH_CUSTOMER_SUMMARY)  # the lead is a customer the summary (and its API) must know now
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


# The columns that name the person: never written for an erased customer or order (module docstring).
_CUSTOMER_PII = ("email", "name", "phone", "shipping_addresses", "tags")
_ORDER_PII = ("email", "shipping_address")


def _customer_row(facts: CustomerFacts, *, erased: bool) -> Customer:
    customer = Customer(**{name: getattr(facts, name) for name in _CUSTOMER_FIELDS})
    customer.email = _normalize_email(customer.email)
    if erased:
        for name in _CUSTOMER_PII:
            setattr(customer, name, Customer._meta.get_field(name).get_default())
        customer.is_erased, customer.erased_at = True, timezone.now()
    return customer


def _update_fields(fields: list[str], pii: tuple[str, ...], *, erased: bool) -> list[str]:
    return [name for name in fields if name != "shopify_id" and not (erased and name in pii)]


def _is_stale(current: datetime | None, incoming: datetime | None) -> bool:
    """True when the incoming version is older than what we hold (never overwrite newer data)."""
    return current is not None and incoming is not None and incoming < current


@transaction.atomic
def customer_upsert(*, facts: CustomerFacts, integration: str = "shopify") -> tuple[Customer, str]:
    """Insert or update one customer by Shopify id. Returns (customer, 'created'|'updated'|'stale').

    The database decides (`row_upsert_newer`): two deliveries about a customer we do not hold yet
    cannot both insert it, and the older one cannot overwrite the newer one."""
    email = _normalize_email(facts.email)
    erased = tombstones_covering(emails=[email], shopify_customer_ids=[facts.shopify_id], lock=True).customer(
        email=email, shopify_id=facts.shopify_id)
    if email and not erased:
        # A lead created from an email becomes the Shopify customer with the same address: one
        # conditional UPDATE. A concurrent delivery waits on the lead's row, then finds it taken
        # (no longer without shopify_id) and goes on to the upsert below, which updates it.
        Customer.objects.filter(shopify_id__isnull=True, email__iexact=email).exclude(
            Exists(Customer.objects.filter(shopify_id=facts.shopify_id))).update(shopify_id=facts.shopify_id)
    customer = _customer_row(facts, erased=erased)
    # Uniqueness is the statement's to decide: a Python check would read before a racing insert commits.
    customer.full_clean(exclude=["email"] if not customer.email else None, validate_unique=False,
                        validate_constraints=False)
    customer, outcome = row_upsert_newer(model=Customer, row=customer, unique_field="shopify_id",
                                         update_fields=_update_fields(_CUSTOMER_FIELDS, _CUSTOMER_PII, erased=erased))
    if outcome == "stale":
        return customer, outcome
    _orders_link_to_customers([customer.shopify_id])
    audit_log_write(event_type=f"customer.{outcome}", payload={"shopify_id": facts.shopify_id, "erased": erased},
                    integration=integration, obj=customer)
    enqueue(TaskName.REFRESH_CUSTOMER_SUMMARY)
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
    erased = _order_erased(facts, _tombstones_of_orders([facts]))
    order = _order_row(facts, customer_id, erased=erased)
    order.full_clean(validate_unique=False, exclude=["customer"])
    order, outcome = row_upsert_newer(model=Order, row=order, unique_field="shopify_id",
                                      update_fields=_update_fields(_ORDER_FIELDS, _ORDER_PII, erased=erased))
    if outcome == "stale":
        return order, outcome
    audit_log_write(event_type=f"order.{outcome}", integration=integration, obj=order,
                    payload={"shopify_id": facts.shopify_id, "status": order.status, "erased": erased})
    enqueue(TaskName.REFRESH_CUSTOMER_SUMMARY)
    return order, outcome


def _order_row(f: OrderFacts, customer_id: int | None, *, erased: bool = False) -> Order:
    return Order(**_order_values(f, customer_id, erased=erased))


def _order_values(f: OrderFacts, customer_id: int | None, *, erased: bool) -> dict:
    # customer_shopify_id is kept even without a customer: it links the order once the customer arrives.
    email = _normalize_email(f.email)
    return dict(
        shopify_id=f.shopify_id, name=f.name, customer_id=customer_id, customer_shopify_id=f.customer_shopify_id or None,
        # An erased order holds the address's hash, as the erasure left it (counts by checkout still add up).
        email=(pii_hash(email) if email else "") if erased else email, status=f.status,
        financial_status=f.financial_status, fulfillment_status=f.fulfillment_status,
        tracking_numbers=[t["number"] for t in f.tracking if t.get("number")], tracking=f.tracking,
        line_items=f.line_items, refunds=f.refunds, total_price_cents=f.total_price_cents, currency=f.currency,
        shipping_address={} if erased else f.shipping_address, placed_at=f.placed_at, cancelled_at=f.cancelled_at,
        last_event_at=f.source_updated_at or f.placed_at, source_updated_at=f.source_updated_at, is_erased=erased)


def _tombstones_of_orders(facts_list: list[OrderFacts], *, lock: bool | str = True):
    return tombstones_covering(emails=[f.email for f in facts_list],
                               shopify_customer_ids=[f.customer_shopify_id for f in facts_list],
                               shopify_order_ids=[f.shopify_id for f in facts_list], lock=lock)


def _order_erased(facts: OrderFacts, erased) -> bool:
    return erased.order(shopify_id=facts.shopify_id, email=_normalize_email(facts.email),
                        customer_shopify_id=facts.customer_shopify_id)


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


@transaction.atomic(savepoint=False)  # inside a backfill page's transaction: no SAVEPOINT/RELEASE round trips
def customers_bulk_upsert(*, facts_list: list[CustomerFacts], integration: str = "shopify",
                          refresh_summary: bool = True) -> dict[str, int]:
    """`refresh_summary=False`: the caller (a backfill, once per run rather than per page) refreshes
    customer_summary itself."""
    fresh = _newest_per_id(facts_list)
    tombstones = tombstones_covering(emails=[_normalize_email(f.email) for f in fresh],
                                     shopify_customer_ids=[f.shopify_id for f in fresh], lock="page")
    erased = {f.shopify_id for f in fresh if tombstones.customer(email=_normalize_email(f.email), shopify_id=f.shopify_id)}
    emails = {_normalize_email(f.email): f.shopify_id for f in fresh if f.email and f.shopify_id not in erased}
    # Leads created from emails become the Shopify customer with the same address (rare: one update each).
    for lead in Customer.objects.filter(shopify_id__isnull=True, email__in=list(emails)):
        Customer.objects.filter(pk=lead.pk).update(shopify_id=emails[lead.email.lower()])
    # The database compares source_updated_at: a newer row a webhook committed meanwhile is kept. Erased
    # customers' rows go in a statement of their own, which leaves their PII columns alone.
    written = []
    for is_erased in (False, True):
        rows = [_customer_row(f, erased=is_erased) for f in fresh if (f.shopify_id in erased) == is_erased]
        written += rows_upsert_newer(model=Customer, rows=rows, unique_field="shopify_id",
                                     update_fields=_update_fields(_CUSTOMER_FIELDS, _CUSTOMER_PII, erased=is_erased))
    linked = _orders_link_to_customers(written)
    stale = len(facts_list) - len(written)
    audit_log_write(event_type="customers.bulk_upserted",
                    payload={"upserted": len(written), "stale": stale, "orders_linked": linked},
                    integration=integration)
    if written and refresh_summary:
        enqueue(TaskName.REFRESH_CUSTOMER_SUMMARY)
    return {"upserted": len(written), "stale": stale}


@transaction.atomic(savepoint=False)  # inside a backfill page's transaction: no SAVEPOINT/RELEASE round trips
def orders_bulk_upsert(*, facts_list: list[OrderFacts], integration: str = "shopify",
                       refresh_summary: bool = True) -> dict[str, int]:
    """As customers_bulk_upsert, for orders."""
    fresh = _newest_per_id(facts_list)
    # The page's customers are read in the tombstone check's round trip (after the erasure gate).
    tombstones, (customers,) = tombstones_covering_page(
        emails=[f.email for f in fresh], shopify_customer_ids=[f.customer_shopify_id for f in fresh],
        shopify_order_ids=[f.shopify_id for f in fresh], also=(Customer.objects.filter(
            shopify_id__any={f.customer_shopify_id for f in fresh if f.customer_shopify_id}
        ).values_list("shopify_id", "pk"),))
    customer_ids = dict(customers)
    written = []
    for is_erased in (False, True):
        # Plain rows, not Order instances (~30 µs each to build: a tenth of a page's Python), for COPY to read.
        rows = [SimpleNamespace(**_order_values(f, customer_ids.get(f.customer_shopify_id), erased=is_erased))
                for f in fresh if _order_erased(f, tombstones) == is_erased]
        written += rows_upsert_newer(model=Order, rows=rows, unique_field="shopify_id",
                                     update_fields=_update_fields(_ORDER_FIELDS, _ORDER_PII, erased=is_erased))
    stale = len(facts_list) - len(written)
    audit_log_write(event_type="orders.bulk_upserted", payload={"upserted": len(written), "stale": stale},
                    integration=integration)
    if written and refresh_summary:
        enqueue(TaskName.REFRESH_CUSTOMER_SUMMARY)
    return {"upserted": len(written), "stale": stale}
