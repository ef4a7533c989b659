"""Intent of an inbound email, from weighted phrases: deterministic, explainable, offline.

Each intent lists phrases with weights; the score is the sum of the weights found. The
confidence grows with the winning score and with its margin over the runner-up, so a message
that mixes two intents ("refund or change the address?") gets a lower confidence than a
clear one. `general` wins when nothing scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ORDER_STATUS = "order_status"
AVAILABILITY = "availability"
RETURNS = "returns_refunds"
ADDRESS_CHANGE = "address_change"
PRODUCT_REQUEST = "product_request"
GENERAL = "general"
INTENTS = (ORDER_STATUS, AVAILABILITY, RETURNS, ADDRESS_CHANGE, PRODUCT_REQUEST, GENERAL)  # = DRAFT_INTENTS

_PHRASES: dict[str, dict[str, float]] = {
    ORDER_STATUS: {
        "where is my order": 3, "where's my order": 3, "tracking": 2, "track my": 2, "tracking number": 1,
        "shipped": 1.5, "has it shipped": 2, "not arrived": 2.5, "hasn't arrived": 2.5, "not received": 2.5,
        "still waiting": 2, "delivery": 1, "when will": 1, "arrive": 1.5, "order status": 3, "dispatched": 1.5,
        "status of my order": 3, "any update": 1.5, "wo ist meine bestellung": 3, "où est ma commande": 3,
        "backorder": 1.5, "delayed": 1.5, "where is": 2, "where it is": 2, "hasn't shipped": 2,
    },
    AVAILABILITY: {
        "in stock": 3, "back in stock": 3, "available": 2, "availability": 3, "restock": 2.5, "lead time": 3,
        "sold out": 2.5, "out of stock": 2.5, "when can i get": 2, "how long until": 1.5, "do you have": 1.5,
        "how many": 1, "ship soon": 1, "pre-order": 2, "preorder": 2,
    },
    RETURNS: {
        "return": 2.5, "refund": 3, "money back": 3, "exchange": 2, "damaged": 2, "broken": 2, "faulty": 2,
        "defective": 2, "send it back": 2.5, "doesn't fit": 1.5, "does not fit": 1.5, "wrong size": 1.5,
        "rückgabe": 2.5, "remboursement": 3,
    },
    ADDRESS_CHANGE: {
        "change my address": 3.5, "change the address": 3.5, "change address": 3.5, "wrong address": 3,
        "new address": 3, "shipping address": 2, "update my address": 3.5, "i moved": 2, "i have moved": 2,
        "deliver to": 1.5, "different address": 3, "address change": 3.5, "change of address": 3.5,
        "moving": 1.5, "send it to": 1.5, "send the rest": 1.5, "instead": 0.5,
    },
    PRODUCT_REQUEST: {
        "do you sell": 3, "do you carry": 3, "will you sell": 3, "would you stock": 3, "any plans to sell": 3,
        "are you going to sell": 3, "please stock": 3, "please start selling": 3, "i wish you sold": 3,
        "could you add": 2, "looking for": 1, "don't see": 1.5, "can't find": 1.5, "cannot find": 1.5,
    },
}


@dataclass(frozen=True)
class IntentResult:
    intent: str
    confidence: float
    scores: dict[str, float]


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("’", "'"))


def intent_classify(*, subject: str, body: str, matched_inventory: bool = False,
                    names_order: bool = False) -> IntentResult:
    """Classify one email. `matched_inventory` says whether the text names an item we stock:
    "do you have the 4-person tent" is availability, "do you have kayaks" is a product request.
    `names_order` says whether it quotes one of the sender's orders."""
    text = _normalize(f"{subject} {body}")
    scores = {intent: 0.0 for intent in _PHRASES}
    for intent, phrases in _PHRASES.items():
        for phrase, weight in phrases.items():
            if re.search(rf"(?<![\w]){re.escape(phrase)}", text):
                scores[intent] += weight
    if names_order:
        scores[ORDER_STATUS] += 1.0
    if matched_inventory:
        scores[AVAILABILITY] += 0.5
        scores[PRODUCT_REQUEST] = max(0.0, scores[PRODUCT_REQUEST] - 2.0)
    elif scores[AVAILABILITY] and not scores[ORDER_STATUS]:
        # Asking for stock of something we do not list at all is a request for a new product.
        scores[PRODUCT_REQUEST] += 1.0
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 1.0:
        return IntentResult(GENERAL, 0.5, scores)
    strength = min(1.0, top / 4.0)
    margin = (top - second) / top
    confidence = round(0.35 + 0.35 * strength + 0.25 * margin, 3)
    return IntentResult(best, min(confidence, 0.95), scores)
