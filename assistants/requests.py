"""Every request in an email: what the customer asks, one by one, with what each names.

`email_requests` reads an inbound email the way an agent does:
1. `email_clean` cuts the quoted history (">" lines, "On <date>, X wrote:" and its German,
   Spanish and French forms, "-----Original Message-----", Outlook's "From: … Sent: …" block)
   and the signature ("-- ", a closing such as "Best regards" or "Mit freundlichen Grüßen" with a
   name under it, "Sent from my iPhone"). A forwarded message ("Fwd:", "---------- Forwarded
   message ---------") is read too, without its headers: "see below" asks what it says
   (`forwarded_clean`).
2. The rest is cut into sentences, and sentences into clauses where a conjunction or comma
   starts a new question ("how much is it and do you have 5?"). Greetings, thanks and wishes
   are dropped.
3. Each piece is classified (assistants/classifier.py). A question or a plea ("please…",
   "ich möchte…", "quisiera…", "je voudrais…") is a request; so is a statement the model is
   sure of ("the zip broke the first time I used it"). Any other statement is context for the
   request next to it, as is a statement about the same thing as the question beside it ("my
   order still hasn't come. Where is it?" is one request).
4. Each request, and the email as a whole, gets the order references, products, variants,
   money and dates it names (`refs_find`).

The cues of step 2 and 3 are about the shape of a sentence (is it a question, a greeting), never
about its topic: which request it is comes from the trained model alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from assistants import classifier
from assistants.intents import intent_for_draft
from assistants.product_words import english_product_words, title_match

# A statement (no question, no plea) becomes a request of its own when the model gives a topic
# other than `general` at least this probability; below it, it is context for its neighbour.
STATEMENT_MIN_PROBABILITY = 0.6

# --- quoted history and signatures ---------------------------------------------------------------------

_REPLY_HEADER = re.compile(
    r"^(?:On\s.{0,300}\bwrote:|Am\s.{0,300}\bschrieb\b.{0,300}:|El\s.{0,300}\bescribió:|Le\s.{0,300}\ba\s+écrit\s*:)$",
    re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^(?:-{2,}\s*(?:original message|ursprüngliche nachricht|mensaje original|message d'origine|forwarded message|"
    r"weitergeleitete nachricht|mensaje reenviado|message transféré)\s*-{2,}|_{10,})$", re.IGNORECASE)
_HEADER_FROM = re.compile(r"^(?:from|von|de)\s*:\s*\S", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^(?:sent|gesendet|enviado|envoyé|date|datum|fecha)\s*:\s*\S", re.IGNORECASE)
_MOBILE = re.compile(
    r"^(?:sent from my\s|sent from (?:mail|outlook|yahoo)|get outlook for\s|von meinem\s.+\sgesendet|"
    r"gesendet von meinem\s|enviado desde mi\s|envoyé de mon\s)", re.IGNORECASE)
_CLOSINGS = (
    # en
    "best regards", "kind regards", "warm regards", "warmest regards", "regards", "best wishes", "all the best", "best",
    "cheers", "thanks", "thank you", "many thanks", "thanks again", "thanks in advance", "thanks so much",
    "thank you so much", "thanks a lot", "thank you in advance", "thx", "sincerely", "yours sincerely",
    "yours faithfully", "yours",
    # de
    "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "freundliche grüsse", "viele grüße",
    "viele grüsse", "liebe grüße", "liebe grüsse", "beste grüße", "beste grüsse", "herzliche grüße", "grüße", "grüsse",
    "gruß", "gruss", "mfg", "lg", "vg", "danke", "vielen dank", "danke schön", "danke im voraus", "vielen dank im voraus",
    # es
    "saludos", "un saludo", "saludos cordiales", "muchos saludos", "atentamente", "gracias", "muchas gracias",
    "gracias de antemano", "un abrazo",
    # fr
    "cordialement", "bien cordialement", "bien à vous", "merci", "merci beaucoup", "merci d'avance", "salutations",
    "amicalement", "bonne journée",
)
_NAME = r"[A-ZÀ-Ý][\w.'-]*(?:\s+[A-ZÀ-Ý][\w.'-]*){0,3}"
_CLOSING = re.compile(rf"^(?:{'|'.join(sorted(map(re.escape, _CLOSINGS), key=len, reverse=True))})"
                      rf"\s*[,.!]*\s*(?:{_NAME})?\s*$", re.IGNORECASE)
_SIGNATURE_CLOSING = re.compile(rf"^(?:{'|'.join(sorted(map(re.escape, _CLOSINGS), key=len, reverse=True))})\b",
                                re.IGNORECASE)
_LONE_NAME = re.compile(rf"^(?:{_NAME}|(?:[A-Z]\.){{1,4}})$")
_SIGNATURE_MAX_LINES = 6  # a closing is a signature only with at most this many lines under it


def _quote_start(lines: list[str]) -> int:
    """The index of the first line of quoted history (len(lines) when there is none)."""
    for i, line in enumerate(lines):
        text = line.strip()
        if not text:
            continue
        two = f"{text} {lines[i + 1].strip()}" if i + 1 < len(lines) else text
        if _REPLY_HEADER.match(text) or _REPLY_HEADER.match(two) or _SEPARATOR.match(text):
            return i
        if _HEADER_FROM.match(text) and any(_HEADER_SENT.match(nxt.strip()) for nxt in lines[i + 1:i + 5]):
            return i
    return len(lines)


def _signature_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        text = line.strip()
        if text == "--" or _MOBILE.match(text):
            return i
        rest = [x for x in lines[i + 1:] if x.strip()]
        if _CLOSING.match(text) and len(rest) <= _SIGNATURE_MAX_LINES and not any("?" in x for x in rest):
            # "Thanks," or "Best, Kim" followed by a name, a title, a phone number: not by more questions.
            return i
    return len(lines)


_FORWARD_SEPARATOR = re.compile(r"^-{2,}\s*(?:forwarded message|weitergeleitete nachricht|mensaje reenviado|"
                                r"message transféré)\s*-{2,}$", re.IGNORECASE)
_FORWARD_SUBJECT = re.compile(r"^(?:(?:re|aw)\s*:\s*)*(?:fwd?|wg|tr|rv|enc)\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^(?:from|sent|date|to|cc|subject|von|gesendet|datum|an|betreff|de|enviado|fecha|para|"
                          r"asunto|envoyé|à|objet)\s*:", re.IGNORECASE)


def forwarded_clean(subject: str, body: str) -> str:
    """The text of the message a customer forwards ("Fwd: …", "---------- Forwarded message ---------"):
    their earlier email to us, or one they were sent, is what "see below" asks about. Its header block,
    its own quoted history and its signature are cut; "" when the email forwards nothing."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = _quote_start(lines)
    if start >= len(lines):
        return ""
    if not (_FORWARD_SEPARATOR.match(lines[start].strip()) or _FORWARD_SUBJECT.match((subject or "").strip())):
        return ""  # a reply's quoted history: what we wrote before, not the customer's request
    rest = lines[start + 1:] if not _HEADER_FROM.match(lines[start].strip()) else lines[start:]
    while rest and (not rest[0].strip() or _HEADER_LINE.match(rest[0].strip())):
        rest = rest[1:]
    return email_clean("\n".join(rest))


def email_clean(body: str) -> str:
    """The customer's own new text: quoted history, quote lines and the signature removed."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[:_quote_start(lines)]
    lines = [line for line in lines if not line.lstrip().startswith(">")]
    lines = lines[:_signature_start(lines)]
    while lines and not lines[-1].strip():
        lines.pop()
    kept = [line for line in lines if line.strip()]
    if len(kept) > 1 and _LONE_NAME.match(kept[-1].strip()) and re.search(r"[.?!]\s*$", kept[-2]):
        # A name alone under the last sentence ("…in stock?\nGrace") signs the email.
        lines = lines[:len(lines) - 1 - lines[::-1].index(kept[-1])]
    return "\n".join(line.rstrip() for line in lines).strip()


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
            if match.start() == 0 or len(left.split()) < 3 or len(right.split()) < 3:
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


# --- references: orders, products, variants, money, dates ----------------------------------------------

_ORDER_KEYWORD = (
    r"(?:orders?(?:\s*(?:no|nr|num|number|n[º°o])\b\.?)?|bestellung(?:s(?:nummer|nr\b\.?))?|bestellnummer|"
    r"bestell-?nr\b\.?|auftrag(?:snummer|snr\b\.?)?|pedidos?(?:\s*(?:n[º°o]\b\.?|núm\b\.?|número|num\b\.?))?|"
    r"commandes?(?:\s*(?:n[°º]|no\b\.?|numéro|num\b\.?))?|n[°º]|no\.|nr\.|número|numéro)")
_ORDER_REF = re.compile(rf"#\s?(\d{{3,10}})\b|(?<![\w-]){_ORDER_KEYWORD}\s*[:#]?\s*(\d{{3,10}})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Product:
    sku: str
    title: str


@dataclass(frozen=True)
class Variant:
    kind: str  # size | colour
    value: str  # "XL", "EU 42", "10"; colours in English ("blue" for azul, bleu, blau)
    text: str  # as the customer wrote it


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217
    text: str


@dataclass(frozen=True)
class DateRef:
    text: str
    deadline: bool  # "by Friday", "bis Freitag", "antes del viernes", "avant samedi", "at the latest"
    weekday: int | None = None  # Monday is 0
    day: int | None = None
    month: int | None = None
    year: int | None = None
    relative: str = ""  # today | tomorrow | day_after_tomorrow | this_week | next_week | weekend | end_of_month | …


@dataclass(frozen=True)
class Refs:
    orders: tuple[str, ...] = ()  # normalized as the shop names them: "#1002"
    products: tuple[Product, ...] = ()
    variants: tuple[Variant, ...] = ()
    money: tuple[Money, ...] = ()
    dates: tuple[DateRef, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"orders": list(self.orders), "products": [asdict(p) for p in self.products],
                "variants": [asdict(v) for v in self.variants],
                "money": [{"amount": str(m.amount), "currency": m.currency, "text": m.text} for m in self.money],
                "dates": [asdict(d) for d in self.dates]}


def order_refs_find(text: str) -> list[str]:
    """Order names ("#1002") in every common form: #1002, order no. 1002, Bestellnr. 1002,
    pedido nº 1002, commande n° 1002…, in the order written, each once."""
    found: list[str] = []
    for match in _ORDER_REF.finditer(text):
        name = f"#{match.group(1) or match.group(2)}"
        if name not in found:
            found.append(name)
    return found


_STOPWORDS = {"the", "and", "for", "with", "size", "pair", "your", "you", "our", "of", "in", "to", "person"}


def _tokens(text: str) -> set[str]:
    return {t for t in re.findall(r"[\w-]+", text.lower()) if len(t) > 1 and t not in _STOPWORDS}


def products_find(text: str, catalog: Sequence[tuple[str, str]]) -> list[Product]:
    """Catalog items (sku, title) the text names: by SKU, or by at least half the words of the title
    (German, Spanish and French product words read as the title's English: assistants/product_words.py)."""
    words, lowered, found = _tokens(english_product_words(text)), text.lower(), []
    for sku, title in catalog:
        title_words = _tokens(re.sub(r"[()]", " ", title))
        named = sku and sku.lower() in lowered
        if named or (title_words and title_match(title_words, words) >= 0.5):
            found.append(Product(sku, title))
    return found


_LETTER_SIZES = r"XXS|XS|S|M|L|XL|XXL|XXXL|[2-5]XL"
_SIZE_WORD = re.compile(
    rf"\b(?:size|sz|gr(?:ö|oe)(?:ß|ss)e|talla|taille|pointure)\s*[:.]?\s*((?:EU|UK|US)\s?\d{{1,2}}(?:[.,]5)?|"
    rf"\d{{1,2}}(?:[.,]5)?|{_LETTER_SIZES})(?![\w])", re.IGNORECASE)
_SIZE_SYSTEM = re.compile(r"\b(EU|UK|US)\s?(\d{1,2}(?:[.,]5)?)\b")
_SIZE_AFTER_IN = re.compile(r"\b(?:in|en)\s+(?:(?i:xxs|xs|xl|xxl|xxxl|[2-5]xl)|S|M|L)(?![\w'])")
_COLOURS = {
    "navy": r"navy(?:\s+blue)?|dark blue|dunkelblau\w*|marineblau\w*|azul marino|bleu marine",
    "black": r"black|schwarz\w*|negr[oa]s?|noire?s?",
    "white": r"white|wei(?:ß|ss)\w*|blanc[oa]s?|blanche?s?",
    "red": r"red|rot(?:e|en|er|es|em)?|roj[oa]s?|rouges?",
    "blue": r"blue|blau\w*|azul(?:es)?|bleue?s?",
    "green": r"green|gr(?:ü|ue)n\w*|verdes?|verte?s?",
    "grey": r"gr[ae]y|grau\w*|gris(?:es|e)?",
    "yellow": r"yellow|gelb\w*|amarill[oa]s?|jaunes?",
    "orange": r"orange|naranjas?",
    "purple": r"purple|lila|violett\w*|morad[oa]s?|violete?s?|violettes?",
    "pink": r"pink|rosa|roses?",
    "brown": r"brown|braun\w*|marr[oó]n(?:es)?",
    "beige": r"beige",
    "olive": r"olive|oliv\w*|oliva",
    "khaki": r"khaki|caqui|kaki",
}
_COLOUR = re.compile(r"(?<![\w-])(?:" + "|".join(f"(?P<{name}>{words})" for name, words in _COLOURS.items())
                     + r")(?![\w-])", re.IGNORECASE)


def variants_find(text: str) -> list[Variant]:
    """Sizes (S…XXL, "EU 42", "size 10", "Größe M", "talla 38", "taille L") and colours in
    English, German, Spanish and French, the colour given in English."""
    found: list[Variant] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, value: str, span: tuple[int, int]) -> None:
        if any(span[0] < end and start < span[1] for start, end in taken):
            return
        taken.append(span)
        variant = Variant(kind, value, text[span[0]:span[1]])
        if all((v.kind, v.value) != (kind, value) for v in found):
            found.append(variant)

    for match in _SIZE_WORD.finditer(text):
        add("size", " ".join(match.group(1).upper().split()).replace(",", "."), match.span(1))
    for match in _SIZE_SYSTEM.finditer(text):
        add("size", f"{match.group(1)} {match.group(2).replace(',', '.')}", match.span())
    for match in _SIZE_AFTER_IN.finditer(text):
        value = match.group().split()[-1]
        add("size", value.upper(), (match.end() - len(value), match.end()))
    for match in _COLOUR.finditer(text):
        add("colour", match.lastgroup or "", match.span())
    return found


_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "us$": "USD"}
_CURRENCY_WORDS = {"eur": "EUR", "euro": "EUR", "euros": "EUR", "usd": "USD", "dollar": "USD", "dollars": "USD",
                   "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "quid": "GBP", "chf": "CHF", "franken": "CHF",
                   "francs": "CHF"}
_AMOUNT = r"\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_WORDS = "|".join(sorted(_CURRENCY_WORDS, key=len, reverse=True))
_MONEY = re.compile(
    rf"(?P<s1>US\$|[€$£])\s?(?P<a1>{_AMOUNT})|(?P<a2>{_AMOUNT})\s?(?P<s2>[€$£])"
    rf"|\b(?P<w1>{_WORDS})\s?(?P<a3>{_AMOUNT})\b|(?<![\w.,])(?P<a4>{_AMOUNT})\s?(?P<w2>{_WORDS})\b", re.IGNORECASE)


def _amount(raw: str) -> Decimal | None:
    raw = raw.replace(" ", "")
    if "," in raw and "." in raw:
        decimal_sep = "," if raw.rfind(",") > raw.rfind(".") else "."
    elif re.search(r"[.,]\d{3}$", raw):  # 1.299 or 1,299: thousands
        decimal_sep = ""
    else:
        decimal_sep = "," if "," in raw else "."
    thousands = {",", "."} - {decimal_sep}
    for sep in thousands:
        raw = raw.replace(sep, "")
    try:
        return Decimal(raw.replace(",", ".")) if decimal_sep else Decimal(raw)
    except InvalidOperation:
        return None


def money_find(text: str) -> list[Money]:
    """Amounts with their currency: €49.99, 49,99 €, $1,250.00, 1.299,00 EUR, 30 euros, CHF 25."""
    found = []
    for match in _MONEY.finditer(text):
        sign = match.group("s1") or match.group("s2")
        word = match.group("w1") or match.group("w2")
        currency = _CURRENCY_SIGNS[sign.lower()] if sign else _CURRENCY_WORDS[word.lower()]
        amount = _amount(match.group("a1") or match.group("a2") or match.group("a3") or match.group("a4"))
        if amount is not None:
            found.append(Money(amount, currency, match.group().strip()))
    return found


_WEEKDAYS = [
    r"monday|montag|lunes|lundi", r"tuesday|dienstag|martes|mardi", r"wednesday|mittwoch|mi[ée]rcoles|mercredi",
    r"thursday|donnerstag|jueves|jeudi", r"friday|freitag|viernes|vendredi",
    r"saturday|samstag|sonnabend|s[áa]bado|samedi", r"sunday|sonntag|domingo|dimanche",
]
_MONTHS = [
    r"january|januar|jänner|enero|janvier", r"february|februar|febrero|f[ée]vrier", r"march|m[äa]rz|marzo|mars",
    r"april|abril|avril", r"may|mai|mayo", r"june|juni|junio|juin", r"july|juli|julio|juillet",
    r"august|agosto|ao[ûu]t", r"september|septiembre|setiembre|septembre|sept",
    r"october|oktober|octubre|octobre", r"november|noviembre|novembre", r"december|dezember|diciembre|d[ée]cembre",
]
_MONTH = "|".join(f"(?:{m})" for m in _MONTHS)
_RELATIVE = {
    "day_after_tomorrow": r"day after tomorrow|übermorgen|pasado mañana|après-demain",
    "tomorrow": r"tomorrow|(?<!guten )(?<!heute )morgen(?! früh)|(?<!esta )(?<!la )mañana|demain",
    "today": r"today|tonight|heute|hoy|aujourd'hui|ce soir",
    "next_week": r"next week|nächste[rn]? woche|la semana que viene|la pr[óo]xima semana|la semaine prochaine",
    "this_week": r"this week|end of the week|diese[rn]? woche|ende der woche|esta semana|cette semaine|"
                 r"fin de (?:la )?semaine",
    "weekend": r"(?:this |the )?weekend|wochenende|fin de semana|finde|week-end",
    "end_of_month": r"end of the month|month end|monatsende|ende des monats|fin de mes|fin du mois",
    "christmas": r"christmas(?: eve)?|xmas|weihnachten|heiligabend|navidad|nochebuena|no[ëe]l|r[ée]veillon",
    "new_year": r"new year(?:'s)?|silvester|neujahr|año nuevo|nochevieja|nouvel an",
}
_DATE_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("day_month", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:de\s+|of\s+)?({_MONTH})\b", re.IGNORECASE)),
    ("month_day", re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.IGNORECASE)),
    ("numeric", re.compile(r"(?<![\d.,/])(\d{1,2})([./])(\d{1,2})(?:\2(\d{2,4})|\.)?(?![\d/]|[.,]\d)")),
    ("ordinal", re.compile(r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b|\b(?:le\s+)(\d{1,2})(?:er)?\b(?!\s*(?:h\b|€|%|:))"
                           r"|\b(?:el\s+)?d[íi]a\s+(\d{1,2})\b|\b(?:dem|den|am|zum)\s+(\d{1,2})\.(?!\d)",
                           re.IGNORECASE)),
    ("weekday", re.compile(r"\b(?:" + "|".join(f"({w})" for w in _WEEKDAYS) + r")s?\b", re.IGNORECASE)),
    ("relative", re.compile(r"(?<![\w-])(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _RELATIVE.items())
                            + r")(?![\w-])", re.IGNORECASE)),
]
_DEADLINE_BEFORE = re.compile(
    r"(?:\bby|\bbefore|\buntil|\btill|\bno later than|\blatest by|\bin time for|\bfor|\bbis|\bvor|\bspätestens|"
    r"\bbis spätestens|\brechtzeitig (?:zu|für)|\bfür|\bantes|\bpara|\bhasta|\ba más tardar|\bavant|\bd'ici|"
    r"\bpour|\bjusqu'à|\bjusqu'au|\bau plus tard)"
    r"\s+(?:(?:the|this|next|el|del|la|le|les|am|dem|den|zum|zur|de|au|à|ce|est[ea]|d[íi]a)\s+){0,2}$", re.IGNORECASE)
_DEADLINE_AFTER = re.compile(r"^\s*,?\s*(?:at the latest|latest|spätestens|como (?:muy )?tarde|a más tardar|"
                             r"au plus tard|sin falta)", re.IGNORECASE)


def _date_ref(kind: str, match: re.Match) -> dict[str, Any] | None:
    g = match.groups()
    if kind == "iso":
        return {"year": int(g[0]), "month": int(g[1]), "day": int(g[2])}
    if kind == "day_month":
        return {"day": int(g[0]), "month": _month(g[1])}
    if kind == "month_day":
        return {"day": int(g[1]), "month": _month(g[0])}
    if kind == "numeric":
        first, second = int(g[0]), int(g[2])
        if g[1] == "." and not g[3] and not match.group().endswith("."):
            return None  # 9.5 is a size or a price, 24.12. is a date
        day, month = (second, first) if second > 12 >= first else (first, second)  # 12/20: US order
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return None
        year = int(g[3]) if g[3] else None
        return {"day": day, "month": month, "year": (2000 + year if year is not None and year < 100 else year)}
    if kind == "ordinal":
        day = int(next(x for x in g if x))
        return {"day": day} if 1 <= day <= 31 else None
    if kind == "weekday":
        return {"weekday": next(i for i, x in enumerate(g) if x)}
    return {"relative": match.lastgroup}


def _month(name: str) -> int:
    return next(i + 1 for i, pattern in enumerate(_MONTHS) if re.fullmatch(pattern, name, re.IGNORECASE))


def dates_find(text: str) -> list[DateRef]:
    """Dates and deadlines: weekdays, "24 December", "3. Dezember", "15 de marzo", "12/20", "the 24th",
    tomorrow, next week, Christmas, in four languages; a deadline when "by", "bis", "antes de",
    "avant"… comes before it or "at the latest" after it."""
    found: list[tuple[int, DateRef]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            parts = _date_ref(kind, match)
            if parts is None:
                continue
            before = _DEADLINE_BEFORE.search(text[max(0, start - 40):start])
            after = _DEADLINE_AFTER.match(text[end:end + 30])
            phrase_start = start - len(before.group()) if before else start
            phrase_end = end + len(after.group()) if after else end
            taken.append((start, end))
            found.append((start, DateRef(text=text[phrase_start:phrase_end].strip(), deadline=bool(before or after),
                                         **parts)))
    return [ref for _, ref in sorted(found, key=lambda pair: pair[0])]


def refs_find(text: str, catalog: Sequence[tuple[str, str]] = ()) -> Refs:
    return Refs(orders=tuple(order_refs_find(text)), products=tuple(products_find(text, catalog)),
                variants=tuple(variants_find(text)), money=tuple(money_find(text)), dates=tuple(dates_find(text)))


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
        return self.is_ask or (self.intent != "general" and self.probability >= STATEMENT_MIN_PROBABILITY)


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


def _follow_ups_joined(units: list[_Unit]) -> list[_Unit]:
    """A follow-up question the model cannot place on its own (one that leans on the request before
    it, or of three words or fewer: "What now?") joins the request before it, so "Is the stove in
    stock? And what about the sleeping bag?" asks the stock of both."""
    kept: list[_Unit] = []
    for unit in units:
        previous = next((u for u in reversed(kept) if u.is_request), None)
        if (previous is not None and unit.is_ask and unit.probability < STATEMENT_MIN_PROBABILITY
                and (_FOLLOW_UP.match(unit.text) or len(re.findall(r"\w+", unit.text)) <= 3)):
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


_SUBJECT_PREFIX = re.compile(r"^(?:(?:re|aw|wg|fwd?|tr|rv|sv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def email_requests(*, subject: str, body: str, catalog: Sequence[tuple[str, str]] = ()) -> EmailRequests:
    """The customer's requests in one email, each classified with what it names. `catalog` is the
    (sku, title) of the items that may be named (the drafting context passes the ones it matched)."""
    text = email_clean(body or "")
    forwarded = forwarded_clean(subject, body or "")
    if forwarded:
        text = f"{text}\n\n{forwarded}".strip()
    subject = _SUBJECT_PREFIX.sub("", (subject or "").strip())
    units = []
    for sentence in _sentences(text):
        for clause in _clauses(_GREETING_LEAD.sub("", sentence)):
            if clause and re.search(r"\w", clause) and not _is_pleasantry(clause):
                units.append(_unit(clause))
    grouped = _group(units)
    if not grouped and subject and not _is_pleasantry(subject):
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
