"""Terms of a text, and whether a customer's question is the question an FAQ entry answers.

A light stemmer for the reply languages (en, de, es, fr): words lower-cased, accents dropped,
function words left out ("do", "you", "kann", "puedo", "est-ce"), one common ending cut ("wrapping",
"wrapped" and "wraps" are "wrap"; "students" is "student"; "payment" is "pay"; "estudiantes" and
"estudiante" are "estudiant"). Light on purpose: it only has to tell that two short questions ask
the same thing, with no model and no index.

`faq_match` is how the drafter tells that a published FAQ entry answers a question: the entry's
question must be at least half covered by the customer's terms, and the two must agree on most of
what the customer asked (`faq_match_score`, an F1 of both sides' coverage).
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Words that say nothing about what is asked: pronouns, articles, auxiliaries, question words, politeness,
# and the verbs every FAQ question opens with ("do you offer", "can I get", "is it possible").
STOPWORDS = frozenset(
    """
a about after again all also am an and any anything are as at be been before being but by can could did do does
doing for from get got give given had has have having hello hey hi how i if in into is it its itself just know
let like many may me might more most much must my myself need no not now of off offer offered offering offers on once
one only or other our ours out over per please possible available provide really same should so some something such
than thank thanks that the their them then there these they this those to too up us use very want was way we
well were what when where which while who why will with would yes yet you your yours dear regards cheers
aber alle als am an auch auf aus bei bin bis bitte da das dass dein deine dem den der des die doch du ein eine
einen einer es für gibt habe haben hallo hat ich ihr ihre im in ist ja kann kannst können mein meine mich mir
mit möchte nach nicht noch nur oder sie sind so und uns unser vom von vor war was wie wir wird zu zum zur danke
al algo algún alguna como con cual cuál de del el ella en es esta este estoy está hay hola la las le lo los me mi
mis muy no nos o para pero por puedo puede qué que se si sí son su sus también te tengo tiene tienen un una uno
unos usted vosotros y ya gracias
au aux avec bonjour ce ces cette dans de des du elle en est et être il ils je la le les leur ma mais me merci
mes mon ne nous on ou où par pas peut peux pour pouvez puis quand que quel quelle qui sa se ses son sur ta te
tes ton tu un une vos votre vous y est-ce
""".split()
)

# Endings cut from a word, longest first; a stem keeps at least three letters.
_SUFFIXES = tuple(
    sorted(
        """
ations ation ements ement ments ment ings ing ies ied ed es s e ly ness
ungen ung en
ciones cion mente
euses euse eux
""".split(),
        key=len,
        reverse=True,
    )
)
_REPLACE = {"ies": "y", "ied": "y"}
_DOUBLED = re.compile(r"([bdfgklmnprtz])\1$")
_MIN_STEM = 3


def _plain(text: str) -> str:
    """Lower case, accents dropped ("ción" -> "cion", "für" -> "fur"), so both sides spell alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_PLAIN_STOPWORDS = frozenset(_plain(w) for w in STOPWORDS)


def stem(word: str) -> str:
    """One common ending cut, a doubled final consonant undone ("wrapp" -> "wrap")."""
    if word.isdigit() or len(word) <= _MIN_STEM:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            if suffix == "s" and word.endswith("ss"):
                continue  # "class", "address"
            word = word[: -len(suffix)] + _REPLACE.get(suffix, "")
            break
    return _DOUBLED.sub(r"\1", word) if len(word) > _MIN_STEM else word


def terms(text: str) -> set[str]:
    """The stemmed content words of a text."""
    found = set()
    for word in _WORD.findall(_plain(text)):
        if len(word) < 2 or word in _PLAIN_STOPWORDS:
            continue
        found.add(stem(word))
    return found


FAQ_MATCH_MIN_SCORE = 0.55
FAQ_MATCH_MIN_COVERAGE = 0.5  # of the entry's question terms


def faq_match_score(text: str, question: str, answer: str = "") -> float:
    """How well an FAQ entry answers `text`, from 0 to 1; 0 when its question is less than half covered.

    Recall: the share of the entry's question terms the customer used. Precision: the share of the
    customer's terms the entry speaks of (its question or its answer). The score is their F1."""
    asked, entry_question = terms(text), terms(question)
    if not asked or not entry_question:
        return 0.0
    recall = len(asked & entry_question) / len(entry_question)
    if recall < FAQ_MATCH_MIN_COVERAGE:
        return 0.0
    precision = len(asked & (entry_question | terms(answer))) / len(asked)
    return 2 * precision * recall / (precision + recall)


def faq_match(text: str, question: str, answer: str = "") -> bool:
    """Whether the entry (question, answer) answers `text`: a score of 0.55 or more (see faq_match_score)."""
    return faq_match_score(text, question, answer) >= FAQ_MATCH_MIN_SCORE
