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
Backups (pg_dump) are not rewritten: they age out after BACKUP_KEEP nights (README, Retention).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from catalog.models import ProductRequest
from conversations.models import Approval, Conversation, Draft, Message
from conversations.services.drafts import SUPERSEDED_CUSTOMER_ERASED, drafts_supersede
from conversations.services.retention import archive_document
from customers.models import Customer, DataRequest, ErasureTombstone, Order
from customers.selectors import erasure_gate_close, tombstone_keys, tombstone_keys_lock
from customers.signals import customer_erased
from faq.services_erasure import Mentions, faq_mentions_erase
from faq.services_proposals import faq_proposals_erase_customer
from omnichannel.audit import audit_log_write
from omnichannel.blobstore import blob_delete
from omnichannel.errors import ApplicationError
from omnichannel.jobs import enqueue
from omnichannel.models import WebhookDelivery
from omnichannel.pii import (
    approvals_blank,
    deliveries_mentioning,
    deliveries_naming_shopify_ids,
    pii_hash,
    pii_key,
)
from omnichannel.task_names import TaskName

_ERASED_DOMAIN = "@erased.invalid"


@dataclass
class ErasureReport:
    customers: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _real_email(value: str) -> str:
    value = (value or "").strip().lower()
    return value if "@" in value and not value.endswith(_ERASED_DOMAIN) else ""


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
    caller (the shop's erasure compacts once at the end)."""
    email = (email or "").strip().lower()
    shopify_id = str(shopify_id or "").strip()
    order_shopify_ids = {str(i).strip() for i in order_shopify_ids if str(i).strip()}
    if email and "@" not in email:
        raise ApplicationError(f"{email!r} is not an email address")
    if not (email or shopify_id or order_shopify_ids):
        raise ApplicationError("an erasure needs an email address, a Shopify customer id or Shopify order ids")
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
    tombstone_keys_lock(tombstone_keys(emails=[_real_email(e) for e, _ in found],
                                       shopify_customer_ids=[sid for _, sid in found if sid]))
    now = timezone.now()
    customers = list(Customer.objects.select_for_update().filter(named).order_by("pk"))
    report = ErasureReport(customers=[c.pk for c in customers])
    emails = sorted({_real_email(email), *(_real_email(c.email) for c in customers)} - {""})
    hashed = {address: pii_hash(address) for address in emails}
    customer_shopify_ids = {shopify_id, *(c.shopify_id for c in customers if c.shopify_id)} - {""}
    # An archived conversation's messages hold the hash already (retention erased them in place).
    conversations = list(Conversation.objects.filter(
        Q(customer__in=customers) | _any_of("messages__from_address__iexact", emails)
        | _any_of("messages__from_address", hashed.values())).distinct().values_list("pk", flat=True))
    # Locked in a fixed order (by pk), as drafting locks each one: a draft being written for one of them
    # either commits first (and is superseded and blanked below) or waits, then finds its message erased.
    list(Conversation.objects.select_for_update().filter(pk__in=conversations).order_by("pk").values_list("pk", flat=True))
    orders = list(Order.objects.filter(Q(customer__in=customers) | _any_of("email__iexact", emails)
                                       | Q(shopify_id__in=order_shopify_ids)).values_list("pk", "shopify_id", "email"))
    tombstone_keys_lock(tombstone_keys(shopify_order_ids=[sid for _, sid, _ in orders]))
    order_pks = [pk for pk, _, _ in orders]
    # What the texts outside her own rows (FAQ, corrections) may quote of her: read before it is blanked.
    mentions = Mentions(emails=emails, names=_names(customers, conversations, order_pks), phones=_phones(customers))
    archive_keys = [key for key in Conversation.objects.filter(pk__in=conversations).exclude(archive_blob_key="")
                    .values_list("archive_blob_key", flat=True)]
    attachment_keys = _attachment_blob_keys(Message.objects.filter(conversation__in=conversations))
    drafts = list(Draft.objects.filter(conversation__in=conversations).values_list("pk", flat=True))
    approvals = list(Approval.objects.filter(draft__in=drafts).values_list("pk", flat=True))

    for customer in customers:
        address = _real_email(customer.email)
        Customer.objects.filter(pk=customer.pk).update(
            email=pii_hash(address) if address else customer.email, name="", phone="", shipping_addresses=[], tags="",
            is_erased=True, erased_at=now)
    report.counts["customers"] = len(customers)
    for order_email in {_real_email(e) for _, _, e in orders} - {""}:
        Order.objects.filter(pk__in=order_pks, email__iexact=order_email).update(email=pii_hash(order_email))
    report.counts["orders"] = Order.objects.filter(pk__in=order_pks).update(shipping_address={}, is_erased=True)
    report.counts["messages"] = Message.objects.filter(conversation__in=conversations).update(
        body="", body_html="", subject="", from_name="", to_addresses=[], cc_addresses=[], attachments=[],
        raw_payload={}, headers={}, is_erased=True)
    for address in emails:
        Message.objects.filter(conversation__in=conversations, from_address__iexact=address).update(
            from_address=hashed[address])
    Conversation.objects.filter(pk__in=conversations).update(subject="", archive_blob_key="")
    # Her pending drafts leave the queue: blanked below, they could otherwise be approved as an empty reply.
    report.counts["drafts_superseded"] = len(drafts_supersede(
        drafts=Draft.objects.filter(pk__in=drafts), reason=SUPERSEDED_CUSTOMER_ERASED, acting_user=acting_user,
        integration=integration))
    report.counts["drafts"] = Draft.objects.filter(pk__in=drafts).update(body="", last_send_error="")
    report.counts["approvals"] = approvals_blank(drafts)
    report.counts["product_requests"] = ProductRequest.objects.filter(
        Q(customer__in=customers) | Q(conversation__in=conversations)).update(description="")
    delivery_ids = {pk for address in emails for pk in deliveries_mentioning(address)}
    delivery_ids |= set(deliveries_naming_shopify_ids(customer_ids=customer_shopify_ids,
                                                      order_ids={sid for _, sid, _ in orders} | order_shopify_ids))
    report.counts["webhook_deliveries"] = WebhookDelivery.objects.filter(pk__in=delivery_ids).update(
        body=b"", headers={}, is_erased=True)
    export_keys = _data_requests_erase(customers=customers, emails=emails, customer_shopify_ids=customer_shopify_ids)
    report.counts["data_requests"] = len(export_keys)
    report.counts.update(faq_mentions_erase(mentions=mentions, acting_user=acting_user))
    # FAQ proposals built from her conversations drop her replies and are composed again without them.
    report.counts["faq_proposals"] = faq_proposals_erase_customer(conversation_ids=list(conversations),
                                                                  acting_user=acting_user)
    report.counts["archives"] = len(archive_keys)
    # Apps this one must not import (assistants) blank their rows here, in this transaction (customers/signals.py).
    for _receiver, counts in customer_erased.send(sender=Customer, conversation_ids=conversations):
        report.counts.update(counts or {})
    report.counts["tombstones"] = _tombstones_write(
        at=now, emails=emails, shopify_customer_ids=customer_shopify_ids,
        shopify_order_ids={sid for _, sid, _ in orders} | order_shopify_ids)
    audit_log_write(event_type="customer.erased", acting_user=acting_user, integration=integration,
                    payload={"customer_ids": report.customers, "conversation_ids": conversations, **report.counts})
    # After commit: no I/O inside the transaction, and a rollback must leave the blobs and the index as they were.
    if approvals:  # a compaction rewrites the whole collection: only when something of hers was in it
        enqueue(TaskName.FORGET_APPROVED_REPLIES, approval_ids=approvals, compact=compact_index)
    transaction.on_commit(lambda: _delete_conversation_blobs(
        archive_keys=archive_keys, attachment_keys=attachment_keys, erased_conversations=conversations))
    transaction.on_commit(lambda: [blob_delete(key) for key in export_keys])
    # The materialized view still holds her email, name and addresses until it is refreshed.
    enqueue(TaskName.REFRESH_CUSTOMER_SUMMARY, force=True)
    return report


def _names(customers: list[Customer], conversations: list[int], order_pks: list[int]) -> list[str]:
    names = {c.name for c in customers}
    names |= {a.get("name", "") for c in customers for a in (c.shipping_addresses or []) if isinstance(a, dict)}
    names |= set(Message.objects.filter(conversation__in=conversations, direction=Message.Direction.INBOUND)
                 .exclude(from_name="").values_list("from_name", flat=True).distinct())
    names |= {a.get("name", "") for a in Order.objects.filter(pk__in=order_pks).values_list("shipping_address", flat=True)
              if isinstance(a, dict)}
    return sorted(n.strip() for n in names if n and n.strip())


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


def _attachment_blob_keys(messages) -> set[str]:
    return {attachment["blob_key"] for attachments in messages.values_list("attachments", flat=True)
            for attachment in (attachments or []) if isinstance(attachment, dict) and attachment.get("blob_key")}


def _blob_keys_still_used(keys: set[str], erased_conversations: list[int]) -> set[str]:
    """Attachments are content-addressed: another customer may have sent the very same file; theirs stays."""
    if not keys:
        return set()
    mentions = Q()
    for key in keys:
        mentions |= Q(attachments_text__contains=key)
    others = (Message.objects.exclude(conversation__in=erased_conversations).filter(is_erased=False)
              .annotate(attachments_text=Cast("attachments", TextField())).filter(mentions))
    return _attachment_blob_keys(others) & keys


def _delete_conversation_blobs(*, archive_keys: list[str], attachment_keys: set[str],
                               erased_conversations: list[int]) -> None:
    # An archived message's attachments are listed only in its archive: read them before deleting it.
    keys = set(attachment_keys)
    for key in archive_keys:
        try:
            document = archive_document(key)
        except (FileNotFoundError, ApplicationError):
            continue  # gone already, or under a key rotated out: deleted below all the same
        for message in document.get("messages", []):
            keys |= {a["blob_key"] for a in (message.get("attachments") or []) if isinstance(a, dict) and a.get("blob_key")}
    for key in sorted(keys - _blob_keys_still_used(keys, erased_conversations)):
        blob_delete(key)
    for key in archive_keys:
        blob_delete(key)


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
        customer_erase(email=_real_email(address), shopify_id=shopify_id, integration=integration, compact_index=False)
        counts["customers"] += 1
        todo -= 1
    if todo:
        for address, order_id in Order.objects.filter(customer__isnull=True, is_erased=False).order_by("pk") \
                .values_list("email", "shopify_id")[:todo]:
            customer_erase(email=_real_email(address), order_shopify_ids=[order_id], integration=integration,
                           compact_index=False)
            counts["guests" if _real_email(address) else "orders"] += 1
            todo -= 1
    if todo == 0:
        return counts, False  # a full batch: there may be more
    with transaction.atomic():
        audit_log_write(event_type="shop.erased", integration=integration, payload=counts)
        enqueue(TaskName.FORGET_APPROVED_REPLIES, approval_ids=[], compact=True)
    return counts, True
