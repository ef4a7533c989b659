"""The agents' review page for one draft: thread, customer, sources, model run, the decision.

Reads go through one selector with a fixed number of queries; decisions go through the
approval services, which refuse a draft that is no longer pending (two agents, one winner).
"""

from __future__ import annotations

from dataclasses import dataclass

import nh3
from django.db.models import Prefetch
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe

from conversations.models import Approval, Draft, Message
from conversations.services.sending import draft_reply_recipient
from customers.models import Order
from omnichannel.safe_urls import http_url

# Where each kind of source lives in the admin (kind -> admin URL name).
SOURCE_ADMIN = {
    "order": "admin:customers_order_change", "inventory": "admin:catalog_inventoryitem_change",
    "faq": "admin:faq_faqentry_change", "correction": "admin:faq_correction_change",
    "site": "admin:integrations_sitesnapshot_change", "reply": "admin:conversations_approval_change",
    "customer": "admin:customers_customer_change",
}


@dataclass
class ReviewSource:
    kind: str
    label: str
    score: float
    url: str
    external_url: str


def sanitized_html(html: str):
    """Inbound HTML as safe markup: nh3 (Ammonia) keeps formatting, drops scripts, handlers and styles."""
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S308 - cleaned by nh3 above


def review_sources(draft: Draft) -> list[ReviewSource]:
    sources = []
    for s in (draft.model_run.sources if draft.model_run else []):
        try:
            url = reverse(SOURCE_ADMIN[s["kind"]], args=[s["id"]])
        except (KeyError, NoReverseMatch):
            url = ""
        sources.append(ReviewSource(kind=s.get("kind", "?"), label=s.get("label", ""), score=s.get("score", 0),
                                    url=url, external_url=http_url(s.get("url", ""))))
    return sources


def address_line(address: dict) -> str:
    """One postal address on one line, leaving out the parts Shopify did not send."""
    street = " ".join(filter(None, [address.get("address1", ""), address.get("address2", "")]))
    town = " ".join(filter(None, [address.get("city", ""), address.get("zip", "")]))
    return ", ".join(filter(None, [street, town, address.get("province", ""), address.get("country", "")]))


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """(css class, line) per line of a unified diff, so additions and removals read at a glance."""
    kinds = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            kinds.append(("diff-file", line))
        elif line.startswith("@@"):
            kinds.append(("diff-hunk", line))
        elif line.startswith("+"):
            kinds.append(("diff-add", line))
        elif line.startswith("-"):
            kinds.append(("diff-del", line))
        else:
            kinds.append(("diff-same", line))
    return kinds


def review_context(draft_id: int) -> dict:
    draft = (Draft.objects.select_related("conversation__customer", "model_run", "reply_to", "sent_message")
             .prefetch_related(Prefetch("approvals", queryset=Approval.objects.select_related("approved_by")))
             .get(pk=draft_id))
    thread = list(Message.objects.filter(conversation_id=draft.conversation_id, is_erased=False)
                  .order_by("sent_at", "id")[:200])
    customer = draft.conversation.customer
    orders = []
    if customer is not None:
        orders = list(Order.objects.filter(customer=customer, is_erased=False).order_by("-placed_at", "-id")[:5])
    next_pending = (Draft.objects.filter(status=Draft.Status.PENDING).exclude(pk=draft.pk)
                    .order_by("created_at", "id").values_list("pk", flat=True).first())
    approval = next(iter(draft.approvals.all()), None)
    return {
        "draft": draft, "thread": [(m, sanitized_html(m.body_html) if m.body_html else None) for m in thread],
        "customer": customer, "orders": orders, "sources": review_sources(draft), "run": draft.model_run,
        "lifetime_value": f"{customer.lifetime_value_cents / 100:,.2f} {customer.currency}" if customer else "",
        "addresses": [address_line(a) for a in (customer.shipping_addresses if customer else []) if isinstance(a, dict)],
        "reply_recipient": draft_reply_recipient(draft),
        "approval": approval, "diff_lines": diff_lines(approval.diff) if approval else [], "next_pending": next_pending,
    }
