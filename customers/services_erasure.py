"""A customer's erasure request: their personal data blanked in every table, history kept, and
a tombstone so that it sticks.

Customer, their orders (by account, by checkout email, and the ones a request names), their
conversations' messages, drafts, model runs and approvals, product requests, the raw webhook
deliveries that mention them (by address, or by Shopify id only), FAQ entries and proposals and
corrections that name them, their data-request exports, the approved replies indexed in Chroma
(deleted, then the collection compacted so nothing stays on disk), the blobs of their
conversations (archives and attachments) and the customer_summary read model. Their pending
drafts are superseded, so none can be approved as an empty reply; an approved one not sent yet is
refused by the send path. The audit event says what was erased, by ids and counts, never the PII.
customers erases its own rows here (customers, orders, raw deliveries, data requests, tombstones);
each app above it erases its own in the part it registered (customers/parts.py lists them in the
order they run, all in this one transaction): conversations/services/erasure.py,
catalog/services_erasure.py, faq/services_erasure.py, assistants/erasure.py.

The tombstones (`ErasureTombstone`: keyed hashes of the address, the Shopify customer id and the
orders' ids) are what every ingest path consults afterwards (customers/services.py and
conversations' `message_ingest`): later Shopify data about her keeps its facts without her PII,
and an email she sent before the erasure is not stored. An email she sends afterwards is a new
contact: it is stored under a fresh lead, and nothing erased comes back with it.

Archived conversations: their archive blob is deleted, not rewritten. The rows in Postgres
already hold the erased version (ids, counts, hashes), which is all an erased customer may
leave; an archive's only use is to restore the original content, which an erasure forbids,
and a rewrite would have to know every field a future archive format adds. The conversation
stays `is_archived` with no blob key, so `restore_conversation` says it cannot be restored.
Backups (pg_dump) are not rewritten: they age out after BACKUP_KEEP nights (README, Retention). The
tombstones are also appended, after commit, to a ledger in the blob store, which `restore_db` replays
into the restored database (customers/services_erasure_replay.py): a restored backup is erased again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.erasure_ledger import erasure_ledger_append
from customers.models import Customer, DataRequest, ErasureTombstone, Order
from customers.parts import Erasure, erasure_parts
from customers.selectors import erasure_gate_close, tombstone_keys, tombstone_keys_lock
from omnichannel.audit import audit_log_write
from omnichannel.blobstore import blob_delete
from omnichannel.errors import ApplicationError
from omnichannel.jobs import enqueue
from omnichannel.models import WebhookDelivery
from omnichannel.pii import (
    deliveries_mentioning,
    deliveries_naming_shopify_ids,
    email_unless_erased,
    pii_hash,
    pii_key,
)
from omnichannel.task_names import TaskName


@dataclass
class ErasureReport:
    customers: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def counts_text(self) -> str:
        """The rows blanked, as Ops read them after an erasure ("customers 1, messages 4")."""
        return ", ".join(f"{table} {n}" for table, n in self.counts.items() if n)


def _any_of(lookup: str, values: Iterable[str]) -> Q:
    query = Q(pk__in=[])
    for value in values:
        query |= Q(**{lookup: value})
    return query


@transaction.atomic
def customer_erase(*, email: str = "", shopify_id: str = "", order_shopify_ids: Iterable[str] = (),
                   acting_user=None, integration: str | None = None, compact_index: bool = True) -> ErasureReport:
    """Erase everything we hold about the person named by `email` and/or a Shopify customer id (and
    the Shopify orders a request lists). `compact_index=False` leaves the index compaction to the
    caller (the shop's erasure compacts once at the end). customers' own rows are erased here; the
    apps above it erase theirs in the parts they registered (customers/parts.py: the sequence)."""
    email = (email or "").strip().lower()
    shopify_id = str(shopify_id or "").strip()
    order_shopify_ids = {str(i).strip() for i in order_shopify_ids if str(i).strip()}
    if email and "@" not in email:
        raise ApplicationError(f"{email!r} is not an email address")
    if not (email or shopify_id or order_shopify_ids):
        raise ApplicationError("an erasure needs an email address, a Shopify customer id or Shopify order ids")
    parts = erasure_parts()  # before any lock: a part missing is a broken deployment, not a partial erasure
    integration = None if acting_user else (integration or "erasure")
    named = (Q(email__iexact=email) if email else Q(pk__in=[])) | (Q(shopify_id=shopify_id) if shopify_id else Q(pk__in=[]))
    # Every identifier of hers, locked (customers/selectors.py, tombstone_keys_lock) before any row: a
    # webhook or an email writing about her either commits first (and is erased below) or waits for this
    # erasure's commit, then finds her tombstones. Rows are locked after, so lock order is always the same.
    # Backfill pages check a whole page under one shared lock instead (erasure_gate_share): closed
    # first, before the identifiers, as every erasure does, so two erasures never wait in a circle.
    erasure_gate_close()
    tombstone_keys_lock(tombstone_keys(emails=[email], shopify_customer_ids=[shopify_id],
                                       shopify_order_ids=order_shopify_ids))
    found = list(Customer.objects.filter(named).values_list("email", "shopify_id"))
    tombstone_keys_lock(tombstone_keys(emails=[email_unless_erased(e) for e, _ in found],
                                       shopify_customer_ids=[sid for _, sid in found if sid]))
    now = timezone.now()
    customers = list(Customer.objects.select_for_update().filter(named).order_by("pk"))
    report = ErasureReport(customers=[c.pk for c in customers])
    emails = sorted({email_unless_erased(email), *(email_unless_erased(c.email) for c in customers)} - {""})
    customer_shopify_ids = {shopify_id, *(c.shopify_id for c in customers if c.shopify_id)} - {""}
    erasure = Erasure(customers=customers, emails=emails, customer_shopify_ids=customer_shopify_ids,
                      acting_user=acting_user, integration=integration, compact_index=compact_index,
                      phones=_phones(customers), names=_names(customers))
    # What the parts must lock or read before anything is blanked (conversations: hers, locked, and the
    # names her emails were signed with: free text elsewhere may quote them).
    for _app, part in parts:
        if part.find is not None:
            part.find(erasure)
    orders = list(Order.objects.filter(Q(customer__in=customers) | _any_of("email__iexact", emails)
                                       | Q(shopify_id__in=order_shopify_ids)).values_list("pk", "shopify_id", "email"))
    tombstone_keys_lock(tombstone_keys(shopify_order_ids=[sid for _, sid, _ in orders]))
    order_pks = [pk for pk, _, _ in orders]
    erasure.names |= {a.get("name", "") for a in Order.objects.filter(pk__in=order_pks)
                      .values_list("shipping_address", flat=True) if isinstance(a, dict)}

    for customer in customers:
        address = email_unless_erased(customer.email)
        Customer.objects.filter(pk=customer.pk).update(
            email=pii_hash(address) if address else customer.email, name="", phone="", shipping_addresses=[], tags="",
            is_erased=True, erased_at=now)
    report.counts["customers"] = len(customers)
    for order_email in {email_unless_erased(e) for _, _, e in orders} - {""}:
        Order.objects.filter(pk__in=order_pks, email__iexact=order_email).update(email=pii_hash(order_email))
    report.counts["orders"] = Order.objects.filter(pk__in=order_pks).update(shipping_address={}, is_erased=True)
    delivery_ids = {pk for address in emails for pk in deliveries_mentioning(address)}
    delivery_ids |= set(deliveries_naming_shopify_ids(customer_ids=customer_shopify_ids,
                                                      order_ids={sid for _, sid, _ in orders} | order_shopify_ids))
    report.counts["webhook_deliveries"] = WebhookDelivery.objects.filter(pk__in=delivery_ids).update(
        body=b"", headers={}, is_erased=True)
    export_keys = _data_requests_erase(customers=customers, emails=emails, customer_shopify_ids=customer_shopify_ids)
    report.counts["data_requests"] = len(export_keys)
    # The apps above this one blank their rows, in this transaction, in the order of customers/parts.py.
    for _app, part in parts:
        report.counts.update(part.erase(erasure))
    report.counts["tombstones"] = _tombstones_write(
        at=now, emails=emails, shopify_customer_ids=customer_shopify_ids,
        shopify_order_ids={sid for _, sid, _ in orders} | order_shopify_ids)
    audit_log_write(event_type="customer.erased", acting_user=acting_user, integration=integration,
                    payload={"customer_ids": report.customers, "conversation_ids": erasure.conversation_ids,
                             **report.counts})
    # After commit: no I/O inside the transaction, and a rollback must leave the blobs as they were.
    transaction.on_commit(lambda: [blob_delete(key) for key in export_keys])
    # The materialized view still holds her email, name and addresses until it is refreshed.
    enqueue(TaskName.REFRESH_CUSTOMER_SUMMARY, force=True)
    return report


def _names(customers: list[Customer]) -> set[str]:
    names = {c.name for c in customers}
    names |= {a.get("name", "") for c in customers for a in (c.shipping_addresses or []) if isinstance(a, dict)}
    return names


def _phones(customers: list[Customer]) -> list[str]:
    phones = {c.phone for c in customers}
    phones |= {a.get("phone", "") for c in customers for a in (c.shipping_addresses or []) if isinstance(a, dict)}
    return sorted(p for p in phones if p)


def _tombstones_write(*, at, emails: Iterable[str], shopify_customer_ids: Iterable[str],
                      shopify_order_ids: Iterable[str]) -> int:
    rows = [ErasureTombstone(kind=kind, key=pii_key(kind, value), erased_at=at)
            for kind, values in ((ErasureTombstone.Kind.EMAIL, emails),
                                 (ErasureTombstone.Kind.SHOPIFY_CUSTOMER, shopify_customer_ids),
                                 (ErasureTombstone.Kind.SHOPIFY_ORDER, shopify_order_ids))
            for value in sorted(set(values)) if value]
    # A second erasure of the same person moves the time on: an email she sent in between is erased too.
    ErasureTombstone.objects.bulk_create(rows, update_conflicts=True, unique_fields=["key"], update_fields=["erased_at"])
    if rows:
        # Also outside the database, after commit (customers/erasure_ledger.py): a backup taken
        # before this erasure and restored later gets them, and this erasure, back.
        transaction.on_commit(lambda: erasure_ledger_append(rows))
    return len(rows)


def _data_requests_erase(*, customers: list[Customer], emails: list[str], customer_shopify_ids: set[str]) -> list[str]:
    """Her data requests keep their row (Shopify's request id, the dates) without her address or export."""
    requests = DataRequest.objects.filter(pk__in=list(DataRequest.objects.filter(
        Q(customer__in=customers) | _any_of("email__iexact", emails)
        | Q(shopify_customer_id__in=customer_shopify_ids)).values_list("pk", flat=True)))
    keys = [key for key in requests.exclude(blob_key="").values_list("blob_key", flat=True)]
    for address in emails:
        requests.filter(email__iexact=address).update(email=pii_hash(address))
    requests.update(blob_key="", counts={}, status=DataRequest.Status.ERASED, updated_at=timezone.now())
    return keys


@transaction.atomic
def shop_erasure_request(*, shop_domain: str, integration: str = "shopify") -> None:
    """Shopify's shop/redact (48 hours after the app was uninstalled): the shop's customers are erased
    by `erase_shop_customers`, after commit, in a task of their own (one transaction per customer)."""
    audit_log_write(event_type="shop.erasure_requested", integration=integration, payload={"shop": shop_domain})
    enqueue(TaskName.ERASE_SHOP_CUSTOMERS)


SHOP_ERASURE_BATCH = 50  # erasures per task run: each scans the raw deliveries, FAQ and corrections once


def customers_erase_shop(*, counts: dict[str, int] | None = None, integration: str = "shopify",
                         batch: int | None = None) -> tuple[dict[str, int], bool]:
    """Erase up to `batch` of the customers the shop gave us: Shopify customers (with their
    conversations, as any erasure request), then guest checkouts (by their email, or by the order
    alone). Leads who only ever wrote to the support inbox are not the shop's data and stay. One
    transaction per customer, so a killed run loses nothing. Returns (running counts, done); once
    done, the audit event is written and the index compacted once for the whole shop."""
    counts = dict(counts or {"customers": 0, "guests": 0, "orders": 0})
    todo = batch or SHOP_ERASURE_BATCH
    for address, shopify_id in Customer.objects.filter(shopify_id__isnull=False, is_erased=False).order_by("pk") \
            .values_list("email", "shopify_id")[:todo]:
        customer_erase(email=email_unless_erased(address), shopify_id=shopify_id, integration=integration,
                       compact_index=False)
        counts["customers"] += 1
        todo -= 1
    if todo:
        for address, order_id in Order.objects.filter(customer__isnull=True, is_erased=False).order_by("pk") \
                .values_list("email", "shopify_id")[:todo]:
            customer_erase(email=email_unless_erased(address), order_shopify_ids=[order_id], integration=integration,
                           compact_index=False)
            counts["guests" if email_unless_erased(address) else "orders"] += 1
            todo -= 1
    if todo == 0:
        return counts, False  # a full batch: there may be more
    with transaction.atomic():
        audit_log_write(event_type="shop.erased", integration=integration, payload=counts)
        enqueue(TaskName.FORGET_APPROVED_REPLIES, approval_ids=[], compact=True)
    return counts, True
