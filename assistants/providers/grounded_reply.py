"""One reply being composed by the grounded drafter: its facts, its sources, and what it covers.

Each request of an email is answered by a composer (grounded_orders, grounded_stock,
grounded_knowledge) that adds sentences to one `Reply`. A sentence may carry a key (the fact it
states: ("status", "#1001")), so a fact two requests share is said once. Each request ends as
`answered` by a sourced fact, or as needing a person, with what the person follows up on: that
coverage is what the draft's confidence and its stored reasons are made of (assistants/confidence.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistants.context import DraftContext, Source


@dataclass
class Covered:
    """One request of the email: what it asked (in the agent's words), and whether a sourced fact answered it."""

    topic: str  # "order status", "stock", "delivery deadline"
    answered: bool
    intent: str  # the request's fine intent
    sources: list[str] = field(default_factory=list)  # "order #1001", "inventory TENT-2P-GRN", "faq 3"


def source_name(source: Source) -> str:
    if source.kind == "order":
        return f"order {source.facts.get('name', source.id)}"
    if source.kind == "inventory":
        return f"inventory {source.facts.get('sku', source.id)}"
    if source.kind == "site":
        return f"site {source.url or source.id}"
    if source.kind == "correction":
        return f"correction {source.label}"
    return f"{source.kind} {source.id}"


class Reply:
    def __init__(self, ctx: DraftContext) -> None:
        self.ctx = ctx
        self.lines: list[str] = []
        self.keys: set[tuple] = set()
        self.used: list[Source] = []
        self.missing: list[str] = []
        self.coverage: list[Covered] = []
        self.apology = ""  # damage | delay | missing (a parcel): the reply opens with an apology instead of thanks
        self.apology_order = ""  # the order the damage apology names ("#1007"), when the composer found it
        self.unknown_variants: list[str] = []  # sizes or colours the catalog does not list: a person checks
        self.product_requests: list[str] = []  # sizes or colours the shop does not make, for demand mining

    def say(self, text: str, *sources: Source, key: tuple | None = None) -> bool:
        """Add a sentence (once: by its key, else by its text) and the sources it comes from."""
        if (key is not None and key in self.keys) or text in self.lines:
            return False
        if key is not None:
            self.keys.add(key)
        self.lines.append(text)
        self.use(*sources)
        return True

    def said(self, key: tuple) -> bool:
        return key in self.keys

    def use(self, *sources: Source) -> None:
        for source in sources:
            if source not in self.used:
                self.used.append(source)

    def answered(self, topic: str, intent: str, *sources: Source) -> None:
        self.use(*sources)
        self.coverage.append(Covered(topic, True, intent, [source_name(s) for s in sources]))

    def needs_person(self, topic: str, intent: str, *sources: Source, missing: str = "") -> None:
        self.use(*sources)
        self.coverage.append(Covered(topic, False, intent, [source_name(s) for s in sources]))
        if missing and missing not in self.missing:
            self.missing.append(missing)


_SIGNIFICANT = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_FILLER = {"the", "and", "for", "with", "size", "pair", "your", "you", "our", "from", "person", "this", "that",
           "order", "item", "items", "have", "has", "was", "were", "are", "did", "does", "when", "will", "get",
           "sent", "back", "money", "refund", "refunded", "return", "returned"}


def words_of(text: str) -> set[str]:
    """Significant words, singular ("boots" and "boot" are one): to tell which item a sentence is about."""
    found = set()
    for word in _SIGNIFICANT.findall(text.lower()):
        if word in _FILLER:
            continue
        found.add(word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word)
    return found


def is_plural(title: str) -> bool:
    """"Trail hiking boots size 44", "Trekking poles (pair)": the item's noun is plural, so "are"."""
    base = re.sub(r"\(.*?\)|\bsize\s+\S+", " ", title, flags=re.IGNORECASE)
    nouns = re.findall(r"[A-Za-z]{2,}", base)
    return bool(nouns) and nouns[-1].lower().endswith("s") and not nouns[-1].lower().endswith("ss")
