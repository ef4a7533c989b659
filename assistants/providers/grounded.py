"""The offline drafter: every request of an email answered with facts from listed sources.

It never invents a fact. Every tracking number, quantity, lead time, date or price in a draft is
copied from a `Source` it lists; when a fact is missing the draft says plainly what a person
will follow up on, and that request counts as not answered, which keeps the confidence low.

Each request goes to the composer of its fine intent (grounded_orders, grounded_stock,
grounded_knowledge); all of them add to one `Reply`, so a fact two requests share is said once.
The reply is then written as a support lead would: the greeting of the style profile, thanks (or
an apology for a delay or damage), the facts, and the sign-off, in the customer's language
(Django's gettext catalogs under locale/; any other language gets English).
"""

from __future__ import annotations

import re
from dataclasses import asdict

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from assistants import confidence, intents
from assistants.context import DraftContext
from assistants.language import REPLY_LANGUAGES
from assistants.providers import ProviderResult, estimate_tokens, prompt_fingerprint
from assistants.providers import grounded_knowledge as knowledge
from assistants.providers import grounded_orders as orders
from assistants.providers import grounded_stock as stock
from assistants.providers.grounded_knowledge import site_passage  # noqa: F401 - used by tests and callers
from assistants.providers.grounded_reply import Reply
from assistants.requests import CustomerRequest

MODEL_SLUG = "grounded-v2"

# Each fine intent of the classifier (assistants/classifier.py INTENTS) and the composer that answers it.
COMPOSERS = {
    "order_status": orders.order_status, "delivery_deadline": orders.delivery_deadline,
    "delay_complaint": orders.delay_complaint, "cancellation": orders.cancellation,
    "address_change": orders.address_change, "refund_status": orders.refund_status,
    "availability": stock.availability, "price": stock.price, "product_request": stock.product_request,
    "returns": knowledge.returns, "damaged_item": knowledge.damaged_item, "shipping_policy": knowledge.shipping_policy,
    "store_collection": knowledge.store_collection, "wholesale": knowledge.wholesale, "privacy": knowledge.privacy,
    "general": knowledge.general,
}
# A caller that gives no requests (an email with none) is answered by the draft's intent.
_BY_DRAFT_INTENT = {
    intents.ORDER_STATUS: orders.order_status, intents.AVAILABILITY: stock.availability,
    intents.RETURNS: knowledge.returns, intents.ADDRESS_CHANGE: orders.address_change,
    intents.PRODUCT_REQUEST: stock.product_request, intents.GENERAL: knowledge.general,
}


# Style-profile phrases the catalogs translate (locale/*/LC_MESSAGES/django.po): our defaults and the
# demo shop's brand voice. A profile with phrases of its own gives their translations in
# tone_config["languages"]["de"] = {"greeting": …, "sign_off": …}; without them it gets our defaults.
STYLE_PHRASES = (gettext_noop("Hi {first_name},"), gettext_noop("Best regards,\nThe support team"),
                 gettext_noop("Happy trails,\nThe Demo Shop team"))


def _extra_corrections(ctx: DraftContext, reply: Reply) -> None:
    # A correction is an Ops fact that overrides anything older: always say it once.
    for correction in ctx.corrections:
        if correction not in reply.used:
            reply.say(correction.facts["answer"], correction, key=("source", "correction", correction.id))


def _style_phrase(style: dict, key: str, default: str) -> str:
    """A phrase of the style profile in the reply's language: the profile's own translation
    (`tone_config.languages.<code>.<key>`), else the catalog's translation of the profile's phrase,
    else our default phrase translated."""
    language = (translation.get_language() or "en")[:2]
    override = ((style.get("languages") or {}).get(language) or {}).get(key)
    if override:
        return override
    phrase = style.get(key) or default
    if language == "en":
        return phrase
    translated = _(phrase)
    return translated if translated != phrase else _(default)


def style_apply(body_lines: list[str], style: dict, first_name: str) -> tuple[str, list[str]]:
    greeting = _style_phrase(style, "greeting", "Hi {first_name},")
    if first_name:
        greeting = greeting.replace("{first_name}", first_name)
    elif (translation.get_language() or "en")[:2] == "en":
        greeting = greeting.replace("{first_name}", "there")
    else:  # "Hallo,", "Hola:", "Bonjour,": no name, no stand-in
        greeting = re.sub(r"[,\s]*\{first_name\}", "", greeting)
    sign_off = _style_phrase(style, "sign_off", "Best regards,\nThe support team")
    body = "\n\n".join([greeting, *body_lines, sign_off])
    removed = []
    for phrase in style.get("banned_phrases") or []:
        if phrase and re.search(re.escape(phrase), body, re.I):
            removed.append(phrase)
            body = re.sub(rf"\s*{re.escape(phrase)},?", "", body, flags=re.I)
    return body, removed


UNSURE_BELOW = 0.2  # the classifier's probability under which a request's intent is not acted on
UNSURE_BELOW_OTHER_LANGUAGE = 0.5  # the same for a language the model was not trained on (Dutch, Italian…)
# Templates that say something happened ("I am very sorry your order arrived damaged", "we do not carry
# that") need a surer reading than those that look a fact up: said wrongly, they are worse than a hand-off.
ASSERTING = {"damaged_item": 0.4, "delay_complaint": 0.4, "cancellation": 0.4, "product_request": 0.4}


_MONEY_BACK = {"refund_status", "returns", "cancellation"}
_ON_A_CONDITION = re.compile(r"^[¿¡\"'(]*(?:if|unless|wenn|falls|sofern|si|como no|à moins)\b", re.IGNORECASE)
_DAYS = (r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|samstag|"
         r"sonntag|lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo|lundi|mardi|mercredi|jeudi|"
         r"vendredi|samedi|dimanche|lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica")
# A condition with a deadline anywhere in the request, not only in front: "cancel the tent if it hasn't
# shipped by Friday", "hola si no sale esta semana cancelen", "cancelen el pedido si no sale esta semana".
_BY_A_DEADLINE = re.compile(
    r"\b(?:if|unless|wenn|falls|sofern|si|s'il|se non|indien|tenzij|à moins)\b[^.?!]{0,80}?"
    rf"\b(?:by|before|until|till|tomorrow|end of|(?:this|next) (?:week|weekend|month|{_DAYS})|bis|morgen|"
    rf"(?:diese[nr]?|nächste[nr]?) (?:woche|wochenende|monat)|esta semana|este (?:fin de semana|mes)|antes de|mañana|"
    rf"cette semaine|ce week-end|avant|d'ici|demain|entro|questa settimana|domani|deze week|{_DAYS})\b",
    re.IGNORECASE)


def on_a_condition(text: str) -> bool:
    """"If it is not here by Friday I want my money back": asked only if something does not happen."""
    return bool(_ON_A_CONDITION.match(text) or _BY_A_DEADLINE.search(text))


def _sure_enough(ctx: DraftContext, request: CustomerRequest) -> bool:
    """Whether to answer a request as its intent. The status of an order the customer names is a
    sourced fact whatever the wording, so it is given even when the reading is unsure."""
    if request.intent == intents.ORDER_STATUS and request.refs.orders:
        return True
    # Looking up the sender's own orders asserts nothing the sources do not hold, so "dov'è il mio ordine?"
    # gets its order's status (or the ask for an order number) in any language, not a hand-off.
    lookup = request.intent == intents.ORDER_STATUS
    floor = UNSURE_BELOW if ctx.language_supported or lookup else UNSURE_BELOW_OTHER_LANGUAGE
    return request.probability >= max(floor, ASSERTING.get(request.intent, 0.0))


def _unsure_composer(ctx: DraftContext, request: CustomerRequest):
    """A complaint about a delay the model is unsure of ("my tent never showed up??"), or any unsure
    request of an email saying a parcel never came ("Mein Kocher ist nie angekommen", read as damage),
    still asks where the order is: its status is looked up, which asserts nothing the sources lack.
    Anything else unsure goes the general way."""
    if (request.intent == "delay_complaint" and request.probability >= UNSURE_BELOW) or orders.not_received(ctx):
        return orders.order_status
    return knowledge.general


def _opener(reply: Reply) -> str:
    if reply.apology == "damage" and reply.apology_order:
        return _("I am very sorry that your order %(name)s did not arrive in perfect condition.") % {
            "name": reply.apology_order}
    if reply.apology == "damage":
        return _("I am very sorry that your order did not arrive in perfect condition.")
    if reply.apology == "missing":
        return _("I am sorry that your parcel has not reached you.")
    if reply.apology == "delay":
        return _("I am sorry for the wait, and I understand how frustrating it is.")
    return _("Thank you for getting in touch.")


def _compose(ctx: DraftContext, intent: intents.IntentResult) -> Reply:
    reply = Reply(ctx)
    if ctx.requests:
        for request in ctx.requests:
            # A request the model can barely place is not answered as if it were sure: a wrong
            # template ("we do not carry that" for an invoice) is worse than the general path, which
            # quotes a source that fits the question or leaves it to a person.
            if request.intent in _MONEY_BACK and on_a_condition(request.text):
                # "If it is not here by Friday I want my money back": nothing to refund or cancel yet, and
                # no policy to quote. The delay is answered (apology, where the order is; each fact once), and
                # a person decides the rest: the request counts as theirs.
                covered = len(reply.coverage)
                orders.delay_complaint(ctx, request, reply)
                del reply.coverage[covered:]
                knowledge.person(reply, request, "refund on a condition")
                continue
            composer = COMPOSERS.get(request.intent, knowledge.general) if _sure_enough(ctx, request) \
                else _unsure_composer(ctx, request)
            if composer is knowledge.general and orders.not_received(ctx):
                composer = orders.order_status  # "it shows as delivered, yet nothing came. Can you help?"
            composer(ctx, request, reply)
    else:
        _BY_DRAFT_INTENT.get(intent.intent, knowledge.general)(ctx, None, reply)
    if ctx.requests:  # nothing asked ("got it, thanks!"): no older fact for a correction to override
        _extra_corrections(ctx, reply)
    return reply


def draft_grounded(ctx: DraftContext, intent: intents.IntentResult) -> ProviderResult:
    language = ctx.language if ctx.language in REPLY_LANGUAGES else "en"
    with translation.override(language):
        reply = _compose(ctx, intent)
        first_name = ctx.customer.facts.get("first_name", "") if ctx.customer else ""
        lines = [_opener(reply), *reply.lines] if reply.lines else reply.lines
        body, removed = style_apply(lines, ctx.style, first_name)
    value = confidence.from_coverage(reply.coverage, ctx.requests, intent)
    if ctx.email.truncated or not ctx.email.body.strip():
        value = min(value, 0.3)
    return ProviderResult(
        body=body, confidence=round(value, 3), used=reply.used, model_slug=MODEL_SLUG,
        prompt_hash=prompt_fingerprint(ctx, intent.intent, MODEL_SLUG),
        tokens_in=estimate_tokens(ctx.email.body + "".join(str(s.as_json()) for s in ctx.all_sources())),
        tokens_out=estimate_tokens(body),
        notes={"missing": reply.missing, "banned_removed": removed, "language": language,
               "coverage": [asdict(c) for c in reply.coverage], "product_requests": reply.product_requests},
    )
