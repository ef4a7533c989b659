"""Which order a request is about: the one it names, if the sender owns it; else the one the email
names; else the sender's latest. An order named that is not the sender's is neither confirmed nor
denied (the sentence is the same whether it exists or belongs to someone else), and a near miss
among the sender's own orders is offered ("did you mean #1001?").

Shared by the order composers (grounded_orders) and the knowledge ones (grounded_knowledge: a
return or a damaged item of a named order), so neither imports the other.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from assistants.context import DraftContext, Source
from assistants.providers.grounded_reply import Reply, words_of
from assistants.requests import CustomerRequest


def near_miss(name: str, own: list[str]) -> str | None:
    """The one order of the sender's own that `name` is a typo of: one digit changed, added,
    dropped, or two neighbours swapped. None when there is none, or more than one."""
    digits = name.lstrip("#")

    def close(other: str) -> bool:
        a, b = digits, other.lstrip("#")
        if len(a) == len(b):
            diff = [i for i in range(len(a)) if a[i] != b[i]]
            return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                      and a[diff[1]] == b[diff[0]])
        short, long_ = sorted((a, b), key=len)
        return len(long_) - len(short) == 1 and any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))

    found = [other for other in own if other != name and close(other)]
    return found[0] if len(found) == 1 else None


def _bare_own_orders(request: CustomerRequest, by_name: dict[str, Source]) -> list[str]:
    """Numbers the customer wrote with no word for "order" before them ("ordr 1010", "mi ordine 1001")
    that are one of the sender's own orders: reading them so discloses nothing."""
    numbers = re.findall(r"(?<![\w#.,-])(\d{3,10})(?![\w.,-]\d)", f"{request.context} {request.text}")
    return [f"#{n}" for n in dict.fromkeys(numbers) if f"#{n}" in by_name]


def _order_of_items_named(ctx: DraftContext, request: CustomerRequest | None) -> Source | None:
    """The sender's latest order with an item the request names ("my tent never showed up" is about the
    tent's order, not about a stove ordered since)."""
    if request is None:
        return None
    asked = words_of(f"{request.context} {request.text}")
    return next((o for o in ctx.orders
                 if any(words_of(li.get("title", "")) & asked for li in o.facts.get("line_items", []))), None)


def order_for(ctx: DraftContext, request: CustomerRequest | None, reply: Reply, *, intent: str) -> Source | None:
    """The order a request is about, or None after saying why (asking for the number, or offering
    the near miss). The request's coverage is the caller's to record."""
    by_name = {o.facts["name"]: o for o in ctx.orders}
    named = (list(request.refs.orders) or _bare_own_orders(request, by_name)) if request else []
    for name in named:
        if name in by_name:
            return by_name[name]
    if not named and ctx.referenced_order is not None:
        return ctx.referenced_order
    if not named:  # "My stove (1009) never arrived. [...] I need it by Saturday": the number the email gave
        elsewhere = [n for other in ctx.requests for n in _bare_own_orders(other, by_name)]
        if elsewhere:
            return by_name[elsewhere[0]]
    named = named or [n for r in ctx.requests for n in r.refs.orders]
    if named:
        name = named[0]
        guess = near_miss(name, list(by_name))
        if guess:  # the guess is the sender's own order: naming it discloses nothing
            reply.say(_("I could not find an order %(name)s under the email address you wrote from. "
                        "Did you mean your order %(guess)s?") % {"name": name, "guess": guess}, by_name[guess],
                      key=("unknown", name))
        else:
            reply.say(_("I could not find an order %(name)s under the email address you wrote from. Could you "
                        "write to us from the address you used at checkout, or send the name on the order? I "
                        "will check it right away.") % {"name": name}, key=("unknown", name))
        return None
    if ctx.orders:
        return _order_of_items_named(ctx, request) or ctx.orders[0]
    if not reply.said(("no_order",)):
        reply.say(_("I could not find an order under this email address. Could you send me the order number "
                    "(it starts with #) or the email address you used at checkout? I will check it right away."),
                  key=("no_order",))
    return None
