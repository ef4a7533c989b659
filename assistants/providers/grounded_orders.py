"""Composers for requests about an order: status and tracking, a delivery deadline, a delay,
a cancellation, an address change, a refund.

Which order a request is about is grounded_order_lookup's to find; its refunds, grounded_refunds'.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from assistants import classifier
from assistants.context import DraftContext, Source, inventory_for_skus
from assistants.email_text import email_clean
from assistants.providers import grounded_knowledge as knowledge
from assistants.providers.grounded_order_lookup import order_for
from assistants.providers.grounded_refunds import refunds_say
from assistants.providers.grounded_reply import Reply
from assistants.requests import CustomerRequest


def _status_phrase(status: str) -> str:
    return {
        "pending": _("has been received and is waiting for payment confirmation"),
        "paid": _("is paid and being prepared for shipping"),
        "backordered": _("is waiting for an item that is on backorder"),
        "partially_fulfilled": _("has partly shipped"),
        "fulfilled": _("has shipped"),
        "refunded": _("was refunded"),
        "cancelled": _("was cancelled"),
    }.get(status, _("is being processed"))


def _partly_refunded_phrase(shipped: str) -> str:
    # A partial refund says nothing about shipping: that part is told by the fulfilment state.
    return {"fulfilled": _("was partly refunded and has shipped"),
            "partial": _("was partly refunded and has partly shipped"),
            "": _("was partly refunded and has not shipped yet")}[shipped]


def shipped(order: Source) -> str:
    """'fulfilled', 'partial' or '' (nothing shipped), from the order's fulfilment state, never
    from its financial one: Shopify's sample order is partly refunded and shipped nothing."""
    status, fulfillment = order.facts["status"], order.facts.get("fulfillment_status") or ""
    if status == "fulfilled" or fulfillment == "fulfilled":
        return "fulfilled"
    if status == "partially_fulfilled" or fulfillment == "partial":
        return "partial"
    return ""


def tracking_lines(order: Source) -> list[str]:
    lines = []
    for t in order.facts.get("tracking") or []:
        if not t.get("number"):
            continue
        line = _("%(carrier)s tracking number %(number)s") % {"carrier": t.get("company") or _("Carrier"),
                                                               "number": t["number"]}
        lines.append(f"{line}: {t['url']}" if t.get("url") else line)
    return lines


def status_say(ctx: DraftContext, order: Source, reply: Reply) -> bool:
    """The order's status and tracking, once per order. False when a shipped order's tracking is
    missing (a person must find it)."""
    name, status = order.facts["name"], order.facts["status"]
    phrase = _partly_refunded_phrase(shipped(order)) if status == "partially_refunded" else _status_phrase(status)
    reply.say(_("Your order %(name)s %(phrase)s.") % {"name": name, "phrase": phrase}, order, key=("status", name))
    tracking = tracking_lines(order)
    complete = True
    if tracking:
        reply.say(_("You can follow it here:") + "\n" + "\n".join(f"- {line}" for line in tracking), order,
                  key=("tracking", name))
    elif shipped(order):
        complete = False
        reply.say(_("I am checking the tracking details with our warehouse and will send them to you shortly."),
                  key=("tracking", name))
    if status in ("backordered", "partially_fulfilled"):
        # Of a partly shipped order, the part still waiting is the item out of stock: say when it is due.
        _backordered_items(ctx, order, reply)
    return complete


def _backordered_items(ctx: DraftContext, order: Source, reply: Reply) -> None:
    skus = {li.get("sku") for li in order.facts.get("line_items", []) if li.get("sku")}
    known = {s.facts["sku"]: s for s in ctx.inventory}
    for source in inventory_for_skus({sku for sku in skus if sku not in known}):
        known[source.facts["sku"]] = source
    for sku in sorted(skus):
        item = known.get(sku)
        if item and item.facts["quantity_available"] == 0 and item.facts.get("lead_time_days"):  # None: unknown
            reply.say(_("The %(item)s is expected back in stock in about %(days)s days; your order ships as soon as "
                        "it arrives.") % {"item": item.facts["title"], "days": item.facts["lead_time_days"]}, item,
                      key=("restock", sku))


# A shipped parcel the customer says never came: "never showed up", "says delivered but nothing here".
# Its tracking number is no answer (they have seen it); a person checks with the carrier. Only
# strong words: "it hasn't arrived yet" of a parcel sent yesterday is answered by its tracking.
_NOT_RECEIVED = re.compile(
    r"\bnever\s+(?:\w+\s+){0,2}(?:arrived|came|come|turned up|showed up|got here|got it|received|delivered)"
    r"|\b(?:says|said|shows|showed|showing|marked|listed)\s+(?:as\s+|it\s+was\s+|it'?s\s+)?delivered"
    r"|\bdelivered\b[^.?!]{0,40}\b(?:but|yet)\b|\bnothing\s+(?:\w+\s+){0,2}(?:here|arrived|came|turned up)"
    r"|\b(?:got|been|was|is|went|gone|has)\s+(?:\w+\s+)?(?:lost|missing|stolen)\b"
    r"|\b(?:se ha|ha|est|s'est|è|ist|sind|wurde|is)\s+(?:\w+\s+)?"
    r"(?:perdid|perdu|smarrit|verloren|kwijt|gestohlen|robad|vol[ée])"
    r"|\bnie\s+(?:\w+\s+){0,2}angekommen|\bnichts\s+(?:\w+\s+){0,2}angekommen|\bzugestellt\b[^.?!]{0,60}\baber\b"
    r"|\bnunca\s+(?:\w+\s+){0,2}(?:lleg|recib)|\bentregad[oa]\b[^.?!]{0,40}\bpero\b|\bno\s+(?:me\s+)?ha\s+llegado\s+nada"
    r"|\bjamais\s+(?:\w+\s+){0,2}(?:arriv|re[çc]u)|\brien\s+re[çc]u|\blivr[ée]e?s?\b[^.?!]{0,40}\bmais\b"
    r"|\bmai\s+(?:\w+\s+){0,2}(?:arrivat|ricevut)|\bconsegnat[oa]\b[^.?!]{0,40}\bma\b"
    r"|\bnooit\s+(?:\w+\s+){0,2}(?:aangekomen|ontvangen|bezorgd)|\bbezorgd\b[^.?!]{0,40}\bmaar\b",
    re.IGNORECASE)


def not_received(ctx: DraftContext) -> bool:
    """The email says a parcel never came: anywhere in it, as "the tracking says delivered" may be one
    request and "but nothing came, can you check?" the next."""
    return bool(_NOT_RECEIVED.search(f"{ctx.email.subject}\n{email_clean(ctx.email.body or '')}"))


def _parcel_missing(order: Source, reply: Reply, intent: str) -> None:
    """A shipped order the customer has not got: a person looks into it with the carrier. Its
    tracking is given for reference, not as the answer ("you can follow it here" to someone who did)."""
    if reply.apology != "damage":
        reply.apology = "missing"
    name = order.facts["name"]
    reply.say(_("Your order %(name)s has shipped, and I have asked our team to look into it with the carrier. I will "
                "get back to you as soon as I know more.") % {"name": name}, order, key=("missing_parcel", name))
    tracking = tracking_lines(order)
    if tracking:
        reply.say(_("Its tracking, for reference:") + "\n" + "\n".join(f"- {line}" for line in tracking), order,
                  key=("tracking", name))
    reply.needs_person("missing parcel", intent, order, missing="carrier_check")


_SURE_ORDER = 0.5  # an order-status reading under this, with no order to look up, may be another question


def order_status(ctx: DraftContext, request: CustomerRequest | None, reply: Reply) -> None:
    intent = request.intent if request else "order_status"
    if request is not None and _about(request, "delay_complaint"):
        reply.apology = reply.apology or "delay"  # "still nothing!!" is a complaint as much as a question
    if _shop_page_instead(ctx, request, reply):
        return
    order = order_for(ctx, request, reply, intent=intent)
    if order is None:
        if _shipping_times_instead(ctx, request, reply, intent):
            return
        reply.needs_person(_topic(intent), intent, missing="order")
        return
    if shipped(order) == "fulfilled" and not_received(ctx):
        _parcel_missing(order, reply, intent)
        return
    if status_say(ctx, order, reply):
        reply.answered(_topic(intent), intent, order)
    else:
        reply.needs_person("tracking", intent, order, missing="tracking")


def _topic(intent: str) -> str:
    return {"order_status": "order status", "delivery_deadline": "delivery deadline",
            "delay_complaint": "delayed order"}.get(intent, intent.replace("_", " "))


def _shop_page_instead(ctx: DraftContext, request: CustomerRequest | None, reply: Reply) -> bool:
    """A sender with no order, naming none, whose question the model barely reads as an order's
    ("will he see what I paid?" of a gift not bought yet): a shop page that answers it is the answer,
    not "I could not find an order"."""
    if request is None or request.refs.orders or ctx.orders or request.probability >= _SURE_ORDER:
        return False
    return knowledge.page_answer(ctx, request, reply)


def _shipping_times_instead(ctx: DraftContext, request: CustomerRequest | None, reply: Reply, intent: str) -> bool:
    """A sender with no order, naming none, asking how long delivery takes, asks the shop's
    shipping times: answer those rather than "I could not find an order"."""
    if request is None or request.refs.orders or ctx.orders:
        return False
    if request.intent != "delivery_deadline" and dict(request.ranked).get("shipping_policy", 0.0) < 0.2:
        return False  # "where is my order?" asks about an order, not about the shop's shipping times
    source = knowledge.shipping_source(ctx, request)
    if source is None:
        return False
    if reply.lines and reply.lines[-1].startswith(_("I could not find an order under this email address.")):
        reply.lines.pop()
        reply.keys.discard(("no_order",))
    knowledge.quote(source, reply, request)
    reply.answered("shipping times", intent, source)
    return True


def delivery_deadline(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    order = order_for(ctx, request, reply, intent=request.intent)
    if order is None:
        if not _shipping_times_instead(ctx, request, reply, request.intent):
            reply.needs_person("delivery deadline", request.intent, missing="order")
        return
    if shipped(order) == "fulfilled" and not_received(ctx):
        _parcel_missing(order, reply, request.intent)  # "it never came, and I need it by Saturday"
        return
    complete = status_say(ctx, order, reply)
    times = knowledge.shipping_source(ctx, request)
    if order.facts["status"] in ("cancelled", "refunded"):
        reply.answered("delivery deadline", request.intent, order)
        return
    if shipped(order) != "fulfilled" and times is not None:
        knowledge.quote(times, reply, request)
    if complete and (shipped(order) == "fulfilled" or times is not None):
        reply.answered("delivery deadline", request.intent, order, *([times] if times else []))
    else:
        reply.needs_person("delivery deadline", request.intent, order, missing="shipping_times")


def delay_complaint(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    reply.apology = reply.apology or "delay"
    order_status(ctx, request, reply)


def cancellation(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    order = order_for(ctx, request, reply, intent=request.intent)
    if order is None:
        reply.needs_person("cancellation", request.intent, missing="order")
        return
    name, status, sent = order.facts["name"], order.facts["status"], shipped(order)
    if status in ("cancelled", "refunded") and not sent:
        reply.say(_("Your order %(name)s %(phrase)s, so there is nothing left to cancel.")
                  % {"name": name, "phrase": _status_phrase(status)}, order, key=("status", name))
    elif not sent:
        reply.say(_("Your order %(name)s has not shipped yet, so it can still be cancelled. I have asked our team to "
                    "cancel it; you will get a confirmation by email, and any payment goes back to the way you paid.")
                  % {"name": name}, order, key=("status", name))
    elif sent == "partial":
        reply.say(_("Part of your order %(name)s has already shipped; the items that have not shipped yet can "
                    "still be cancelled. A colleague will confirm which ones and get back to you.") % {"name": name},
                  order, key=("status", name))
        reply.needs_person("cancellation of the shipped part", request.intent, order)
        return
    else:
        reply.say(_("Your order %(name)s has already shipped, so it can no longer be cancelled.") % {"name": name},
                  order, key=("status", name))
        tracking = tracking_lines(order)
        if tracking:
            reply.say(_("You can follow it here:") + "\n" + "\n".join(f"- {line}" for line in tracking), order,
                      key=("tracking", name))
        policy = knowledge.return_policy(ctx)
        if policy is not None:
            reply.say(_("Once it arrives you can send it back:"), key=("return_intro",))
            knowledge.quote(policy, reply, request)
    reply.answered("cancellation", request.intent, order)


_STREET = (r"(?:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|damm|street|st\.?|road|rd\.?|avenue|ave\.?|lane|row|"
           r"drive|crescent|terrace|calle|c/|avenida|avda\.?|paseo|plaza|carrer|rue|boulevard|bd|"
           r"chemin|impasse|allée|via|viale|piazza|corso|straat|laan|gracht|plein)")
# A postal address: a street with its number (either order, or a compound: "Lindenstraße 12"), or a
# postcode with its town ("80331 München", "Glasgow G1 3DX", "1012 AB Amsterdam"), the town ending its
# line or clause ("Bestellung 1002 Adresse ändern" names an order, not a town).
_ADDRESS = re.compile(
    rf"(?i:\b\d{{1,4}}[a-z]?,?\s+(?:[\w'-]+\s+){{0,3}}{_STREET}(?!\w))"
    r"|(?i:[\wäöüß-]*(?:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|damm|straat|laan|gracht|plein)\s*\d{1,4}[a-z]?\b)"
    rf"|(?i:\b{_STREET})\s+[A-ZÁÉÍÓÚ][\w'-]*(?:\s+[\w'-]+){{0,2}}\s+\d{{1,4}}\b"
    r"|\b\d{4,5}\s+[A-ZÄÖÜÉ][\wäöüßéèáíóú-]+(?=\s*(?:$|[,.;)\n]))|\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b|\b\d{4}\s?[A-Z]{2}\s+[A-Z][a-z]+")


def new_address_given(ctx: DraftContext, request: CustomerRequest | None) -> bool:
    """The customer wrote the new address in the email, with or after the request (the signature and
    the quoted history cut: an address there is the old one, or ours)."""
    text = email_clean(ctx.email.body or "")
    start = text.find(request.text) if request is not None else -1
    around = f"{request.context} {text[start:]}" if request is not None and start >= 0 else text
    return bool(_ADDRESS.search(around))


def address_change(ctx: DraftContext, request: CustomerRequest | None, reply: Reply) -> None:
    intent = request.intent if request else "address_change"
    given = new_address_given(ctx, request)
    order = order_for(ctx, request, reply, intent=intent) if (ctx.orders or (request and request.refs.orders)) else None
    if order is None:
        if not ctx.orders and given:
            reply.say(_("Could you send me the order number? I will update the address if the order has not shipped "
                        "yet."), key=("ask_address",))
        elif not ctx.orders:
            reply.say(_("Could you send me the order number and the full new address? I will update it if the order "
                        "has not shipped yet."), key=("ask_address",))
        reply.needs_person("address change", intent, missing="order")
        return
    status, sent, name = order.facts["status"], shipped(order), order.facts["name"]
    if status == "cancelled" or (status == "refunded" and not sent):
        reply.say(_("Your order %(name)s %(phrase)s, so there is no delivery to redirect.")
                  % {"name": name, "phrase": _status_phrase(status)}, order, key=("status", name))
    elif not sent and given:
        # The address is in the email: asking for it again would be the one wrong reply.
        reply.say(_("Thank you for the new address. Your order %(name)s has not shipped yet, so I have asked our team "
                    "to change its delivery address; you will get a confirmation by email.") % {"name": name}, order,
                  key=("status", name))
    elif not sent:
        reply.say(_("Your order %(name)s has not shipped yet, so we can still change the address. Please reply with "
                    "the full new address and I will update it.") % {"name": name}, order, key=("status", name))
    elif sent == "partial":
        tracking = tracking_lines(order)
        reply.say(_("Part of your order %(name)s has already shipped%(tracking)s; the items still to ship can go to "
                    "your new address. I will update it and confirm.")
                  % {"name": name, "tracking": f" ({tracking[0]})" if tracking else ""}, order, key=("status", name))
    else:
        tracking = tracking_lines(order)
        reply.say(_("Your order %(name)s has already shipped, so I cannot change its address here; the carrier can "
                    "usually redirect it.") % {"name": name} + (f" {tracking[0]}." if tracking else ""), order,
                  key=("status", name))
    reply.answered("address change", intent, order)


def _about(request: CustomerRequest, intent: str) -> bool:
    """The request, or what the customer said around it, is also of `intent` ("it arrived damaged.
    Can I get a refund?"; "This is ridiculous, still nothing. Where is it?")."""
    if dict(request.ranked).get(intent, 0.0) >= 0.3:
        return True
    return bool(request.context) and classifier.request_classify(request.context)[0] == intent


def refund_status(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    order = order_for(ctx, request, reply, intent=request.intent)
    policy = knowledge.return_policy(ctx)
    if order is None:
        if policy is not None:  # "I want my money back": how refunds work, while a person finds the order
            knowledge.quote(policy, reply, request)
        reply.needs_person("refund status", request.intent, *([policy] if policy else []), missing="order")
        return
    if not order.facts.get("refunds") and _about(request, "damaged_item"):
        # "It arrived damaged. Can I get a refund?" asks for a refund of a damaged item, not after one.
        knowledge.damaged_item(ctx, request, reply)
        return
    said = refunds_say(order, request, reply)
    if said:
        reply.answered("refund status", request.intent, order)
    elif said is None and order.facts["status"] == "refunded":
        status_say(ctx, order, reply)
        reply.answered("refund status", request.intent, order)
    else:
        if said is None:
            reply.say(_("I cannot see a refund on order %(name)s yet. I have asked our team to check it and will get "
                        "back to you as soon as I know more.") % {"name": order.facts["name"]},
                      key=("no_refund", order.facts["name"]))
        if policy is not None:
            knowledge.quote(policy, reply, request)
        reply.needs_person("refund status", request.intent, order, missing="refund")
