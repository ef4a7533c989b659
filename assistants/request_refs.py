"""What a request names: order references, catalog products, sizes and colours, money and dates,
in English, German, Spanish and French (`refs_find`). Step 4 of assistants/requests.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from assistants.product_words import english_product_words, title_match

_ORDER_KEYWORD = (
    r"(?:orders?(?:\s*(?:no|nr|num|number|n[º°o])\b\.?)?|bestellung(?:s(?:nummer|nr\b\.?))?|bestellnummer|"
    r"bestell-?nr\b\.?|auftrag(?:snummer|snr\b\.?)?|pedidos?(?:\s*(?:n[º°o]\b\.?|núm\b\.?|número|num\b\.?))?|"
    r"commandes?(?:\s*(?:n[°º]|no\b\.?|numéro|num\b\.?))?|n[°º]|no\.|nr\.|número|numéro|"
    # Dutch and Italian customers write to an English shop too (drafted in English): "bestelling 1007", "ordine 1002".
    r"bestelling(?:snummer)?|bestelnummer|ordine(?:\s*(?:n[°º]|n\.|nr\.?))?|ordinazione)")
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
# A shoe size named by its number alone after "a" or "the": "the 44s", "swap them for a 45", "in a 43?"
# (35-49, then the end of the phrase, so "a 45 minute walk" is not a size; a bare "in 43" is left alone).
_SIZE_BARE = re.compile(r"\b(?:the\s+(3[5-9]|4[0-9])s\b|(?:a|the)\s+(3[5-9]|4[0-9])s?(?=\s*(?:[?!.,;)]|$|instead\b"
                        r"|then\b|please\b|if\b)))", re.IGNORECASE)
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
    for match in _SIZE_BARE.finditer(text):
        group = 1 if match.group(1) else 2
        add("size", match.group(group), match.span(group))
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
