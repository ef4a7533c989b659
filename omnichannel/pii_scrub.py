"""One customer's facts kept out of text that others will see: reply examples, FAQ proposals, the FAQ page.

`pii_scrub(text, known=...)` replaces what identifies a customer with a placeholder: names
([name]), email addresses ([email]), phone numbers ([phone number]), street addresses
([address]), order numbers ([order number]) and tracking numbers ([tracking number]). It works
in two ways at once:

- Facts we hold (`KnownFacts`: customers' names, addresses, phones, emails, order names and
  tracking numbers, loaded by `customers.selectors`) are found word for word, whatever their
  shape: "Bletchley Park" has no shape a pattern could know.
- Shapes catch the rest: carrier tracking formats (UPS 1Z…, USPS 92/93/94/95…, DHL JD…, UPU
  S10 "RR123456789GB", long digit runs as FedEx and others use), phone numbers (Google's
  libphonenumber through `phonenumbers`, which knows every country's formats, plus any
  "+<digits>" run), email addresses, "#1001" / "order 1001", street lines ("78 High Street",
  "Muidergracht 24", "PO Box 12") with a UK or Dutch postcode, and the names of greetings and
  sign-offs ("Hi Ada,", "Thanks,\nAda").

The shop's own addresses (ZOHO_OWN_ADDRESSES) are kept: a reply that says "write to
support@…" stays useful. Prices, quantities, dates, SKUs and lead times are not personal and
stay as they are, so an example still teaches how to answer.

Replacing is not sanitizing HTML (that is nh3's job): the text stays plain text and is still
handled as hostile wherever it goes. Nothing here imports our apps (omnichannel depends on
nothing of ours): callers pass what we know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings

NAME, EMAIL, PHONE, ADDRESS, ORDER, TRACKING = (
    "[name]", "[email]", "[phone number]", "[address]", "[order number]", "[tracking number]")
KINDS = {NAME: "name", EMAIL: "email", PHONE: "phone number", ADDRESS: "address", ORDER: "order number",
         TRACKING: "tracking number"}
# libphonenumber reads national formats ("(415) 555-0132", "020 7946 0102") against a country's plan;
# international ones ("+44 20 7946 0101") are read under any of them.
PHONE_REGIONS = ("US", "GB")
_MAX_TERM_WORDS = 8


@dataclass(frozen=True)
class KnownFacts:
    """Facts we hold about customers, each found word for word (case and spacing aside).

    `names` are full names (two words or more) of any customer; `first_names` are single words
    replaced only where the caller knows they are the customer's own (the customer a reply was
    written to): across all customers, single names would take "Grace" or "May" out of every text."""

    names: frozenset[str] = frozenset()
    first_names: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()
    order_numbers: frozenset[str] = frozenset()
    tracking_numbers: frozenset[str] = frozenset()
    _table: dict = field(default_factory=dict, compare=False, repr=False)
    _longest: list = field(default_factory=list, compare=False, repr=False)  # [words in the longest fact]

    def __or__(self, other: KnownFacts) -> KnownFacts:
        return KnownFacts(**{name: getattr(self, name) | getattr(other, name) for name in _FIELDS})

    def table(self) -> dict[tuple[str, ...], str]:
        """Each fact as its tuple of normalized words -> placeholder, built once per instance."""
        if not self._table:
            for name, placeholder in _FIELDS.items():
                for term in getattr(self, name):
                    words = tuple(_norm(w) for w in _words(term))
                    words = tuple(w for w in words if w)
                    if words and len(words) <= _MAX_TERM_WORDS and len("".join(words)) >= 3:
                        self._table.setdefault(words, placeholder)
        return self._table

    def longest(self) -> int:
        """Words in the longest fact, counted once per instance (a shop's facts are tens of thousands)."""
        if not self._longest:
            self._longest.append(max((len(words) for words in self.table()), default=0))
        return self._longest[0]


_FIELDS = {"tracking_numbers": TRACKING, "order_numbers": ORDER, "emails": EMAIL, "phones": PHONE,
           "addresses": ADDRESS, "names": NAME, "first_names": NAME}
NOTHING_KNOWN = KnownFacts()

# --- shapes ------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_TRACKING = re.compile(
    r"(?<![\w])(?:"
    r"1Z[0-9A-Z]{16}"  # UPS
    r"|(?:9[2-5])\d{18,24}"  # USPS IMpb (94001…, 92…, 93…, 95…)
    r"|(?:JD|JJD|JVGL)\d{9,20}"  # DHL eCommerce / Parcel
    r"|[A-Z]{2}\d{9}[A-Z]{2}"  # UPU S10, most postal services ("RR123456789GB")
    r"|T\d{10}"  # UPS Mail Innovations, and similar "letter + 10 digits" labels
    r"|\d{4}(?:[ -]\d{4}){2,5}(?:[ -]\d{1,4})?"  # a number printed in groups: "9400 1118 9922 3197 4284 90"
    r"|\d{10,34}"  # FedEx (12, 15, 20, 22 digits), DHL Express (10), GLS, DPD: long digit runs
    r")(?![\w])", re.IGNORECASE)
_PLUS_PHONE = re.compile(r"(?<![\w+])\+\d[\d ().-]{6,18}\d(?!\w)")
_ORDER_HASH = re.compile(r"(?<![\w&])#\s?\d{3,10}\b")
_ORDER_WORD = re.compile(r"(?i)\b(orders?(?:\s+(?:no\.?|nr\.?|number|num\.?|id))?\s*:?\s*)(\d{3,10})\b")
_STREET_WORDS = (r"street|st|road|rd|avenue|ave|boulevard|blvd|lane|ln|drive|dr|court|ct|square|sq|place|pl|way|"
                 r"terrace|close|crescent|parkway|pkwy|highway|hwy|yard|row|gardens|hill|park|mews|walk|circle|cir")
# Continental street names end in their street word, with the number after: "Muidergracht 24".
_STREET_ENDINGS = r"straße|strasse|str\.|weg|gracht|laan|plein|straat|gasse|platz|allee|kade|singel"
_CAPITALIZED = r"[A-Z][\w'’.-]*"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
_NL_POSTCODE = r"\d{4}\s?[A-Z]{2}"
_CITY_AND_CODE = (rf"(?:,?\s+(?:{_CAPITALIZED}\s+){{0,2}}(?:{_UK_POSTCODE}|{_NL_POSTCODE}|\d{{5}}(?:-\d{{4}})?)"
                  rf"|,\s*{_CAPITALIZED}(?:\s+{_CAPITALIZED}){{0,2}}(?:,?\s+(?:[A-Z]{{2}}\s+)?\d{{5}}(?:-\d{{4}})?)?)?")
_STREET = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_CAPITALIZED}\s+){{0,4}}(?i:{_STREET_WORDS})\b\.?" + _CITY_AND_CODE
    + rf"|\b(?:{_CAPITALIZED}\s+)?{_CAPITALIZED}(?i:{_STREET_ENDINGS})\s+\d{{1,5}}[a-z]?\b" + _CITY_AND_CODE
    + r"|\b(?i:p\.?\s?o\.?\s+box)\s+\d{1,6}\b"
    + rf"|\b{_UK_POSTCODE}\b")
_GREETING = re.compile(
    rf"(?m)^(\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|thanks|thank you)[ \t]+)"
    rf"((?!there\b|team\b|all\b|again\b|everyone\b|so\b|for\b|you\b){_CAPITALIZED}(?:[ \t]+{_CAPITALIZED})?)"
    r"(?=[ \t]*[,!.\n:]|[ \t]*$)", re.IGNORECASE)
_INTRODUCTION = re.compile(rf"\b((?i:my name is|this is|i am|i'm)\s+)({_CAPITALIZED}(?:\s+{_CAPITALIZED})?)\b")
_TITLE = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+{_CAPITALIZED}\b")
_SIGN_OFF = re.compile(r"(?im)^\s*(?:thanks|thank you|many thanks|best|best regards|best wishes|kind regards|"
                       r"regards|cheers|sincerely|yours|yours sincerely|warm regards|all the best)\b[ \t]*[,!.]?[ \t]*$")
_SIGNATURE_WORD = r"(?:(?:[A-Z]\.){2,4}|[A-Z][\w'’-]*\.?)"  # "E.W.D.", "Ada", "Lovelace"
_SIGNATURE_LINE = re.compile(rf"^\s*({_SIGNATURE_WORD}(?:[ \t]+{_SIGNATURE_WORD}){{0,2}})[ \t]*$")
# Capitalized words that are a sentence, not a name, when they stand alone on the last line.
_NOT_A_NAME = {"thanks", "thank", "you", "best", "regards", "cheers", "hello", "hi", "ok", "okay", "yes", "no",
               "please", "sincerely", "the", "support", "team", "bye", "soon", "urgent", "help"}
_WORD = re.compile(r"[\w'’.+@-]+", re.UNICODE)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _norm(word: str) -> str:
    return word.lower().replace("’", "'").strip(".,;:!?'\"()-")


def _keep() -> set[str]:
    return {a.lower() for a in getattr(settings, "ZOHO_OWN_ADDRESSES", [])}


def _known(text: str, known: KnownFacts) -> str:
    """Replace facts we hold, longest first, on whole words (so "Ada" never matches inside "Adams")."""
    table = known.table()
    if not table:
        return text
    spans = [(m.start(), m.end(), _norm(m.group())) for m in _WORD.finditer(text)]
    longest = known.longest()
    out, last, i = [], 0, 0
    while i < len(spans):
        for n in range(min(longest, len(spans) - i), 0, -1):
            words = tuple(w for _, _, w in spans[i:i + n])
            if words in table and spans[i][2] and spans[i + n - 1][2]:
                start = spans[i][0]
                if start and text[start - 1] == "#":  # "#1001": the mark goes with the number
                    start -= 1
                # Keep the punctuation around the fact ("Ada." stays "[name].").
                raw_last = text[spans[i + n - 1][0]:spans[i + n - 1][1]]
                end = spans[i + n - 1][0] + len(raw_last.rstrip(".,;:!?'\"()-"))
                out.append(text[last:start] + table[words])
                last, i = end, i + n
                break
        else:
            i += 1
    return "".join(out) + text[last:]


def _phones(text: str) -> str:
    for region in PHONE_REGIONS:
        matches = list(phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID))
        for match in reversed(matches):
            text = text[:match.start] + PHONE + text[match.end:]
    return _PLUS_PHONE.sub(PHONE, text)


def _names_in_greetings(text: str) -> str:
    text = _GREETING.sub(lambda m: m.group(1) + NAME, text)
    text = _INTRODUCTION.sub(lambda m: m.group(1) + NAME, text)
    text = _TITLE.sub(NAME, text)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        # The line after a sign-off ("Kind regards,\nKatherine"), or a name alone on the last line ("…?\nGrace").
        after_sign_off = i > 0 and _SIGN_OFF.match(lines[i - 1])
        is_last = i == len(lines) - 1 or not any(rest.strip() for rest in lines[i + 1:])
        if (after_sign_off or (is_last and i > 0)) and (match := _SIGNATURE_LINE.match(line)):
            if not {_norm(w) for w in match.group(1).split()} <= _NOT_A_NAME:
                lines[i] = line[:match.start(1)] + NAME + line[match.end(1):]
    # A sign-off and a name on one line: "Kind regards, Katherine".
    return re.sub(r"(?im)^(\s*(?:thanks|thank you|many thanks|best|best regards|kind regards|regards|cheers|"
                  r"sincerely|yours sincerely|all the best),[ \t]*)"
                  rf"({_SIGNATURE_WORD}(?:[ \t]+{_SIGNATURE_WORD}){{0,2}})[ \t]*$",
                  lambda m: m.group(1) + NAME, "\n".join(lines))


def pii_scrub(text: str, *, known: KnownFacts = NOTHING_KNOWN) -> str:
    """The text with every customer-specific fact replaced by a placeholder (see the module's doc)."""
    if not text:
        return text
    keep = _keep()
    text = _known(text, known)
    text = _EMAIL.sub(lambda m: m.group() if m.group().lower() in keep else EMAIL, text)
    text = _TRACKING.sub(TRACKING, text)
    text = _phones(text)
    text = _ORDER_HASH.sub(ORDER, text)
    text = _ORDER_WORD.sub(lambda m: m.group(1) + ORDER, text)
    text = _STREET.sub(ADDRESS, text)
    return _names_in_greetings(text)


def pii_found(text: str, *, known: KnownFacts = NOTHING_KNOWN) -> list[str]:
    """What kinds of customer facts the text holds ("tracking number", "address", ...), sorted; [] if none."""
    scrubbed = pii_scrub(text, known=known)
    if scrubbed == text:
        return []
    return sorted({kind for placeholder, kind in KINDS.items() if scrubbed.count(placeholder) > text.count(placeholder)})


def known_facts(*, names: Iterable[str] = (), first_names: Iterable[str] = (), emails: Iterable[str] = (),
                phones: Iterable[str] = (), addresses: Iterable[str] = (), order_numbers: Iterable[str] = (),
                tracking_numbers: Iterable[str] = ()) -> KnownFacts:
    """KnownFacts from loose values: blanks dropped, single-word `names` left out (see KnownFacts)."""
    def clean(values: Iterable[str]) -> frozenset[str]:
        return frozenset(v.strip() for v in values if v and v.strip())

    return KnownFacts(names=frozenset(n for n in clean(names) if len(n.split()) >= 2),
                      first_names=clean(first_names), emails=clean(emails), phones=clean(phones),
                      addresses=clean(addresses), order_numbers=clean(order_numbers),
                      tracking_numbers=clean(tracking_numbers))
