"""The offline drafter: per-intent templates filled only with facts from listed sources.

It never invents a fact. Every tracking number, quantity, lead time, date or price in a
draft is copied from a `Source` it lists; when a fact is missing the draft says what the
agent will check, and the confidence drops so the queue shows it as needing care.
"""

from __future__ import annotations

import re

from assistants import intents, vectorstore
from assistants.context import DraftContext, Source, inventory_for_skus
from assistants.providers import ProviderResult, estimate_tokens, prompt_fingerprint

MODEL_SLUG = "grounded-v1"

_STATUS_PHRASE = {
    "pending": "has been received and is waiting for payment confirmation",
    "paid": "is paid and being prepared for shipping",
    "backordered": "is waiting for an item that is on backorder",
    "partially_fulfilled": "has partly shipped",
    "fulfilled": "has shipped",
    "refunded": "was refunded",
    "cancelled": "was cancelled",
}
# A partial refund says nothing about shipping: that part is told by the fulfilment state.
_PARTLY_REFUNDED = {"fulfilled": "was partly refunded and has shipped", "partial": "was partly refunded and has "
                    "partly shipped", "": "was partly refunded and has not shipped yet"}


def _shipped(order: Source) -> str:
    """'fulfilled', 'partial' or '' (nothing shipped), from the order's fulfilment state, never
    from its financial one: Shopify's sample order is partly refunded and shipped nothing."""
    status, fulfillment = order.facts["status"], order.facts.get("fulfillment_status") or ""
    if status == "fulfilled" or fulfillment == "fulfilled":
        return "fulfilled"
    if status == "partially_fulfilled" or fulfillment == "partial":
        return "partial"
    return ""


class _Draft:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.used: list[Source] = []
        self.missing: list[str] = []

    def say(self, text: str, *sources: Source) -> None:
        self.lines.append(text)
        for source in sources:
            if source not in self.used:
                self.used.append(source)


def _tracking_lines(order: Source) -> list[str]:
    lines = []
    for t in order.facts.get("tracking") or []:
        if not t.get("number"):
            continue
        line = f"{t.get('company') or 'Carrier'} tracking number {t['number']}"
        lines.append(f"{line}: {t['url']}" if t.get("url") else line)
    return lines


def _order_for(ctx: DraftContext) -> Source | None:
    return ctx.referenced_order or (ctx.orders[0] if ctx.orders else None)


def _backordered_items(ctx: DraftContext, order: Source, draft: _Draft) -> None:
    skus = {li.get("sku") for li in order.facts.get("line_items", [])}
    for item in _inventory_by_sku(ctx, skus):
        if item.facts["quantity_available"] == 0 and item.facts.get("lead_time_days"):  # None: unknown
            draft.say(f"The {item.facts['title']} is expected back in stock in about "
                      f"{item.facts['lead_time_days']} days; your order ships as soon as it arrives.", item)


def _inventory_by_sku(ctx: DraftContext, skus: set) -> list[Source]:
    known = {s.facts["sku"]: s for s in ctx.inventory}
    for source in inventory_for_skus({sku for sku in skus if sku and sku not in known}):
        known[source.facts["sku"]] = source
    return [known[sku] for sku in sorted(skus) if sku in known]


def _order_status(ctx: DraftContext, draft: _Draft) -> None:
    order = _order_for(ctx)
    if order is None:
        draft.missing.append("order")
        draft.say("I could not find an order under this email address. Could you send me the order number "
                  "(it starts with #) or the email address you used at checkout? I will check it right away.")
        return
    name, status = order.facts["name"], order.facts["status"]
    phrase = _PARTLY_REFUNDED[_shipped(order)] if status == "partially_refunded" else _STATUS_PHRASE.get(status)
    draft.say(f"Your order {name} {phrase or 'is being processed'}.", order)
    tracking = _tracking_lines(order)
    if tracking:
        draft.say("You can follow it here:\n" + "\n".join(f"- {line}" for line in tracking), order)
    elif _shipped(order):
        draft.missing.append("tracking")
        draft.say("I am checking the tracking details with our warehouse and will send them to you shortly.")
    if status == "backordered":
        _backordered_items(ctx, order, draft)


def _availability(ctx: DraftContext, draft: _Draft) -> None:
    if not ctx.inventory:
        draft.missing.append("inventory")
        draft.say("I am checking which item you mean and its availability with our team, and will get back to you.")
        return
    for item in ctx.inventory:
        f = item.facts
        if f["quantity_available"] is None:  # Shopify has not stated it: unknown, not out of stock
            draft.missing.append("stock")
            draft.say(f"I am checking the stock of the {f['title']} with our team and will let you know shortly.",
                      item)
        elif f["quantity_available"] > 0:
            draft.say(f"The {f['title']} is in stock ({f['quantity_available']} available) at {f['price']}.", item)
        elif f.get("lead_time_days"):
            draft.say(f"The {f['title']} is out of stock right now; the usual lead time for a restock is "
                      f"{f['lead_time_days']} days.", item)
        else:
            draft.missing.append("lead_time")
            draft.say(f"The {f['title']} is out of stock right now. I am checking the restock date with our "
                      "team and will let you know.", item)


def _returns(ctx: DraftContext, draft: _Draft) -> None:
    order = _order_for(ctx)
    if order is not None and order.facts.get("refunds"):
        for refund in order.facts["refunds"]:
            draft.say(f"A refund of {refund['amount']} for order {order.facts['name']} was issued"
                      + (f" on {refund['date']}." if refund["date"] else "."), order)
    policy = next((s for s in ctx.corrections + ctx.faq
                   if re.search(r"return|refund", s.facts.get("answer", ""), re.I)), None)
    policy = policy or ctx.faq_by_intent.get(intents.RETURNS)
    if policy is not None:
        draft.say(policy.facts["answer"], policy)
    elif not draft.used:
        draft.missing.append("return_policy")
        draft.say("I am checking the options for your order with our team and will come back to you shortly.")
    if order is not None and not order.facts.get("refunds"):
        draft.say(f"I can see your order {order.facts['name']}; tell me which item you would like to return "
                  "and I will start it for you.", order)


def _address_change(ctx: DraftContext, draft: _Draft) -> None:
    order = _order_for(ctx)
    if order is None:
        draft.missing.append("order")
        draft.say("Could you send me the order number and the full new address? I will update it if the "
                  "order has not shipped yet.")
        return
    status, shipped = order.facts["status"], _shipped(order)
    if status == "cancelled" or (status == "refunded" and not shipped):
        draft.say(f"Your order {order.facts['name']} {_STATUS_PHRASE[status]}, so there is no delivery to redirect.",
                  order)
    elif not shipped:
        draft.say(f"Your order {order.facts['name']} has not shipped yet, so we can still change the address. "
                  "Please reply with the full new address and I will update it.", order)
    elif shipped == "partial":
        tracking = _tracking_lines(order)
        draft.say(f"Part of your order {order.facts['name']} has already shipped"
                  + (f" ({tracking[0]})" if tracking else "")
                  + "; the items still to ship can go to your new address. I will update it and confirm.", order)
    else:
        tracking = _tracking_lines(order)
        draft.say(f"Your order {order.facts['name']} has already shipped, so I cannot change its address here; "
                  "the carrier can usually redirect it." + (f" {tracking[0]}." if tracking else ""), order)


def _product_request(ctx: DraftContext, draft: _Draft) -> None:
    draft.say("We do not carry that at the moment. I have passed your request on to our buying team: "
              "requests like yours decide what we stock next.")


def site_passage(question: str, page_text: str, *, sentences: int = 3) -> str:
    """Sentences of a site chunk, quoted rather than paraphrased so every fact stays the page's:
    its first sentence (what the page is about) and those closest to the question, in page order.
    Headings (lines of fewer than four words) are left out."""
    found = [sentence for line in page_text.splitlines() if len(line.split()) >= 4
             for sentence in re.split(r"(?<=[.!?])\s+", line.strip()) if sentence]
    if not found:
        return " ".join(page_text.split())
    rest = sorted(range(1, len(found)), key=lambda i: vectorstore.lexical_similarity(question, found[i]), reverse=True)
    return " ".join(found[i] for i in sorted([0, *rest[:sentences - 1]]))


def _general(ctx: DraftContext, draft: _Draft) -> None:
    best = ctx.corrections[:1] or ctx.faq[:1]
    if best:
        draft.say(best[0].facts["answer"], best[0])
    elif ctx.site:
        page = ctx.site[0]
        title = page.label.split(" | ")[0].strip() or "our website"
        draft.say(f"From our page \"{title}\": {site_passage(ctx.text, page.facts['text'])}\n"
                  f"More details: {page.url}", page)
    else:
        draft.missing.append("answer")
        draft.say("Thank you for your message. I am checking this with our team and will get back to you shortly.")


_COMPOSERS = {
    intents.ORDER_STATUS: _order_status, intents.AVAILABILITY: _availability, intents.RETURNS: _returns,
    intents.ADDRESS_CHANGE: _address_change, intents.PRODUCT_REQUEST: _product_request, intents.GENERAL: _general,
}


def _extra_corrections(ctx: DraftContext, draft: _Draft) -> None:
    # A correction is an Ops fact that overrides anything older: always say it once.
    for correction in ctx.corrections:
        if correction not in draft.used:
            draft.say(correction.facts["answer"], correction)


def style_apply(body_lines: list[str], style: dict, first_name: str) -> tuple[str, list[str]]:
    greeting = (style.get("greeting") or "Hi {first_name},").replace("{first_name}", first_name or "there")
    sign_off = style.get("sign_off") or "Best regards,\nThe support team"
    body = "\n\n".join([greeting, *body_lines, sign_off])
    removed = []
    for phrase in style.get("banned_phrases") or []:
        if phrase and re.search(re.escape(phrase), body, re.I):
            removed.append(phrase)
            body = re.sub(rf"\s*{re.escape(phrase)},?", "", body, flags=re.I)
    return body, removed


def draft_grounded(ctx: DraftContext, intent: intents.IntentResult) -> ProviderResult:
    draft = _Draft()
    _COMPOSERS[intent.intent](ctx, draft)
    _extra_corrections(ctx, draft)
    first_name = ctx.customer.facts.get("first_name", "") if ctx.customer else ""
    body, removed = style_apply(draft.lines, ctx.style, first_name)
    confidence = intent.confidence
    if draft.missing:
        confidence = min(confidence, 0.35)
    elif draft.used:
        confidence = min(0.95, confidence + 0.05 * min(len(draft.used), 3))
    if ctx.email.truncated or not ctx.email.body.strip():
        confidence = min(confidence, 0.3)
    return ProviderResult(
        body=body, confidence=round(confidence, 3), used=draft.used, model_slug=MODEL_SLUG,
        prompt_hash=prompt_fingerprint(ctx, intent.intent, MODEL_SLUG),
        tokens_in=estimate_tokens(ctx.email.body + "".join(str(s.as_json()) for s in ctx.all_sources())),
        tokens_out=estimate_tokens(body), notes={"missing": draft.missing, "banned_removed": removed},
    )
