"""A customer's erasure request: their personal data blanked in every table, history kept.

Customer, their orders (by account and by checkout email), their conversations' messages,
drafts, model runs and approvals, product requests, the raw webhook deliveries that mention
them, the approved replies indexed in Chroma, the blobs of their conversations (archives and
attachments) and the customer_summary read model. Their pending drafts are superseded, so none
can be approved as an empty reply; an approved one not sent yet is refused by the send path.
The audit event says what was erased, by ids and counts, never the PII itself.

Archived conversations: their archive blob is deleted, not rewritten. The rows in Postgres
already hold the erased version (ids, counts, hashes), which is all an erased customer may
leave; an archive's only use is to restore the original content, which an erasure forbids,
and a rewrite would have to know every field a future archive format adds. The conversation
stays `is_archived` with no blob key, so `restore_conversation` says it cannot be restored.
Backups (pg_dump) are not rewritten: they age out after BACKUP_KEEP nights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from conversations.services.retention import archive_document
from customers.models import Customer, Order
from omnichannel.audit import audit_log_write
from omnichannel.blobstore import blob_delete
from omnichannel.errors import ApplicationError
from omnichannel.jobs import enqueue
from omnichannel.pii import approvals_blank, deliveries_mentioning, pii_hash


@dataclass
class ErasureReport:
    customers: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def customer_erase(*, email: str, acting_user=None) -> ErasureReport:
    from assistants.models import ModelRun
    from catalog.models import ProductRequest
    from conversations.models import Approval, Conversation, Draft, Message
    from conversations.services.drafts import SUPERSEDED_CUSTOMER_ERASED, drafts_supersede
    from omnichannel.models import WebhookDelivery

    email = email.strip().lower()
    if "@" not in email:
        raise ApplicationError(f"{email!r} is not an email address")
    hashed = pii_hash(email)
    customers = list(Customer.objects.select_for_update().filter(email__iexact=email).order_by("pk"))
    report = ErasureReport(customers=[c.pk for c in customers])
    # An archived conversation's messages hold the hash already (retention erased them in place).
    conversations = list(Conversation.objects.filter(
        Q(customer__in=customers) | Q(messages__from_address__iexact=email) | Q(messages__from_address=hashed))
        .distinct().values_list("pk", flat=True))
    # Locked in a fixed order (by pk), as drafting locks each one: a draft being written for one of them
    # either commits first (and is superseded and blanked below) or waits, then finds its message erased.
    list(Conversation.objects.select_for_update().filter(pk__in=conversations).order_by("pk").values_list("pk", flat=True))
    archive_keys = [key for key in Conversation.objects.filter(pk__in=conversations).exclude(archive_blob_key="")
                    .values_list("archive_blob_key", flat=True)]
    attachment_keys = _attachment_blob_keys(Message.objects.filter(conversation__in=conversations))
    drafts = list(Draft.objects.filter(conversation__in=conversations).values_list("pk", flat=True))
    approvals = list(Approval.objects.filter(draft__in=drafts).values_list("pk", flat=True))
    now = timezone.now()
    report.counts["customers"] = Customer.objects.filter(pk__in=report.customers).update(
        email=hashed, name="", phone="", shipping_addresses=[], tags="", is_erased=True, erased_at=now)
    report.counts["orders"] = Order.objects.filter(Q(customer__in=customers) | Q(email__iexact=email)).update(
        email=hashed, shipping_address={}, is_erased=True)
    report.counts["messages"] = Message.objects.filter(conversation__in=conversations).update(
        body="", body_html="", subject="", from_name="", to_addresses=[], cc_addresses=[], attachments=[],
        raw_payload={}, headers={}, is_erased=True)
    Message.objects.filter(conversation__in=conversations, from_address__iexact=email).update(from_address=hashed)
    Conversation.objects.filter(pk__in=conversations).update(subject="", archive_blob_key="")
    # Her pending drafts leave the queue: blanked below, they could otherwise be approved as an empty reply.
    report.counts["drafts_superseded"] = len(drafts_supersede(
        drafts=Draft.objects.filter(pk__in=drafts), reason=SUPERSEDED_CUSTOMER_ERASED, acting_user=acting_user,
        integration=None if acting_user else "erasure"))
    report.counts["drafts"] = Draft.objects.filter(pk__in=drafts).update(body="", last_send_error="")
    report.counts["model_runs"] = ModelRun.objects.filter(conversation__in=conversations).update(
        sources=[], evaluation={})
    report.counts["approvals"] = approvals_blank(drafts)
    report.counts["product_requests"] = ProductRequest.objects.filter(
        Q(customer__in=customers) | Q(conversation__in=conversations)).update(description="")
    delivery_ids = deliveries_mentioning(email)
    report.counts["webhook_deliveries"] = WebhookDelivery.objects.filter(pk__in=delivery_ids).update(
        body=b"", headers={}, is_erased=True)
    report.counts["archives"] = len(archive_keys)
    audit_log_write(event_type="customer.erased", acting_user=acting_user, integration=None if acting_user else "erasure",
                    payload={"customer_ids": report.customers, "conversation_ids": conversations, **report.counts})
    approval_ids = [f"approval-{pk}" for pk in approvals]
    # After commit: no I/O inside the transaction, and a rollback must leave the blobs and the index as they were.
    transaction.on_commit(lambda: _forget_indexed(approval_ids))
    transaction.on_commit(lambda: _delete_conversation_blobs(
        archive_keys=archive_keys, attachment_keys=attachment_keys, erased_conversations=conversations))
    # The materialized view still holds her email, name and addresses until it is refreshed.
    transaction.on_commit(lambda: enqueue("refresh_customer_summary", force=True))
    return report


def _attachment_blob_keys(messages) -> set[str]:
    return {attachment["blob_key"] for attachments in messages.values_list("attachments", flat=True)
            for attachment in (attachments or []) if isinstance(attachment, dict) and attachment.get("blob_key")}


def _blob_keys_still_used(keys: set[str], erased_conversations: list[int]) -> set[str]:
    """Attachments are content-addressed: another customer may have sent the very same file; theirs stays."""
    from conversations.models import Message

    if not keys:
        return set()
    mentions = Q()
    for key in keys:
        mentions |= Q(attachments_text__contains=key)
    others = (Message.objects.exclude(conversation__in=erased_conversations).filter(is_erased=False)
              .annotate(attachments_text=Cast("attachments", TextField())).filter(mentions))
    return _attachment_blob_keys(others) & keys


def _forget_indexed(ids: list[str]) -> None:
    from assistants.vectorstore import REPLIES, index_delete

    index_delete(REPLIES, ids)


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
