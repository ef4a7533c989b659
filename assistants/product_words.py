"""Product words in German, Spanish and French, read as the English words of the catalog's titles.

The shop's item titles are English ("Summit sleeping bag -10C"), and products are found by the
share of a title's words an email holds (assistants/context.py, assistants/request_refs.py). A German,
Spanish or French email names the same product in its own words ("Schlafsack", "saco de dormir",
"sac de couchage"): `english_product_words` returns the text with the English words of the product
kinds it names added, and "2 Personen", "2 personas", "2 personnes" read as the titles' "2-person".
The words are data (assistants/data/product_words.yaml), one line per kind of product.

`english_shop_words` does the same for the words of what the site's pages are about (a gift, a
price, the packing slip: assistants/data/shop_words.yaml), so "Steht der Preis auf dem Lieferschein?"
and "will he see what I paid?" find the page that says "Prices are never shown on the packing slip".
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

WORDS_FILE = Path(__file__).resolve().parent / "data" / "product_words.yaml"
SHOP_WORDS_FILE = Path(__file__).resolve().parent / "data" / "shop_words.yaml"
_PERSONS = re.compile(r"\b(\d{1,2})\s*-?\s*(?:personas?|personen|personnes?|persons?|people|pers\.?|plazas|places|plätze)"
                      r"(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=2)
def _table(path: Path = WORDS_FILE) -> tuple[re.Pattern, dict[str, tuple[str, ...]]]:
    """One pattern for every listed word (longest first), and each word's English words."""
    table = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    english_of: dict[str, tuple[str, ...]] = {}
    for english, words in table.items():
        for word in words or ():
            english_of[word.lower()] = (*english_of.get(word.lower(), ()), str(english))
    # A whole word, with a short ending ("Zelte", "tiendas", "réchauds").
    alternatives = "|".join(re.escape(w) for w in sorted(english_of, key=len, reverse=True))
    pattern = re.compile(rf"(?<![^\W\d_])({alternatives})[^\W\d_]{{0,3}}(?![^\W\d_])", re.IGNORECASE)
    return pattern, english_of


def _english_of(text: str, path: Path) -> list[str]:
    pattern, english_of = _table(path)
    return [english for match in pattern.finditer(text) for english in english_of.get(match.group(1).lower(), ())]


def english_product_words(text: str) -> str:
    """`text` and, after it, the English catalog words of the product words it holds in German,
    Spanish or French ("Habt ihr den Schlafsack?" gains "sleeping bag")."""
    added = _english_of(text, WORDS_FILE) + [f"{m.group(1)}-person" for m in _PERSONS.finditer(text)]
    return f"{text} {' '.join(dict.fromkeys(added))}" if added else text


def product_kinds() -> set[str]:
    """The English words of the kinds of product the shop sells ("tent", "sleeping bag")."""
    return {english for englishes in _table(WORDS_FILE)[1].values() for english in englishes}


def english_shop_words(text: str) -> str:
    """`text` and, after it, the site's English words for what it asks about in any of our languages
    ("was ich bezahlt habe" gains "price", "bordereau" gains "packing slip")."""
    added = _english_of(text, SHOP_WORDS_FILE)
    return f"{text} {' '.join(dict.fromkeys(added))}" if added else text


def title_match(title_words: set[str], words: set[str]) -> float:
    """The share of an item title's words a text holds; a bare number of the title ("Headlamp 300
    lumen", "boots size 42") counts when it is written but is not needed, so "the headlamp" names it."""
    needed = {w for w in title_words if not w.isdigit()} or title_words
    return len(title_words & words) / len(needed) if needed else 0.0
