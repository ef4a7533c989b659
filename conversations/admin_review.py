"""The agents' review page for one draft: thread, customer, sources, model run, the decision.

Reads go through one selector with a fixed number of queries; decisions go through the
approval services, which refuse a draft that is no longer pending (two agents, one winner).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Prefetch
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from conversations.models import Approval, Conversation, Draft, Message
from conversations.rendering import email_frame_document, has_remote_images, split_quoted
from conversations.selectors import draft_rejection_reason
from conversations.services.claims import draft_next_for
from conversations.services.drafts import SUPERSEDED_CUSTOMER_ERASED, SUPERSEDED_REPLIED_OUTSIDE
from conversations.services.sending import draft_reply_recipient
from customers.models import Order
from omnichannel.formatting import money
from omnichannel.models import AuditLog
from omnichannel.safe_urls import http_url

# Where each kind of source lives in the admin (kind -> admin URL name).
SOURCE_ADMIN = {
    "order": "admin:customers_order_change", "inventory": "admin:catalog_inventoryitem_change",
    "faq": "admin:faq_faqentry_change", "correction": "admin:faq_correction_change",
    "site": "admin:integrations_sitesnapshot_change", "reply": "admin:conversations_approval_change",
    "customer": "admin:customers_customer_change",
}


THREAD_SHOWN = 200  # emails of a thread on the review page, the newest

# Why a draft left the queue without a decision, when a newer draft was not the cause (the reason
# of its draft.superseded audit row), as the review page says it.
SUPERSEDED_WHY = {
    SUPERSEDED_REPLIED_OUTSIDE: "a reply was sent from Zoho directly",
    SUPERSEDED_CUSTOMER_ERASED: "the customer's data was erased",
}


@dataclass
class ReviewSource:
    kind: str
    label: str
    score: float
    url: str
    external_url: str


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
    """(css class, line) per line of a unified diff, so additions and removals read at a glance. The diff's
    own markup ("--- draft", "+++ final", "@@ -1,8 +1 @@") means nothing to an agent: the file lines go, and
    a hunk line becomes "…" where unchanged lines were left out (the Approval keeps the diff as it is)."""
    kinds, in_hunk = [], False
    for line in diff.splitlines():
        if line.startswith("@@"):
            if in_hunk:
                kinds.append(("diff-hunk", "…"))
            in_hunk = True
        elif not in_hunk:
            continue  # the header, before the first hunk
        elif line.startswith("+"):
            kinds.append(("diff-add", line))
        elif line.startswith("-"):
            kinds.append(("diff-del", line))
        else:
            kinds.append(("diff-same", line))
    return kinds


def draft_status_text(draft: Draft) -> str:
    """The draft's status as agents read it: an approved reply whose last send failed is "Not sent"."""
    if draft.status == Draft.Status.APPROVED and draft.last_send_error and not draft.sent_message_id:
        return "Not sent: sending failed"
    return draft.get_status_display()


def superseded_reason(draft: Draft) -> str:
    """One query, only for a superseded draft: its draft.superseded audit row, if it has one."""
    if draft.status != Draft.Status.SUPERSEDED:
        return ""
    reason = (AuditLog.objects.filter(event_type="draft.superseded", object_type=Draft._meta.label_lower,
                                      object_id=str(draft.pk))
              .order_by("-pk").values_list("payload__reason", flat=True).first())
    return SUPERSEDED_WHY.get(reason, "")


@dataclass
class ThreadEntry:
    message: Message
    text: str  # the new part of a plain-text body
    quoted: str  # its quoted history, collapsed on the page
    frame: str  # an HTML body as a sandboxed frame's document ("" for plain text)
    remote_images: bool
    frame_height: int = 0  # px: about what the email needs (the agent can drag it taller)


# Block-level breaks in an email's HTML: each starts a line in the frame.
_BREAKS = re.compile(r"<(?:p|br|div|tr|li|h[1-6]|blockquote|table|img)\b", re.IGNORECASE)


def frame_height(body_html: str) -> int:
    """A height for an email's frame from its lines. The frame runs no script and is of another origin,
    so the page cannot measure it: a short email gets a short frame, and the draft stays in view."""
    text = re.sub(r"<[^>]*>", " ", body_html)
    lines = len(_BREAKS.findall(body_html)) + len(" ".join(text.split())) // 90 + 1
    return max(90, min(480, 24 + 22 * lines))


def thread_entry(message: Message, *, load_images: bool) -> ThreadEntry:
    if message.body_html and (not message.body or message.direction == Message.Direction.INBOUND):
        # HTML mail as sent (tables, links), not its flattened text.
        return ThreadEntry(message, "", "", email_frame_document(message.body_html, load_images=load_images),
                           has_remote_images(message.body_html), frame_height(message.body_html))
    text, quoted = split_quoted(message.body)
    return ThreadEntry(message, text, quoted, "", False)


def order_rows(orders: list[Order]) -> list[dict]:
    """Orders as people read them: items with quantities and prices, the total, money with currency."""
    return [{"order": o, "total": money(o.total_price_cents, o.currency),
             "items": [{"title": li.get("title") or li.get("sku") or "item", "quantity": li.get("quantity", 0),
                        "price": money(li.get("price_cents"), o.currency)} for li in (o.line_items or [])
                       if isinstance(li, dict)]} for o in orders]


def review_context(draft_id: int, *, user=None, load_images: bool = False) -> dict:
    draft = (Draft.objects.select_related("conversation__customer", "model_run", "reply_to", "sent_message",
                                          "claimed_by")
             .prefetch_related(Prefetch("approvals", queryset=Approval.objects.select_related("approved_by")))
             .get(pk=draft_id))
    # The newest emails of a long thread (the one the draft answers is among them), shown oldest first; the
    # conversation page has the rest. One more row is read only to know that there is more.
    thread = list(Message.objects.filter(conversation_id=draft.conversation_id, is_erased=False)
                  .order_by("-sent_at", "-id")[:THREAD_SHOWN + 1])[::-1]
    earlier_hidden, thread = len(thread) > THREAD_SHOWN, thread[-THREAD_SHOWN:]
    customer = draft.conversation.customer
    orders = []
    if customer is not None:
        orders = list(Order.objects.filter(customer=customer, is_erased=False).order_by("-placed_at", "-id")[:5])
    other_conversations = []
    if customer is not None:
        other_conversations = list(Conversation.objects.filter(customer=customer).exclude(pk=draft.conversation_id)
                                   .order_by("-last_message_at", "-id")[:10])
    next_pending = draft_next_for(user=user, exclude_id=draft.pk)
    held_by = None  # another agent reviewing this draft right now
    if (draft.status == Draft.Status.PENDING and draft.claimed_by_id and draft.claimed_until
            and draft.claimed_until > timezone.now() and draft.claimed_by != user):
        held_by = draft.claimed_by
    approval = next(iter(draft.approvals.all()), None)
    # Back from an undo: the text box holds what the agent had approved, so an edit is not lost.
    initial_text = draft.body
    if draft.replaces_id and draft.status == Draft.Status.PENDING:
        undone = Approval.objects.filter(draft_id=draft.replaces_id).values_list("final_text", flat=True).first()
        initial_text = undone or draft.body
    undoable = (draft.status == Draft.Status.APPROVED and not draft.sending_started_at and not draft.sent_message_id
                and draft.send_after is not None and draft.send_after > timezone.now())
    redraft_instruction = draft_rejection_reason(draft_id=draft.replaces_id) if draft.replaces_id else ""
    return {
        "redraft_instruction": redraft_instruction,
        "initial_text": initial_text, "undoable": undoable, "held_by": held_by,
        "draft": draft, "thread": [thread_entry(m, load_images=load_images) for m in thread],
        "earlier_hidden": earlier_hidden,
        "remote_images": any(m.body_html and has_remote_images(m.body_html) for m in thread),
        "load_images": load_images, "order_rows": order_rows(orders), "other_conversations": other_conversations,
        "customer": customer, "orders": orders, "sources": review_sources(draft), "run": draft.model_run,
        "lifetime_value": f"{customer.lifetime_value_cents / 100:,.2f} {customer.currency}" if customer else "",
        "addresses": [address_line(a) for a in (customer.shipping_addresses if customer else []) if isinstance(a, dict)],
        "reply_recipient": draft_reply_recipient(draft),
        "approval": approval, "diff_lines": diff_lines(approval.diff) if approval else [], "next_pending": next_pending,
        "superseded_reason": superseded_reason(draft), "status_text": draft_status_text(draft),
        "intent_text": (draft.intent or "no intent").replace("_", " "),  # as the queue shows it
    }
