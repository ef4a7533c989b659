"""Everything the drafter may say, gathered before any provider runs.

Each fact comes with its `Source` (kind, id, score, and what it says), so a draft can cite
where every tracking number, quantity, date or price came from. Reads only; nothing here
writes. Customer facts (the customer, their latest orders, their open drafts) come from the
`customer_summary` read model through `customers.selectors`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

import nh3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from assistants import vectorstore
from assistants.models import StyleProfile
from assistants.product_words import english_product_words, title_match
from assistants.request_refs import order_refs_find
from assistants.terms import FAQ_MATCH_MIN_SCORE, faq_match_score
from catalog.models import InventoryItem
from customers.models import Customer, Order
from customers.selectors import CustomerSummary, customer_find, customer_summary_get, customers_known_facts
from faq.models import Correction, FaqEntry
from omnichannel.pii_scrub import pii_scrub

_TOKEN = re.compile(r"[\w-]+", re.UNICODE)
_STOPWORDS = {"the", "and", "for", "with", "size", "pair", "your", "you", "our", "a", "an", "of", "in", "to"}
# Shipping is told by the fulfilment state, not the financial one: a refunded order may have shipped nothing.
_SHIPPED = {"fulfilled", "partially_fulfilled"}
_SHIPPED_FULFILLMENT = {"fulfilled", "partial"}


@dataclass(frozen=True)
class Source:
    kind: str  # customer | order | inventory | correction | faq | site | reply
    id: str
    score: float
    label: str
    facts: dict[str, Any] = field(default_factory=dict)
    url: str = ""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        return data


@dataclass
class EmailIn:
    from_address: str
    subject: str
    body: str
    truncated: bool = False
    attachments: int = 0  # files the customer attached (a photo of a damaged item needs no second ask)


@dataclass
class DraftContext:
    email: EmailIn
    customer: Source | None = None
    orders: list[Source] = field(default_factory=list)
    referenced_order: Source | None = None
    inventory: list[Source] = field(default_factory=list)
    corrections: list[Source] = field(default_factory=list)
    faq: list[Source] = field(default_factory=list)
    faq_by_intent: dict[str, Source] = field(default_factory=dict)
    site: list[Source] = field(default_factory=list)
    replies: list[Source] = field(default_factory=list)
    style: dict[str, Any] = field(default_factory=dict)
    instruction: str = ""  # an agent's reason for rejecting the previous draft: what to do differently
    # The customer's requests (assistants.requests.CustomerRequest), main one first as written, and the
    # language the reply is written in (en, de, es, fr): set by draft_compose before a provider runs.
    requests: tuple = ()
    language: str = "en"
    # False when the customer wrote in a language the classifier was not trained on (drafted in English):
    # its reading of their requests is then a guess.
    language_supported: bool = True
    # Set when Chroma could not answer: the draft is made without site chunks and past replies.
    retrieval_error: str = ""
    retrieval_transient: bool = False

    def all_sources(self) -> list[Source]:
        found = [self.customer] if self.customer else []
        found += self.orders + self.inventory + self.corrections + self.faq + self.site + self.replies
        return found

    @property
    def text(self) -> str:
        return f"{self.email.subject}\n{self.email.body}"


def email_text(*, body: str, body_html: str = "") -> str:
    """The readable text of an email: the plain part, or the HTML part with every tag removed."""
    if body.strip():
        return body
    if body_html.strip():
        return re.sub(r"[ \t]+", " ", nh3.clean(body_html, tags=set())).strip()
    return ""


def email_in(*, from_address: str, subject: str, body: str, body_html: str = "", attachments: int = 0) -> EmailIn:
    text = email_text(body=body, body_html=body_html)
    budget = settings.ASSISTANT_MAX_INPUT_CHARS
    return EmailIn(from_address=from_address.strip().lower(), subject=subject[:500], body=text[:budget],
                   truncated=len(text) > budget, attachments=attachments)


def _tokens(text: str) -> set[str]:
    return {t for t in _TOKEN.findall(text.lower()) if len(t) > 1 and t not in _STOPWORDS}


def _order_source(order: Order, score: float) -> Source:
    facts = {
        "name": order.name, "status": order.status, "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status, "tracking": order.tracking,
        "line_items": [{"sku": li.get("sku", ""), "title": li.get("title", ""), "quantity": li.get("quantity"),
                        "price": f"{(li.get('price_cents') or 0) / 100:.2f}"} for li in order.line_items],
        "placed_at": order.placed_at.date().isoformat() if order.placed_at else "",
        "shipped": order.status in _SHIPPED or order.fulfillment_status in _SHIPPED_FULFILLMENT,
        "refunds": [{"amount": f"{(r.get('amount_cents') or 0) / 100:.2f}", "date": (r.get("created_at") or "")[:10],
                     "note": r.get("note", "")} for r in order.refunds or []],
        "total": f"{order.total_price_cents / 100:.2f} {order.currency}",
        "currency": order.currency,  # of the refunds' amounts too: money is never said without it
    }
    return Source("order", str(order.pk), score, f"Order {order.name}", facts)


def _inventory_source(item: InventoryItem, score: float) -> Source:
    facts = {"sku": item.sku, "title": item.title, "quantity_available": item.quantity_available,
             "lead_time_days": item.lead_time_days, "price": f"{item.price_cents / 100:.2f} {item.currency}"}
    return Source("inventory", str(item.pk), score, f"{item.title} ({item.sku})", facts)


def inventory_for_skus(skus: set[str]) -> list[Source]:
    """The stock facts of an order's own items (a backordered order's restock date)."""
    return [_inventory_source(item, 0.9) for item in InventoryItem.objects.sellable().filter(sku__in=skus)] if skus else []


def _summary_for(email: str) -> tuple[CustomerSummary | None, Customer | None]:
    """The customer_summary read model for a sender, and the live customer row (or None).

    The summary is looked up by the live customer's id, not by email: after an erasure or a
    flush, a stale read-model row may still carry the email under an old id. A customer the read
    model does not hold yet (a lead created by this very email, a refresh still pending) gets
    None here and is read from the live rows instead."""
    customer = customer_find(email=email)
    if customer is not None and customer.is_erased:
        customer = None
    if customer is not None:
        return customer_summary_get(customer_id=customer.pk), customer
    return customer_summary_get(email=email), None  # a guest: the selector builds it from orders


def _open_drafts(summary: CustomerSummary) -> list[dict[str, Any]]:
    return [asdict(d) if is_dataclass(d) else dict(d) for d in summary.open_drafts]


def _live_orders(email: str, customer: Customer | None) -> list[Order]:
    # Guest checkouts have no customer row: their orders still carry the checkout email.
    match = Q(email__iexact=email)
    if customer is not None:
        match |= Q(customer=customer)
    return list(Order.objects.filter(match, is_erased=False).order_by("-placed_at", "-id")[:5])


def _customer_and_orders(ctx: DraftContext, order_refs: Sequence[str] | None = None) -> None:
    email = ctx.email.from_address
    if not email:
        return
    summary, customer = _summary_for(email)
    if summary is not None and summary.customer_id is not None:
        ctx.customer = Source("customer", str(summary.customer_id), 1.0, summary.name or summary.email, {
            "name": summary.name, "first_name": (summary.name or "").split(" ")[0],
            "segment": summary.segment, "orders_count": summary.orders_count,
            "addresses": summary.shipping_addresses, "backordered_count": summary.backordered_count,
            # Replies already waiting for an agent: a second email about the same thing should not
            # be answered as if nothing were pending.
            "open_drafts": _open_drafts(summary),
        })
    elif customer is not None:
        ctx.customer = Source("customer", str(customer.pk), 1.0, customer.name or customer.email, {
            "name": customer.name, "first_name": (customer.name or "").split(" ")[0],
            "segment": customer.segment, "orders_count": customer.orders_count,
            "addresses": customer.shipping_addresses,
        })
    if summary is not None:
        # The summary says which orders are the latest; their rows add what it leaves out (line
        # items, refunds) and are read fresh, so a status changed since the last refresh is current.
        ids = [line.id for line in summary.latest_orders]
        rows = Order.objects.filter(pk__in=ids, is_erased=False).in_bulk()
        orders = [rows[i] for i in ids if i in rows]
    else:
        orders = _live_orders(email, customer)
    # Order names as the shop writes them ("#1002"), however the customer wrote them ("order no. 1002");
    # the first one named (the caller puts the main request's first) is the order the reply is about.
    refs = list(order_refs if order_refs is not None else order_refs_find(ctx.text))
    for order in orders:
        ctx.orders.append(_order_source(order, 1.0 if order.name in refs else 0.8))
    by_name = {source.facts["name"]: source for source in ctx.orders}
    ctx.referenced_order = next((by_name[name] for name in refs if name in by_name), None)
    if refs and ctx.referenced_order is None:
        # An older order the sender quotes (not among the latest five): only if it is theirs.
        named = Order.objects.filter(name__in=refs, is_erased=False).first()
        if named is not None and named.email.lower() == email:
            ctx.referenced_order = _order_source(named, 1.0)
            ctx.orders.insert(0, ctx.referenced_order)


def _inventory(ctx: DraftContext) -> None:
    words = _tokens(english_product_words(ctx.text))  # "Schlafsack" names the "Summit sleeping bag" too
    lowered = ctx.text.lower()
    scored = []
    for item in InventoryItem.objects.sellable().only("pk", "sku", "title", "quantity_available", "lead_time_days",
                                                 "price_cents", "currency"):
        if item.sku.lower() in lowered:
            scored.append((1.0, item))
            continue
        title_words = _tokens(re.sub(r"[()]", " ", item.title))
        if not title_words:
            continue
        score = title_match(title_words, words)
        if score >= 0.5:
            scored.append((score, item))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    kept: list[tuple[float, InventoryItem, set[str]]] = []
    for score, item in scored:
        words_of_item = _tokens(re.sub(r"[()]", " ", item.title))
        # A weaker match that is a variant of a kept one ("boots size 44" after "size 42") is noise.
        if any(len(words_of_item & other) / max(len(words_of_item), 1) >= 0.6 and score < best_score
               for best_score, _, other in kept):
            continue
        kept.append((score, item, words_of_item))
    ctx.inventory = [_inventory_source(item, score) for score, item, _ in kept[:3]]


def _corrections(ctx: DraftContext) -> None:
    lowered = ctx.text.lower()
    for correction in Correction.objects.filter(is_active=True).order_by("key"):
        pattern = correction.pattern.strip().lower()
        if pattern and re.search(rf"(?<![\w]){re.escape(pattern)}", lowered):
            ctx.corrections.append(Source("correction", str(correction.pk), 1.0, correction.key,
                                          {"answer": correction.answer, "sources": correction.sources}))


def _faq(ctx: DraftContext) -> None:
    # Published FAQ entries are few (tens): scoring them here needs no index and is never stale.
    # An entry whose question is the one asked (assistants/terms.py: "students" is "student") comes
    # first, however few words it shares with the whole email; then the closest others, two at most.
    matching, scored = [], []
    for entry in FaqEntry.objects.filter(status=FaqEntry.Status.PUBLISHED).order_by("position", "id"):
        score = vectorstore.lexical_similarity(ctx.text, f"{entry.question} {entry.question} {entry.answer}")
        source = Source("faq", str(entry.pk), score, entry.question,
                        {"question": entry.question, "answer": entry.answer, "intent": entry.source_intent})
        if entry.source_intent:
            ctx.faq_by_intent.setdefault(entry.source_intent, source)
        match = faq_match_score(ctx.text, entry.question, entry.answer)
        if match >= FAQ_MATCH_MIN_SCORE:
            matching.append((match, source))
        elif score >= settings.ASSISTANT_FAQ_MIN_SCORE:
            scored.append(source)
    ctx.faq = ([source for _, source in sorted(matching, key=lambda pair: pair[0], reverse=True)]
               + sorted(scored, key=lambda s: s.score, reverse=True)[:2])


def _site_and_replies(ctx: DraftContext) -> None:
    try:
        site_hits = vectorstore.index_query(vectorstore.SITE, ctx.text, n=3)
        reply_hits = vectorstore.index_query(vectorstore.REPLIES, ctx.text, n=4)
    except (vectorstore.VectorStoreError, ImproperlyConfigured) as exc:
        # Postgres facts (orders, stock, corrections, FAQ) still make a useful draft; the caller
        # lowers its confidence and records this error on the model run.
        ctx.retrieval_error = str(exc)
        ctx.retrieval_transient = getattr(exc, "transient", False)
        return
    for hit in site_hits:
        if hit.score >= settings.ASSISTANT_SITE_MIN_SCORE:
            ctx.site.append(Source("site", str(hit.metadata.get("snapshot_id", hit.id)), hit.score,
                                   hit.metadata.get("title") or hit.metadata.get("url", ""),
                                   {"text": hit.text[:600], "chunk_id": hit.id}, url=hit.metadata.get("url", "")))
    replies = [hit for hit in reply_hits if hit.score >= settings.ASSISTANT_REPLY_MIN_SCORE]
    # Replies agents edited teach more than ones approved as drafted: they come first.
    replies.sort(key=lambda h: (not h.metadata.get("edited", False), -h.score))
    # Examples were written to OTHER customers: scrubbed when indexed (indexing.py), and scrubbed again
    # here, for examples indexed before that and in case a customer's facts changed since.
    known = customers_known_facts() if replies else None
    ctx.replies = [Source("reply", str(h.metadata.get("approval_id", h.id)), h.score, "approved reply",
                          {"text": pii_scrub(str(h.metadata.get("reply", "")), known=known)[:800],
                           "question": pii_scrub(h.text, known=known)[:300],
                           "edited": bool(h.metadata.get("edited"))}) for h in replies[:2]]


def _style(ctx: DraftContext, agent_user_id: int | None) -> None:
    profile = None
    if agent_user_id:
        profile = StyleProfile.objects.filter(owner_user_id=agent_user_id).first()
    profile = profile or StyleProfile.objects.filter(is_brand_default=True).first()
    ctx.style = dict(profile.tone_config) if profile else {}
    if profile:
        ctx.style["profile_id"] = profile.pk


def context_build(*, email: EmailIn, agent_user_id: int | None = None,
                  order_refs: Sequence[str] | None = None) -> DraftContext:
    """`order_refs`: the orders the email names (assistants.request_refs); found in its whole text when not given."""
    ctx = DraftContext(email=email)
    _customer_and_orders(ctx, order_refs)
    _inventory(ctx)
    _corrections(ctx)
    _faq(ctx)
    _site_and_replies(ctx)
    _style(ctx, agent_user_id)
    return ctx
