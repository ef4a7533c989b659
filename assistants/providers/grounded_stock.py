"""Composers for requests about what the shop sells: stock and restock, price, a size or colour
(a variant), and products it does not sell.

A variant is read from the item titles of one product (its "family": "Trail hiking boots size 42"
and "… size 44"; "Ridgeline 2-person tent (green)"). A size or colour the family does not have is
said plainly ("we do not make the Trail hiking boots in size 48") and kept as a product request
for demand mining; a variant of a kind the titles never name (the colour of a stove) is not
guessed at.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from assistants.context import DraftContext, Source, inventory_for_skus
from assistants.providers.grounded_reply import Reply, is_plural
from assistants.request_refs import Variant, variants_find
from assistants.requests import CustomerRequest
from catalog.models import InventoryItem

# The colours assistants.request_refs reads, named in English: said in the reply's language.
COLOURS = (gettext_noop("navy"), gettext_noop("black"), gettext_noop("white"), gettext_noop("red"), gettext_noop("blue"),
           gettext_noop("green"), gettext_noop("grey"), gettext_noop("yellow"), gettext_noop("orange"),
           gettext_noop("purple"), gettext_noop("pink"), gettext_noop("brown"), gettext_noop("beige"),
           gettext_noop("olive"), gettext_noop("khaki"))
_LETTER_SIZE = re.compile(r"^(?:XXS|XS|S|M|L|XL|XXL|XXXL|[2-5]XL)$", re.IGNORECASE)


def base_title(title: str) -> str:
    """The product without its variant: "Trail hiking boots size 42" -> "Trail hiking boots"."""
    base = re.sub(r"\s*\((?:[^)]*)\)|\s+size\s+\S+", "", title, flags=re.IGNORECASE)
    return " ".join(base.split())


def title_variants(title: str) -> list[Variant]:
    found = list(variants_find(title))
    for inner in re.findall(r"\(([^)]*)\)", title):
        if _LETTER_SIZE.match(inner.strip()):
            found.append(Variant("size", inner.strip().upper(), inner))
    return found


def _same(a: Variant, b: Variant) -> bool:
    def norm(v: str) -> str:
        return re.sub(r"^(?:EU|UK|US)\s*", "", v.upper()).strip()
    return a.kind == b.kind and norm(a.value) == norm(b.value)


def _family(item: Source) -> list[Source]:
    base = base_title(item.facts["title"])
    skus = list(InventoryItem.objects.sellable().filter(title__istartswith=base).values_list("sku", flat=True)[:50])
    found = [s for s in inventory_for_skus(set(skus)) if base_title(s.facts["title"]).lower() == base.lower()]
    return sorted(found, key=lambda s: s.facts["title"]) or [item]


def _items(ctx: DraftContext, request: CustomerRequest | None) -> list[Source]:
    skus = [p.sku for p in request.refs.products] if request else []
    named = [s for s in ctx.inventory if s.facts["sku"] in skus]
    return named or list(ctx.inventory)


def _variant_words(variant: Variant) -> str:
    return _("size %(size)s") % {"size": variant.value} if variant.kind == "size" else _(variant.value)


def _resolve(item: Source, request: CustomerRequest | None, reply: Reply) -> Source | None:
    """The family member with the size or colour asked, or None after saying the shop does not make it."""
    asked = list(request.refs.variants) if request else []
    if not asked:
        return item
    family = _family(item)
    kinds = {v.kind for s in family for v in title_variants(s.facts["title"])}
    unknown = [v for v in asked if v.kind not in kinds]
    asked = [v for v in asked if v.kind in kinds]
    if unknown:
        # The titles never name this kind of variant (the colour of a jacket sold in sizes): not
        # guessed at, said plainly, and a person checks.
        base = base_title(item.facts["title"])
        wanted = " ".join(_variant_words(v) for v in unknown)
        reply.say(_("Our catalog does not list the %(item)s in %(variant)s; a colleague will check whether we can "
                    "get it and let you know.") % {"item": base, "variant": wanted}, *family,
                  key=("variant_unknown", base, wanted))
        reply.unknown_variants.append(f"{base} in {wanted}")
    if not asked:
        return item
    matching = [s for s in family if all(any(_same(a, v) for v in title_variants(s.facts["title"])) for a in asked)]
    if matching:
        return matching[0]
    base = base_title(item.facts["title"])
    wanted = " ".join(_variant_words(v) for v in asked)
    options = sorted({_variant_words(v) for s in family for v in title_variants(s.facts["title"])
                      if v.kind in {a.kind for a in asked}})
    reply.say(ngettext("We do not make the %(item)s in %(variant)s; it comes in %(options)s.",
                       "We do not make the %(item)s in %(variant)s; they come in %(options)s.",
                       2 if is_plural(base) else 1)
              % {"item": base, "variant": wanted, "options": ", ".join(options)}, *family, key=("not_made", base, wanted))
    # Demand is read by the shop's buyers in English, whatever language the customer wrote in.
    reply.product_requests.append(f"{base} in " + " ".join(f"size {v.value}" if v.kind == "size" else v.value
                                                          for v in asked))
    return None


def _stock_say(item: Source, reply: Reply) -> bool:
    """Stock (and price, unless said already) of one item; False when the stock or restock date is unknown."""
    f = item.facts
    n = 2 if is_plural(f["title"]) else 1
    values = {"item": f["title"], "count": f["quantity_available"], "price": f["price"], "days": f.get("lead_time_days")}
    sku = f["sku"]
    if f["quantity_available"] is None:  # Shopify has not stated it: unknown, not out of stock
        reply.say(_("I am checking the stock of the %(item)s with our team and will let you know shortly.") % values,
                  item, key=("stock", sku))
        reply.missing.append("stock")
        return False
    if f["quantity_available"] > 0:
        if reply.said(("price", sku)):
            text = ngettext("The %(item)s is in stock (%(count)s available).",
                            "The %(item)s are in stock (%(count)s available).", n) % values
        else:
            text = ngettext("The %(item)s is in stock (%(count)s available) at %(price)s.",
                            "The %(item)s are in stock (%(count)s available) at %(price)s.", n) % values
            reply.keys.add(("price", sku))
        reply.say(text, item, key=("stock", sku))
        return True
    if f.get("lead_time_days"):
        reply.say(ngettext("The %(item)s is out of stock right now; the usual lead time for a restock is %(days)s days.",
                           "The %(item)s are out of stock right now; the usual lead time for a restock is %(days)s "
                           "days.", n) % values, item, key=("stock", sku))
        return True
    reply.say(ngettext("The %(item)s is out of stock right now. I am checking the restock date with our team and will "
                       "let you know.",
                       "The %(item)s are out of stock right now. I am checking the restock date with our team and "
                       "will let you know.", n) % values, item, key=("stock", sku))
    reply.missing.append("lead_time")
    return False


def availability(ctx: DraftContext, request: CustomerRequest | None, reply: Reply) -> None:
    intent = request.intent if request else "availability"
    items = _items(ctx, request)
    if not items:
        reply.say(_("I am checking which item you mean and its availability with our team, and will get back to you."),
                  key=("follow_up", "stock"))
        reply.needs_person("stock", intent, missing="inventory")
        return
    complete, used, not_made = True, [], False
    unknown_before = len(reply.unknown_variants)
    for item in items:
        chosen = _resolve(item, request, reply)
        if chosen is None:
            not_made = True
            continue
        complete = _stock_say(chosen, reply) and complete
        used.append(chosen)
    if len(reply.unknown_variants) > unknown_before:
        reply.needs_person("variant", intent, *used, missing="variant")
    elif complete:
        reply.answered("variant not made" if not_made and not used else "stock", intent, *used)
    else:
        reply.needs_person("stock", intent, *used)


def price(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    items = _items(ctx, request)
    if not items:
        reply.say(_("I am checking which item you mean and its price with our team, and will get back to you."),
                  key=("follow_up", "price"))
        reply.needs_person("price", request.intent, missing="inventory")
        return
    used = []
    unknown_before = len(reply.unknown_variants)
    for item in items:
        chosen = _resolve(item, request, reply)
        if chosen is None:
            continue
        f = chosen.facts
        reply.say(ngettext("The %(item)s costs %(price)s.", "The %(item)s cost %(price)s.",
                           2 if is_plural(f["title"]) else 1) % {"item": f["title"], "price": f["price"]},
                  chosen, key=("price", f["sku"]))
        used.append(chosen)
    if len(reply.unknown_variants) > unknown_before:
        reply.needs_person("variant", request.intent, *used, missing="variant")
    else:
        reply.answered("price", request.intent, *used)


def product_request(ctx: DraftContext, request: CustomerRequest | None, reply: Reply) -> None:
    if request is not None and request.refs.products and ctx.inventory:
        # "do you sell X?" about an X the shop sells asks whether it is in stock
        availability(ctx, request, reply)
        return
    reply.say(_("We do not carry that at the moment. I have passed your request on to our buying team: requests like "
                "yours decide what we stock next."), key=("product_request",))
    reply.answered("product request", request.intent if request else "product_request")


def exchange_options(ctx: DraftContext, request: CustomerRequest | None, reply: Reply) -> None:
    """A return to swap an item for another size or colour ("can I swap them for a 45?"): whether the
    shop makes it (said plainly when it does not) and, when it does, its stock."""
    if request is None or not request.refs.variants or not request.refs.products:
        return
    for item in _items(ctx, request):
        chosen = _resolve(item, request, reply)
        if chosen is not None and chosen.facts["sku"] != item.facts["sku"]:
            _stock_say(chosen, reply)
