"""The intents a draft can carry, and how the fine intent of a request maps onto them.

The classifier (assistants/classifier.py) tells sixteen kinds of request apart; the drafters
(assistants/providers/) compose replies for six (conversations.models.DRAFT_INTENTS, which a test
keeps equal to INTENTS). `intent_for_draft` is the one place that maps the first onto the second:
until the drafters learn the finer ones, a refund question is answered as a return, a deadline
as an order status, a price as availability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistants.requests import CustomerRequest

ORDER_STATUS = "order_status"
AVAILABILITY = "availability"
RETURNS = "returns_refunds"
ADDRESS_CHANGE = "address_change"
PRODUCT_REQUEST = "product_request"
GENERAL = "general"
INTENTS = (ORDER_STATUS, AVAILABILITY, RETURNS, ADDRESS_CHANGE, PRODUCT_REQUEST, GENERAL)  # = DRAFT_INTENTS

_FOR_DRAFT = {
    "order_status": ORDER_STATUS, "delivery_deadline": ORDER_STATUS, "delay_complaint": ORDER_STATUS,
    "availability": AVAILABILITY, "price": AVAILABILITY,
    "returns": RETURNS, "refund_status": RETURNS, "cancellation": RETURNS, "damaged_item": RETURNS,
    "address_change": ADDRESS_CHANGE, "product_request": PRODUCT_REQUEST,
    "shipping_policy": GENERAL, "store_collection": GENERAL, "wholesale": GENERAL, "privacy": GENERAL,
    "general": GENERAL,
}


def intent_for_draft(fine: str | None) -> str:
    """The drafter's intent for a request's fine intent; `general` when there is no request."""
    return _FOR_DRAFT.get(fine or "", GENERAL)


@dataclass(frozen=True)
class IntentResult:
    """The intent a draft is composed for (the primary request's), how sure the model is of it
    (the probability of every fine intent that maps onto it), and that probability per intent."""

    intent: str
    confidence: float
    scores: dict[str, float]


def intent_for_request(primary: CustomerRequest | None) -> IntentResult:
    """The draft's intent from the email's main request: its fine intent mapped, and as confidence
    the probability of every fine intent that maps onto the same one."""
    if primary is None:
        return IntentResult(GENERAL, 0.5, {GENERAL: 1.0})
    scores: dict[str, float] = {}
    for fine, probability in primary.ranked:
        scores[intent_for_draft(fine)] = scores.get(intent_for_draft(fine), 0.0) + probability
    intent = intent_for_draft(primary.intent)
    confidence = min(0.95, round(scores[intent], 3))
    if intent == PRODUCT_REQUEST and primary.refs.products:
        intent = AVAILABILITY  # "do you sell X?" about an X the shop sells asks whether it is in stock
    return IntentResult(intent, confidence, {name: round(p, 4) for name, p in scores.items()})
