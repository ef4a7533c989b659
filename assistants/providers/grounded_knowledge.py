"""Composers whose answers are the shop's own words: Ops corrections, published FAQ answers and
passages of the site's pages (returns, damaged items, shipping, collecting in the store, general
questions), and the requests only a person can answer (wholesale, privacy).

A passage is quoted, never paraphrased, so each fact stays the source's. An FAQ answer or a site
passage that is in the context and matches the request is used before anything else: a reply
must not say "I could not find an order" to a question the shop's FAQ answers.
"""

from __future__ import annotations

import re
from dataclasses import replace

from django.conf import settings
from django.utils.translation import gettext as _

from assistants import vectorstore
from assistants.context import DraftContext, Source
from assistants.product_words import english_shop_words, product_kinds
from assistants.providers import grounded_stock as stock
from assistants.providers.grounded_order_lookup import order_for
from assistants.providers.grounded_refunds import refund_lines_say, refunds_of_items, refunds_say
from assistants.providers.grounded_reply import Reply, words_of
from assistants.requests import CustomerRequest
from assistants.terms import FAQ_MATCH_MIN_SCORE, faq_match_score, terms

_SHIPPING = re.compile(r"\b(?:ship|deliver|dispatch)\w*", re.IGNORECASE)
# Shipping times: a word for shipping, then a number of days or weeks in the same sentence ("Orders
# ship within 1-2 business days"), not "return it within 30 days of delivery".
_SHIPPING_TIME = re.compile(r"\b(?:ship|deliver|dispatch)\w*\b[^.]*?\b\d+(?:\s*-\s*\d+)?\s+(?:business |working )?"
                            r"(?:days?|weeks?)\b", re.IGNORECASE)
_RETURNS = re.compile(r"\b(?:return|refund)\w*", re.IGNORECASE)
_COLLECT = re.compile(r"\b(?:collect|pick(?:\s|-)?up|click and collect)\w*", re.IGNORECASE)
_WARRANTY = re.compile(r"\bwarrant\w*|\bguarantee\w*", re.IGNORECASE)


def _text_of(source: Source) -> str:
    return source.facts.get("answer") or source.facts.get("text") or ""


def _question(request: CustomerRequest | None, ctx: DraftContext) -> str:
    return f"{request.context} {request.text}" if request else ctx.text


def _page_words(text: str) -> str:
    """A question with the site's English words for what it asks (assistants/product_words.py): for
    matching it to a page and choosing the page's sentences, never for an FAQ entry's question."""
    return english_shop_words(text)


def _best(sources: list[Source], question: str, *patterns: re.Pattern, by_terms: bool = False) -> Source | None:
    """The source closest to the question; `by_terms`: the one sharing most of its terms first (a page
    saying "price" three times is not closer to "will he see the price?" than one saying "prices are
    never shown")."""
    fitting = [s for s in sources if all(p.search(_text_of(s)) for p in patterns)]
    if not fitting:
        return None
    asked = terms(question) if by_terms else set()
    return max(fitting, key=lambda s: (len(asked & terms(_text_of(s))),
                                       vectorstore.lexical_similarity(question, _text_of(s))))


def _knowledge(ctx: DraftContext) -> list[Source]:
    """Corrections first (Ops' word overrides anything older), then FAQ answers, then site passages."""
    seen, found = set(), []
    for source in [*ctx.corrections, *ctx.faq, *ctx.faq_by_intent.values(), *ctx.site]:
        if (source.kind, source.id, source.facts.get("chunk_id")) not in seen:
            seen.add((source.kind, source.id, source.facts.get("chunk_id")))
            found.append(source)
    return found


def shipping_source(ctx: DraftContext, request: CustomerRequest | None) -> Source | None:
    """The shop's shipping times: a correction, FAQ answer or site passage about delivery in days."""
    question = _question(request, ctx)
    corrections = [c for c in ctx.corrections if _SHIPPING.search(_text_of(c))]
    if corrections:
        return corrections[0]
    return _best([s for s in _knowledge(ctx) if s.kind != "correction"], question, _SHIPPING_TIME)


def return_policy(ctx: DraftContext) -> Source | None:
    policy = next((s for s in ctx.corrections + ctx.faq if _RETURNS.search(_text_of(s))), None)
    return policy or ctx.faq_by_intent.get("returns_refunds")


def site_passage(question: str, page_text: str, *, sentences: int = 3) -> str:
    """Sentences of a site chunk, quoted rather than paraphrased so every fact stays the page's:
    its first sentence (what the page is about) and those closest to the question, in page order.
    Headings (a line that ends without a full stop, or of fewer than four words) and a sentence the
    chunk cuts off are left out."""
    found = [sentence for line in page_text.splitlines()
             if len(line.split()) >= 4 and re.search(r"[.!?:]\s*$", line.strip())
             for sentence in re.split(r"(?<=[.!?])\s+", line.strip()) if sentence]
    found = [s for s in found if re.search(r"[.!?]$", s)]
    if not found:
        return " ".join(page_text.split())
    rest = sorted(range(1, len(found)), key=lambda i: _sentence_fit(question, found[i]), reverse=True)
    return " ".join(found[i] for i in sorted([0, *rest[:sentences - 1]]))


# What kind of answer a question wants, and how a sentence that gives it looks: "what time does the
# shop close?" wants a clock time, "how much is gift wrapping?" an amount, "how long…" a duration.
_ANSWER_KINDS = (
    (re.compile(r"\b(?:what time|when|opening|open|close[sd]?|hours|wann|öffnungszeiten|geöffnet|offen|schlie(?:ß|ss)t"
                r"|a qué hora|cuándo|horario|abr[ei]n|cierran?|à quelle heure|quand|horaires|ouvert|ferme)\b",
                re.IGNORECASE), re.compile(r"\b\d{1,2}[:.]\d{2}\b")),
    (re.compile(r"\b(?:how much|cost|costs|price|fee|charge|wie viel|kostet|preis|cuánto|cuesta|precio|combien|coûte"
                r"|prix|tarif)\b", re.IGNORECASE), re.compile(r"\d+[.,]\d{2}\s*(?:[A-Z]{3}|[€$£])|[€$£]\s?\d")),
    (re.compile(r"\b(?:how long|how many days|wie lange|cuánto tiempo|combien de temps)\b", re.IGNORECASE),
     re.compile(r"\b\d+(?:\s*-\s*\d+)?\s+(?:\w+\s+)?(?:days?|weeks?|months?|years?|hours?)\b", re.IGNORECASE)),
)


def _sentence_fit(question: str, sentence: str) -> float:
    """How well a page's sentence answers the question: the terms they share (assistants/terms.py, the
    stemmer the FAQ match uses: "closes" and "closed", "saturdays" and "Saturday"; function words left
    out), their lexical similarity, and whether it gives the kind of answer the question wants (a time,
    an amount, a duration)."""
    shared = len(terms(question) & terms(sentence))
    kind = sum(1 for asks, gives in _ANSWER_KINDS if asks.search(question) and gives.search(sentence))
    return shared + kind + vectorstore.lexical_similarity(question, sentence)


def quote(source: Source, reply: Reply, request: CustomerRequest | None) -> None:
    """Say what a source says, in its own words: a correction or FAQ answer as it is, a site page's
    passage with its title and address."""
    if source.kind == "site":
        title = source.label.split(" | ")[0].strip() or _("our website")
        # The whole request chooses the sentences, with what the customer said around it, not one word; and
        # the email's other requests, as a page is quoted once ("Can it be wrapped, and will he see the price?").
        others = " ".join(r.text for r in reply.ctx.requests if r is not request)
        passage = site_passage(_page_words(f"{_question(request, reply.ctx)} {others}") if request else "",
                               source.facts["text"])
        more = _("More details:")
        reply.say(_("From our page \"%(title)s\": %(passage)s") % {"title": title, "passage": passage}
                  + (f"\n{more} {source.url}" if source.url else ""), source, key=("source", source.kind, source.id))
    else:
        reply.say(source.facts["answer"], source, key=("source", source.kind, source.id))


def _site_for(ctx: DraftContext, request: CustomerRequest, *patterns: re.Pattern) -> Source | None:
    """A site passage for a request the classifier placed (a store, a warranty): the email's
    retrieval first; else the site index asked with the request's own words, which match a page
    better than a whole email does."""
    found = _best(ctx.site, _page_words(_question(request, ctx)), *patterns)
    if found is not None or ctx.retrieval_error:
        return found
    asked_text = _page_words(request.text)
    try:
        hits = vectorstore.index_query(vectorstore.SITE, asked_text, n=3)
    except Exception:  # noqa: BLE001 - the index is optional here: the email's own retrieval already ran
        return None
    asked = words_of(asked_text)
    # A page whose title names what is asked ("Warranty" for "what warranty do you give?") is the page,
    # however weakly the rest of its words match; so is one that holds two of the terms asked, one of them
    # the page's own word for what is asked ("paid": "price").
    sources = [Source("site", str(h.metadata.get("snapshot_id", h.id)), h.score,
                      h.metadata.get("title") or h.metadata.get("url", ""), {"text": h.text[:600], "chunk_id": h.id},
                      url=h.metadata.get("url", ""))
               for h in hits if h.score >= settings.ASSISTANT_SITE_REQUEST_MIN_SCORE
               or words_of(str(h.metadata.get("title") or "").split(" | ")[0]) & asked
               or terms(str(h.metadata.get("title") or "").split(" | ")[0]) & terms(asked_text)  # "wrapped": "wrapping"
               or _shares_page_words(h.text, asked_text, request, ctx)]
    found = _best(sources, asked_text, *patterns, by_terms=True)
    if found is not None:
        ctx.site.append(found)
    return found


# --- composers -------------------------------------------------------------------------------------

def returns(ctx: DraftContext, request: CustomerRequest | None, reply: Reply) -> None:
    intent = request.intent if request else "returns"
    policy = return_policy(ctx)
    order = None
    if request is not None and (request.refs.orders or ctx.referenced_order):
        order = order_for(ctx, request, reply, intent=intent)
    if order is not None and order.facts.get("refunds"):
        refunds_say(order, request, reply)
    if policy is not None:
        quote(policy, reply, request)
    stock.exchange_options(ctx, request, reply)
    if order is not None and not order.facts.get("refunds") and order.facts["status"] not in ("cancelled", "refunded"):
        reply.say(_("I can see your order %(name)s; tell me which item you would like to return and I will start it "
                    "for you.") % {"name": order.facts["name"]}, order, key=("return_start", order.facts["name"]))
    if policy is not None:
        reply.answered("return policy", intent, policy, *([order] if order else []))
    else:
        reply.say(_("I am checking the options for your order with our team and will come back to you shortly."),
                  key=("follow_up", "returns"))
        reply.needs_person("returns", intent, missing="return_policy")


def damaged_item(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    order = order_for(ctx, request, reply, intent=request.intent) if (ctx.orders or request.refs.orders) else None
    pairs, without = refunds_of_items(order, request) if order is not None else ([], [])
    if pairs and not without:
        # Already refunded ("did you refund the broken headlamp?"): the refund is the answer.
        refund_lines_say(order, pairs, reply)
        reply.answered("refund status", request.intent, order)
        return
    reply.apology = "damage"
    if order is not None:
        reply.apology_order = order.facts["name"]
    if not ctx.email.attachments:
        reply.say(_("Could you send me a photo of the damage? As soon as I have it, we will send you a replacement "
                    "or a refund, whichever you prefer."), key=("photo",))
    else:
        reply.say(_("Thank you for the photo. We will send you a replacement or a refund, whichever you prefer: "
                    "just let me know."), key=("photo",))
    policy = _site_for(ctx, request, _WARRANTY) or return_policy(ctx)
    if policy is not None:
        quote(policy, reply, request)
    sources = [s for s in (order, policy) if s is not None]
    if order is None and not ctx.orders and not request.refs.orders:
        reply.say(_("Please also send me your order number, so I can arrange it right away."), key=("ask_order",))
    if policy is not None and (order is not None or not request.refs.orders):
        reply.answered("damaged item", request.intent, *sources)
    else:
        reply.needs_person("damaged item", request.intent, *sources, missing="policy")


def shipping_policy(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    source = shipping_source(ctx, request) or _best(_knowledge(ctx), _question(request, ctx), _SHIPPING)
    if source is None:
        person(reply, request, "shipping question")
        return
    quote(source, reply, request)
    reply.answered("shipping", request.intent, source)


def store_collection(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    source = _site_for(ctx, request, _COLLECT) or _best(_knowledge(ctx), _question(request, ctx), _COLLECT)
    if source is None:
        person(reply, request, "store collection")
        return
    quote(source, reply, request)
    reply.answered("store collection", request.intent, source)


def faq_answer(ctx: DraftContext, request: CustomerRequest | None) -> list[Source]:
    """The published FAQ entry that answers this very question (assistants/terms.py `faq_match`), best
    first; none when the entry's question is not the one asked: a near-miss would answer something else."""
    question = _question(request, ctx)
    scored = [(faq_match_score(question, s.facts["question"], s.facts["answer"]), s) for s in ctx.faq]
    return [s for score, s in sorted(scored, key=lambda pair: pair[0], reverse=True) if score >= FAQ_MATCH_MIN_SCORE][:1]


_KIND_TERMS = frozenset(terms(" ".join(product_kinds())))

# A site page answers a general question only when it shares this many of the question's terms, the
# product's own name left out: a warranty page that mentions tents does not answer a discount code.
SITE_FIT_MIN_TERMS = 2


# Words any page of a web shop holds (how to buy, where to click): sharing them says nothing about the question.
_SHOP_WORDS = frozenset(terms("order orders item items product products buy bought purchase email emailed checkout "
                              "website page online shop customer customers today tonight"))


def _shares_page_words(page: str, asked_text: str, request: CustomerRequest, ctx: DraftContext) -> bool:
    """Whether a page holds two terms of the question besides the kind of product, one of them a word
    the shop-word table added: "tents made in the EU?" is not asked by a warranty page's "tents" and
    "made", nor "shows as delivered, can you help?" by its "delivered" and "help"."""
    shared = terms(page) & (_asked_terms(asked_text, request, ctx) - _KIND_TERMS)
    return len(shared) >= SITE_FIT_MIN_TERMS and bool(shared - terms(request.text))


def _asked_terms(question: str, request: CustomerRequest, ctx: DraftContext) -> set[str]:
    """The terms of a question that say what it asks: not the product's name, not words any shop page holds."""
    titles = [p.title for p in request.refs.products] + [str(s.facts.get("title", "")) for s in ctx.inventory]
    return terms(question) - terms(" ".join(titles)) - _SHOP_WORDS


def _site_fits(source: Source, request: CustomerRequest | None, ctx: DraftContext) -> bool:
    """Whether a site page speaks to the question: the terms they share besides product names and
    words every shop page holds ("order"), plus one when the page gives the kind of answer asked (a
    time for "what time do you close?") and one when its title names what is asked."""
    if request is None:
        return True
    question, page = _page_words(_question(request, ctx)), f"{source.label} {_text_of(source)}"
    asked = _asked_terms(question, request, ctx)
    kind = sum(1 for asks, gives in _ANSWER_KINDS if asks.search(question) and gives.search(page))
    shared, title = asked & terms(page), terms(source.label.split(" | ")[0])
    # The page is about what is asked ("wrapped"), and shares more than its title's word: the "card" of
    # "my card statement" is not what "Gift cards" is about.
    titled = 1 if asked & title and shared - title else 0
    # A short question ("Can it be wrapped?") has fewer terms to share than a long one.
    return bool(asked) and len(shared) + kind + titled >= min(SITE_FIT_MIN_TERMS, max(1, len(asked) // 2))


def _general_source(ctx: DraftContext, request: CustomerRequest | None, *, corrections: bool = True) -> Source | None:
    """What answers a general question: a correction, the FAQ entry it asks, or a site page that fits."""
    fitting = _best([s for s in ctx.site if _site_fits(s, request, ctx)], _page_words(_question(request, ctx)),
                    by_terms=True)
    best = (ctx.corrections[:1] if corrections else []) or faq_answer(ctx, request) or ([fitting] if fitting else [])
    if request is not None and not best:
        site = _site_for(ctx, request)
        if site is None and request.context:
            # "Is there something I should do to look after it?" names what "it" is only in its context.
            site = _site_for(ctx, replace(request, text=_question(request, ctx)))
        best = [site] if site is not None and _site_fits(site, request, ctx) else []
    return best[0] if best else None


def page_answer(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> bool:
    """Answer the request from the FAQ or a site page if one answers it; False: none does. (A correction
    matched anywhere in the email is no answer to this request: it is said anyway.)"""
    source = _general_source(ctx, request, corrections=False)
    if source is None:
        return False
    quote(source, reply, request)
    reply.answered("general question", request.intent, source)
    return True


def general(ctx: DraftContext, request: CustomerRequest | None, reply: Reply) -> None:
    intent = request.intent if request else "general"
    # Nothing asked ("got it, thanks!"): a correction the quoted history matched answers nothing.
    best = _general_source(ctx, request, corrections=request is not None)
    if best is not None:
        quote(best, reply, request)
        reply.answered("general question", intent, best)
    elif request is None and not ctx.email.body.strip() and not ctx.email.subject.strip():
        reply.say(_("Thank you for your message. I am checking this with our team and will get back to you "
                    "shortly."), key=("follow_up", "general"))
        reply.needs_person("empty email", intent, missing="answer")
    elif request is None:
        # Nothing asked ("thanks for the quick help!"): a short acknowledgement, and no request to cover.
        reply.say(_("If there is anything else we can help with, just reply to this email."), key=("nothing_asked",))
    else:
        person(reply, request, "general question")


def person(reply: Reply, request: CustomerRequest | None, topic: str) -> None:
    reply.say(_("I am checking this with our team and will get back to you shortly."), key=("follow_up", "general"))
    reply.needs_person(topic, request.intent if request else "general", missing="answer")


def wholesale(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    reply.say(_("Thank you for your interest in working with us. I have passed your message to the colleague who "
                "looks after trade and wholesale customers; they will get back to you directly."),
              key=("follow_up", "wholesale"))
    reply.needs_person("wholesale", request.intent)


def privacy(ctx: DraftContext, request: CustomerRequest, reply: Reply) -> None:
    reply.say(_("I have passed your request about your personal data to the colleague responsible for data "
                "protection; they will get back to you directly."), key=("follow_up", "privacy"))
    reply.needs_person("privacy request", request.intent)
