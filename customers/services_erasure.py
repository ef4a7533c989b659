"""A customer's erasure request: their personal data blanked in every table, history kept.

Customer, their orders (by account and by checkout email), their conversations' messages,
drafts, model runs and approvals, product requests, the raw webhook deliveries that mention
them, and the approved replies indexed in Chroma. The audit event says what was erased, by
ids and counts, never the PII itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, Order
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError
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
    from omnichannel.models import WebhookDelivery

    email = email.strip().lower()
    if "@" not in email:
        raise ApplicationError(f"{email!r} is not an email address")
    hashed = pii_hash(email)
    customers = list(Customer.objects.select_for_update().filter(email__iexact=email).order_by("pk"))
    report = ErasureReport(customers=[c.pk for c in customers])
    conversations = list(Conversation.objects.filter(
        Q(customer__in=customers) | Q(messages__from_address__iexact=email)).distinct().values_list("pk", flat=True))
    drafts = list(Draft.objects.filter(conversation__in=conversations).values_list("pk", flat=True))
    approvals = list(Approval.objects.filter(draft__in=drafts).values_list("pk", flat=True))
    now = timezone.now()
    report.counts["customers"] = Customer.objects.filter(pk__in=report.customers).update(
        email=hashed, name="", phone="", shipping_addresses=[], tags="", is_erased=True, erased_at=now)
    report.counts["orders"] = Order.objects.filter(Q(customer__in=customers) | Q(email__iexact=email)).update(
        email=hashed, shipping_address={}, is_erased=True)
    report.counts["messages"] = Message.objects.filter(conversation__in=conversations).update(
        body="", body_html="", subject="", from_name="", to_addresses=[], cc_addresses=[], attachments=[],
        raw_payload={}, is_erased=True)
    Message.objects.filter(conversation__in=conversations, from_address__iexact=email).update(from_address=hashed)
    Conversation.objects.filter(pk__in=conversations).update(subject="")
    report.counts["drafts"] = Draft.objects.filter(pk__in=drafts).update(body="", last_send_error="")
    report.counts["model_runs"] = ModelRun.objects.filter(conversation__in=conversations).update(
        sources=[], evaluation={})
    report.counts["approvals"] = approvals_blank(drafts)
    report.counts["product_requests"] = ProductRequest.objects.filter(
        Q(customer__in=customers) | Q(conversation__in=conversations)).update(description="")
    delivery_ids = deliveries_mentioning(email)
    report.counts["webhook_deliveries"] = WebhookDelivery.objects.filter(pk__in=delivery_ids).update(
        body=b"", headers={}, is_erased=True)
    audit_log_write(event_type="customer.erased", acting_user=acting_user, integration=None if acting_user else "erasure",
                    payload={"customer_ids": report.customers, "conversation_ids": conversations, **report.counts})
    approval_ids = [f"approval-{pk}" for pk in approvals]
    transaction.on_commit(lambda: _forget_indexed(approval_ids))
    return report


def _forget_indexed(ids: list[str]) -> None:
    from assistants.vectorstore import REPLIES, index_delete

    index_delete(REPLIES, ids)
