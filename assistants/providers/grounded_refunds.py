"""The refunds of an order, and of the item a request names: said with their amount and date.

Shared by the refund composer (grounded_orders) and the return and damaged-item ones
(grounded_knowledge), so neither imports the other.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from assistants.context import Source
from assistants.providers.grounded_reply import Reply, words_of
from assistants.requests import CustomerRequest


def _items_named(order: Source, request: CustomerRequest) -> list[dict]:
    asked = words_of(f"{request.context} {request.text}")
    return [li for li in order.facts.get("line_items", []) if words_of(li.get("title", "")) & asked]


def _refund_is_for(refund: dict, item: dict, items: list[dict]) -> bool:
    """A refund is for an item when its note names the item, or the order has only that item, or
    its amount is that item's price times a quantity no other item of the order could make."""
    note_words = words_of(refund.get("note") or "")
    if note_words:
        named = [li for li in items if words_of(li.get("title", "")) & note_words]
        if named:
            return item in named
    if len(items) == 1:
        return True

    def fits(li: dict) -> bool:
        price = float(li.get("price") or 0)
        return price > 0 and any(abs(price * k - float(refund["amount"])) < 0.005
                                 for k in range(1, int(li.get("quantity") or 1) + 1))
    return fits(item) and not any(fits(li) for li in items if li is not item)


def _refund_line(refund: dict, order: Source, item: dict | None) -> str:
    values = {"amount": f"{refund['amount']} {order.facts.get('currency', '')}".strip(), "name": order.facts["name"],
              "date": refund.get("date") or "", "item": item.get("title", "") if item else ""}
    if item and values["date"]:
        return _("A refund of %(amount)s for the %(item)s from order %(name)s was issued on %(date)s.") % values
    if item:
        return _("A refund of %(amount)s for the %(item)s from order %(name)s was issued.") % values
    if values["date"]:
        return _("A refund of %(amount)s for order %(name)s was issued on %(date)s.") % values
    return _("A refund of %(amount)s for order %(name)s was issued.") % values


def refunds_of_items(order: Source, request: CustomerRequest) -> tuple[list[tuple[dict, dict]], list[dict]]:
    """The refunds of the items the request names, as (refund, item), and the named items with none."""
    items, refunds = order.facts.get("line_items", []), order.facts.get("refunds") or []
    pairs, without = [], []
    for item in _items_named(order, request):
        matched = [(r, item) for r in refunds if _refund_is_for(r, item, items)]
        pairs += matched
        if not matched:
            without.append(item)
    return pairs, without


def refund_lines_say(order: Source, pairs: list[tuple[dict, dict]], reply: Reply) -> None:
    for refund, item in pairs:
        reply.say(_refund_line(refund, order, item), order, key=("refund", refund.get("date"), refund["amount"]))


def refunds_say(order: Source, request: CustomerRequest, reply: Reply) -> bool | None:
    """The refunds of the item(s) the request names (all of the order's when it names none).
    True: said; False: an item named has no refund (a person checks); None: the order has none."""
    items, refunds = order.facts.get("line_items", []), order.facts.get("refunds") or []
    named = _items_named(order, request)
    if not named:
        for refund in refunds:
            only = items[0] if len(items) == 1 else None
            reply.say(_refund_line(refund, order, only), order, key=("refund", refund.get("date"), refund["amount"]))
        return True if refunds else None
    complete = True
    for item in named:
        matched = [r for r in refunds if _refund_is_for(r, item, items)]
        for refund in matched:
            reply.say(_refund_line(refund, order, item), order, key=("refund", refund.get("date"), refund["amount"]))
        if not matched:
            complete = False
            reply.say(_("I cannot see a refund for the %(item)s from order %(name)s yet. I have asked our team to check "
                        "your return and will get back to you as soon as I know more.")
                      % {"item": item.get("title", ""), "name": order.facts["name"]}, key=("no_refund", item.get("sku")))
    return complete
