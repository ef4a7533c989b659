"""Every request in an email: what the customer asks, one by one, with what each names.

`email_requests` reads an inbound email the way an agent does:
1. `email_clean` cuts the quoted history (">" lines, "On <date>, X wrote:" and its German,
   Spanish and French forms, "-----Original Message-----", Outlook's "From: … Sent: …" block)
   and the signature ("-- ", a closing such as "Best regards" or "Mit freundlichen Grüßen" with a
   name under it, "Sent from my iPhone"). A forwarded message ("Fwd:", "---------- Forwarded
   message ---------") is read too, without its headers: "see below" asks what it says
   (`forwarded_clean`). Both live in assistants/email_text.py.
2. The rest is cut into sentences, and sentences into clauses where a conjunction or comma
   starts a new question ("how much is it and do you have 5?"). Greetings, thanks and wishes
   are dropped.
3. Each piece is classified (assistants/classifier.py). A question or a plea ("please…",
   "ich möchte…", "quisiera…", "je voudrais…") is a request; so is a statement the model is
   sure of ("the zip broke the first time I used it"). Any other statement is context for the
   request next to it, as is a statement about the same thing as the question beside it ("my
   order still hasn't come. Where is it?" is one request).
4. Each request, and the email as a whole, gets the order references, products, variants,
   money and dates it names (`refs_find`, assistants/request_refs.py).

The cues of step 2 and 3 are about the shape of a sentence (is it a question, a greeting), never
about its topic: which request it is comes from the trained model alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from assistants import classifier
from assistants.email_text import email_clean, forwarded_clean
from assistants.intents import intent_for_draft
from assistants.request_refs import Refs, products_find, refs_find
from assistants.terms import terms

# A statement (no question, no plea) becomes a request of its own when the model gives a topic
# other than `general` at least this probability; below it, it is context for its neighbour.
STATEMENT_MIN_PROBABILITY = 0.6

# --- sentences, clauses, and what kind of sentence each is ---------------------------------------------

_ABBREVIATIONS = {"no", "nr", "nº", "n°", "num", "núm", "bestellnr", "bestell-nr", "approx", "ca", "e.g", "i.e", "z.b",
                  "mr", "mrs", "ms", "dr", "st", "vs", "etc", "p.ej", "tel", "incl", "inkl", "ref", "art", "str"}
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*(?=\s)|[?!]+")
_QUESTION_WORDS = (
    # en
    "do", "does", "did", "is", "are", "was", "were", "can", "could", "will", "would", "have", "has", "had", "should",
    "may", "when", "where", "what", "whats", "what's", "how", "why", "which", "who", "whose", "any",
    # de
    "ist", "sind", "war", "habt", "haben", "hast", "hat", "kann", "kannst", "könnt", "können", "könnten", "könntet",
    "würde", "würdet", "würden", "wird", "werden", "wann", "wo", "wie", "was", "warum", "wieso", "weshalb", "welche",
    "welcher", "welches", "welchen", "gibt", "gibts", "bekomme", "bekommt", "bietet", "führt", "verkauft", "liefert",
    "macht", "kommt", "darf",
    # es
    "tienen", "tenéis", "teneis", "tienes", "tiene", "hay", "está", "están", "puedo", "puede", "pueden", "podéis",
    "podeis", "podría", "podrían", "podríais", "cuándo", "cuando", "dónde", "donde", "cómo", "qué", "cuánto", "cuanto",
    "cuánta", "cuál", "cuáles", "vendéis", "venden", "hacéis", "hacen", "enviáis", "envían", "llegará", "llega",
    # fr
    "est-ce", "avez-vous", "avez", "pouvez-vous", "pouvez", "puis-je", "puis", "pourriez-vous", "pourriez", "quand",
    "où", "comment", "quel", "quelle", "quels", "quelles", "combien", "pourquoi", "vendez-vous", "vendez", "faites-vous",
    "livrez-vous", "livrez", "sera-t-il", "y",
)
_QUESTION_WORDS_RE = "|".join(sorted(map(re.escape, _QUESTION_WORDS), key=len, reverse=True))
_PRONOUNS = ("i", "i'm", "i'd", "i've", "we", "it", "it's", "ich", "wir", "es", "je", "j'ai", "nous", "elles",
             "ils", "yo", "also", "please", "bitte", "außerdem", "ausserdem")
# Imperatives that open a second demand after "…, and": "refund me, and stop sending me emails".
_IMPERATIVES = ("stop", "cancel", "send", "refund", "delete", "remove", "unsubscribe", "take", "tell", "give", "check",
                "change", "update", "hör", "hören", "stornieren", "löschen", "schicken", "senden", "cancelen", "cancela",
                "borren", "borra", "dejen", "deja", "envíen", "envía", "arrêtez", "annulez", "supprimez", "envoyez")
_CLAUSE_STARTERS = "|".join(sorted(map(re.escape, {*_QUESTION_WORDS, *_PRONOUNS, *_IMPERATIVES} - {"y", "any", "es", "it"}),
                                   key=len, reverse=True))
_CONJUNCTION = r"(?:and|also|plus|but|und|aber|y|pero|et|mais)"
# A clause starts after a comma, semicolon or dash, or after a conjunction, with a question word or
# a subject ("…ago, can you check", "…headlamp and do you have", "…ändern, ich bin umgezogen").
_CLAUSE_SPLIT = re.compile(
    rf"(?:\s*[,;]\s*|\s+[-–]\s+)(?:{_CONJUNCTION}\s+)?(?=(?:{_CLAUSE_STARTERS})\b)"
    rf"|\s+{_CONJUNCTION}\s+(?=(?:{_CLAUSE_STARTERS})\b)", re.IGNORECASE)
_PLEA = re.compile(
    r"\b(?:please|pls|plz|could you|can you|can i|could i|would you|i need|i want|i'd like|i would like|id like|"
    r"i wanted to know|let me know|kindly|bitte|ich möchte|möchte ich|ich würde gern|würde ich gern|ich will|will ich|"
    r"ich brauche|brauche ich|ich hätte gern|hätte ich gern|"
    r"können sie|könnt ihr|kannst du|por favor|porfa|quiero|quisiera|necesito|me gustaría|quería saber|"
    r"s'il vous pla[iî]t|svp|stp|merci de|je voudrais|je veux|j'aimerais|je souhaite|j'ai besoin|il me faut)\b",
    re.IGNORECASE)
_QUESTION_START = re.compile(rf"^[¿¡\"'(]*(?:and |also |und |y |et |außerdem |ausserdem |aussi )?"
                             rf"(?:{_QUESTION_WORDS_RE})\b", re.IGNORECASE)
_GREETING = (r"hi|hello|hey|hiya|dear|good morning|good afternoon|good evening|greetings|hallo|guten tag|"
             r"guten morgen|guten abend|liebe|lieber|liebes|sehr geehrte|sehr geehrter|moin|servus|hola|buenos días|"
             r"buenos dias|buenas tardes|buenas noches|buenas|estimado|estimada|estimados|bonjour|bonsoir|salut|"
             r"coucou|cher|chère|madame|monsieur")
# A greeting line: the greeting and at most a name or title ("Dear Sir or Madam", "Sehr geehrte Damen und Herren").
_GREETING_ONLY = re.compile(rf"^(?:{_GREETING})\b(?:[\s,]+[\w.'-]+){{0,4}}[\s,!.:]*$", re.IGNORECASE)
_GREETING_LEAD = re.compile(rf"^(?:{_GREETING})(?:\s+(?:there|team|all|everyone|zusammen|a todos|à tous|"
                            rf"(?-i:[A-ZÀ-Ý][\w.'-]*)))?(?:\s*[,!:.\-–]+\s*|\s+(?=(?:{_QUESTION_WORDS_RE})\b))",
                            re.IGNORECASE)
_THANKS = re.compile(r"^(?:thanks|thank you|many thanks|thx|ty|cheers|danke|vielen dank|herzlichen dank|gracias|"
                     r"muchas gracias|merci|mille mercis|"
                     # "Just wanted to say thanks, …", "Wollte mich nur bedanken", "Solo quería dar las gracias"
                     r"(?:i |we )?(?:just |only )?(?:wanted|want|writing|wrote|am writing) to (?:say )?(?:a )?"
                     r"(?:thanks|thank you|say thank)|(?:ich )?wollte (?:mich )?(?:nur |einfach )?"
                     r"(?:bedanken|danke sagen)|(?:solo |sólo )?(?:quería|quiero|queríamos) (?:dar las gracias|"
                     r"agradecer)|je (?:voulais|voulions|tenais à) (?:juste |simplement )?(?:vous )?remercier)\b",
                     re.IGNORECASE)
_WISHES = re.compile(
    r"^(?:i hope|hope you|have a (?:nice|great|good|lovely)|looking forward|i look forward|ich hoffe|schönes wochenende|"
    r"schönen tag|ich freue mich auf|espero que|buen fin de semana|que teng|quedo a la espera|en espera de|"
    r"j'espère que|bonne journée|bon week-end|bonne soirée|dans l'attente|au plaisir)", re.IGNORECASE)


_BULLET = re.compile(r"^(?:[-*•–]|\d{1,2}[.)])\s+")


def _sentences(text: str) -> list[str]:
    """Sentences, reading wrapped lines as one: a line that does not end a sentence runs on when
    the next starts in lower case or with a number. A list item ("- do you ship to Ireland",
    "2) the colour") stands alone, without its bullet."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        joined: list[str] = []
        for raw in (line.strip() for line in paragraph.split("\n")):
            line = _BULLET.sub("", raw)
            if not line:
                continue
            if (joined and line == raw and not re.search(r"[.!?:;]$", joined[-1])
                    and re.match(r"[a-zà-ÿ0-9#(]", line)):
                joined[-1] += " " + line
            else:
                joined.append(line)
        for line in joined:
            out += _split_line(line)
    return [s for s in (s.strip() for s in out) if s]


def _split_line(line: str) -> list[str]:
    parts, start = [], 0
    for match in _SENTENCE_END.finditer(line):
        end = match.end()
        word = re.findall(r"[\w.º°-]+$", line[start:match.start()])
        rest = line[end:].lstrip()
        if match.group().startswith(".") and (
                (word and word[0].lower().rstrip(".") in _ABBREVIATIONS) or re.match(r"\d", rest)
                or (word and re.fullmatch(r"\d{1,2}(?:\.\d{1,2})?", word[0]))):  # "no. 1002", "am 3. Dezember", "20.11."
            continue
        parts.append(line[start:end])
        start = end
    parts.append(line[start:])
    return parts


_CONDITION = re.compile(r"^[¿¡\"'(]*(?:if|unless|in case|wenn|falls|sofern|si|en caso de que|au cas où)\b",
                        re.IGNORECASE)


def _clauses(sentence: str) -> list[str]:
    """A sentence cut where a new question or plea starts after a conjunction or comma; both
    sides must keep three words, or "If not, how long?" would lose its "If not"."""
    pieces = [sentence]
    while True:
        current = pieces[-1]
        for match in _CLAUSE_SPLIT.finditer(current):
            left, right = current[:match.start()], current[match.end():]
            # A short question of its own may follow: "…en talla L y cuánto cuesta", "…and how much?"
            short_question = len(right.split()) == 2 and _QUESTION_START.match(right)
            if match.start() == 0 or len(left.split()) < 3 or (len(right.split()) < 3 and not short_question):
                continue
            if _CONDITION.match(left) and "?" not in left:
                continue  # "If it is not in stock, when will it be back?" is one request with its condition
            pieces[-1:] = [left.strip(" ,;-–"), right.strip()]
            break
        else:
            return pieces


def _is_pleasantry(text: str) -> bool:
    if "?" in text or _PLEA.search(text):
        return False
    return bool(_GREETING_ONLY.match(text) or _THANKS.match(text) or _WISHES.match(text))


def _is_ask(text: str) -> bool:
    return "?" in text or bool(_QUESTION_START.match(text)) or bool(_PLEA.search(text))


# --- requests --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CustomerRequest:
    text: str  # the question or plea itself
    intent: str  # a fine intent of classifier.INTENTS
    probability: float
    ranked: tuple[tuple[str, float], ...]  # every intent with its probability, most likely first
    language: str
    refs: Refs
    context: str = ""  # statements around it that say what "it" is ("I ordered the tent last week.")
    is_question: bool = True  # False for a statement of need ("the zip broke on the first night")

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "intent": self.intent, "probability": round(self.probability, 3),
                "language": self.language, "context": self.context, "refs": self.refs.as_json()}


@dataclass(frozen=True)
class EmailRequests:
    subject: str  # without "Re:", "AW:", "Fwd:"
    text: str  # the cleaned body: no quoted history, no signature
    requests: tuple[CustomerRequest, ...]
    refs: Refs  # everything the subject and the cleaned body name
    language: str

    def order_names(self) -> list[str]:
        """The orders named, the main request's first (the order the reply is about)."""
        primary = self.primary.refs.orders if self.primary else ()
        return list(dict.fromkeys([*primary, *self.refs.orders]))

    def with_products(self, catalog: Sequence[tuple[str, str]]) -> EmailRequests:
        """The same requests naming the products of `catalog` (sku, title) they mention: for a caller
        that learns which items may be meant only after reading the orders (the drafting context)."""
        requests = tuple(replace(r, refs=replace(r.refs, products=tuple(products_find(f"{r.context} {r.text}", catalog))))
                         for r in self.requests)
        products = tuple(products_find(f"{self.subject} {self.text}", catalog))
        return replace(self, requests=requests, refs=replace(self.refs, products=products))

    @property
    def primary(self) -> CustomerRequest | None:
        """The request the reply leads with: the first question or plea, else the first statement of need."""
        return next((r for r in self.requests if r.is_question), self.requests[0] if self.requests else None)


@dataclass(eq=False)  # compared by identity: an email may repeat a sentence word for word
class _Unit:
    text: str
    is_ask: bool
    intent: str
    probability: float
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)

    @property
    def is_request(self) -> bool:
        # A statement of one or two words is a name or a sign-off ("mike", "Cheers, Tom"), never a request.
        return self.is_ask or (self.intent != "general" and self.probability >= STATEMENT_MIN_PROBABILITY
                               and len(re.findall(r"\w+", self.text)) > 2)


def _unit(text: str) -> _Unit:
    intent, probability, _ = classifier.request_classify(text)
    return _Unit(text, _is_ask(text), intent, probability)


# A follow-up question leans on the request before it ("And what about the sleeping bag?", "Und der
# Schlafsack?", "¿Y la tienda?", "Et pour la veste ?"): its words alone say little about what is asked.
_FOLLOW_UP = re.compile(
    r"^[¿¡\"'(]*(?:and |also,? |plus |und |y |et |aussi,? )?(?:what about|how about|same (?:for|with)|and the|"
    r"und (?:was ist mit|wie (?:sieht es|ist es) mit|der|die|das|den)|was ist mit|wie sieht es mit|"
    r"y (?:qué (?:tal|hay) (?:de|con)|el|la|los|las)|qué (?:tal|hay) (?:de|con)|"
    r"et (?:pour|qu'en est-il d[eu]s?|le|la|les)|qu'en est-il d[eu]s?)\b", re.IGNORECASE)


# A short question that points back at what was just said ("Can you still change that?", "Können Sie
# das noch ändern?", "¿Se puede hacer eso?", "Est-ce possible ?") means nothing alone.
_POINTS_BACK = re.compile(r"\b(?:it|that|this|them|those|das|dies|es|eso|esto|ello|ça|cela|possible|posible|möglich)\b",
                          re.IGNORECASE)


def _leans_back(text: str) -> bool:
    """"Is that covered by the warranty?" points back too, but says what it asks (two terms of its own)."""
    words = len(re.findall(r"\w+", text))
    return bool(_FOLLOW_UP.match(text)) or words <= 4 or (
        words <= 6 and bool(_POINTS_BACK.search(text)) and len(terms(text)) <= 1)


def _follow_ups_joined(units: list[_Unit]) -> list[_Unit]:
    """A follow-up question the model cannot place on its own (one that leans on the request before
    it, of four words or fewer: "What now?", "Which one then?", or a short one pointing back:
    "Can you still change that?") joins the request before it, so "Is the stove in stock? And what
    about the sleeping bag?" asks the stock of both."""
    kept: list[_Unit] = []
    for unit in units:
        previous = next((u for u in reversed(kept) if u.is_request), None)
        if (previous is not None and unit.is_ask and unit.probability < STATEMENT_MIN_PROBABILITY
                and _leans_back(unit.text)):
            previous.after.append(unit.text)
            continue
        kept.append(unit)
    return kept


def _group(units: list[_Unit]) -> list[_Unit]:
    """Requests with their context: a statement about the same thing as the question beside it
    goes into that question; other statements go to the next request (or the last one)."""
    units = _follow_ups_joined(units)
    requests = [u for u in units if u.is_request]
    for unit in [u for u in requests if not u.is_ask]:
        i = units.index(unit)
        neighbours = [n for n in (units[i + 1] if i + 1 < len(units) else None, units[i - 1] if i else None)
                      if n is not None and n.is_ask and intent_for_draft(n.intent) == intent_for_draft(unit.intent)]
        if neighbours:
            target = neighbours[0]
            (target.before if units.index(target) > i else target.after).append(unit.text)
            requests.remove(unit)
    merged: list[_Unit] = []
    for unit in requests:  # "Is the tent available? How long until it is?" is one request
        if merged and merged[-1].intent == unit.intent and merged[-1].is_ask == unit.is_ask:
            merged[-1].after.append(unit.text)
        else:
            merged.append(unit)
    if not merged:
        return []
    pending: list[str] = []
    for unit in units:
        if unit in merged:
            unit.before[:0] = pending
            pending = []
        elif not unit.is_request:
            pending.append(unit.text)
    merged[-1].after += pending
    return merged


def _request(unit: _Unit, catalog: Sequence[tuple[str, str]]) -> CustomerRequest:
    """The unit as a request, read alone and with its context: the model keeps the reading it is
    surer of ("Could you tell me where it is?" needs "I ordered the tent last week." to mean much)."""
    whole = " ".join([*unit.before, unit.text, *unit.after]).strip()
    alone = classifier.request_classify(unit.text)
    with_context = classifier.request_classify(whole) if whole != unit.text else alone
    intent, probability, ranked = with_context if with_context[1] > alone[1] else alone
    context = " ".join([*unit.before, *unit.after]).strip()
    return CustomerRequest(text=unit.text, intent=intent, probability=probability, ranked=tuple(ranked),
                           language=classifier.language_detect(whole), refs=refs_find(whole, catalog),
                           context=context, is_question=unit.is_ask)


_REPLY_PREFIX = re.compile(r"^(?:re|aw|antw|sv)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_THANKS_ANYWHERE = re.compile(r"\b(?:thanks|thank you|danke|gracias|merci|grazie|bedankt)\b", re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(r"^(?:(?:re|aw|wg|fwd?|tr|rv|sv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def email_requests(*, subject: str, body: str, catalog: Sequence[tuple[str, str]] = ()) -> EmailRequests:
    """The customer's requests in one email, each classified with what it names. `catalog` is the
    (sku, title) of the items that may be named (the drafting context passes the ones it matched)."""
    text = email_clean(body or "")
    forwarded = forwarded_clean(subject, body or "")
    if forwarded:
        text = f"{text}\n\n{forwarded}".strip()
    # "Re: Your refund for order #1005" over "got it, thanks!": the subject of a reply is the thread's (often
    # ours), and a thank-you that asks nothing asks nothing of it.
    replied = bool(_REPLY_PREFIX.match((subject or "").strip()))
    subject = _SUBJECT_PREFIX.sub("", (subject or "").strip())
    units, thanked = [], False
    for sentence in _sentences(text):
        for clause in _clauses(_GREETING_LEAD.sub("", sentence)):
            if clause and re.search(r"\w", clause) and not _is_pleasantry(clause):
                units.append(_unit(clause))
            thanked = thanked or bool(_THANKS.match(clause.strip()) or _THANKS_ANYWHERE.search(clause))
    grouped = _group(units)
    if not grouped and subject and not _is_pleasantry(subject) and not (replied and thanked):
        # Nothing asked in the body ("see subject", or only context): the subject is the request.
        subject_unit = _unit(subject)
        subject_unit.is_ask = True
        subject_unit.after = [u.text for u in units]
        grouped = [subject_unit]
    requests = tuple(_request(unit, catalog) for unit in grouped)
    written = text if text.strip() else subject
    language = classifier.language_detect(written) if written.strip() else "en"
    return EmailRequests(subject=subject, text=text, requests=requests, language=language,
                         refs=refs_find(" ".join(part for part in (subject, text) if part), catalog))

