"""Grouping customers' questions, and picking a group's question and answer: plain functions over text.

Leader clustering, one intent at a time: each question (oldest first) joins the group it is most
similar to, measured against the group's first few members ("exemplars", at most
MAX_EXEMPLARS, so a group does not drift by chaining), if that similarity reaches the threshold;
otherwise it starts a group of its own. Existing groups (the proposals already stored) are
offered first, so a question asked again lands in its proposal rather than in a new one.

Two measures, one behaviour:
- sentence vectors from the configured embedding backend (faq/vectors.py): cosine similarity
  >= VECTOR_SIMILARITY, so "Can I pay with PayPal?" meets "Do you accept PayPal payments?";
- word overlap when the backend is `lexical` (or none is registered): Jaccard similarity of the
  content words >= WORD_SIMILARITY. To stay fast on tens of thousands of questions, only the
  groups sharing a word of the question's *prefix* are scored (prefix filtering: words ordered
  rarest first, a prefix of n - ceil(t*n) + 1 words; two sets with Jaccard >= t always share a
  prefix word), which skips the common words every question holds.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

WORD_SIMILARITY = 0.4
# all-MiniLM-L6-v2 puts paraphrases of one shop question at 0.75-0.9 and different questions on
# the same topic ("where is my order" / "cancel my order") at 0.5-0.7.
VECTOR_SIMILARITY = 0.78
MAX_EXEMPLARS = 3

_WORD = re.compile(r"[\w'-]+")
STOPWORDS = frozenset({
    "the", "a", "an", "my", "i", "is", "it", "to", "of", "for", "and", "you", "your", "me", "do", "can", "hi",
    "hello", "thanks", "please", "on", "in", "be", "will", "what", "how", "when", "where", "are", "this", "that",
    "with", "have", "has", "was", "there", "just", "any", "our", "we", "would", "could", "thank", "hey", "dear",
    "regards", "best", "from", "not", "but", "does", "did", "about", "also", "get", "got", "which", "who", "yes",
})


def question_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


@dataclass(frozen=True)
class Group:
    """An existing group offered to new questions: its id and its exemplars' texts."""

    id: int
    intent: str
    texts: Sequence[str]


@dataclass(frozen=True)
class Question:
    key: int
    intent: str
    text: str


@dataclass
class Placement:
    """Where each question went: an existing group's id, or a new group's (negative) id."""

    group_of: dict[int, int] = field(default_factory=dict)
    mode: str = "words"

    def members(self) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for key, group in self.group_of.items():
            found.setdefault(group, []).append(key)
        return found


Vectors = Callable[[Sequence[str]], "tuple[np.ndarray | None, str]"]


def questions_place(*, groups: Sequence[Group], questions: Sequence[Question], vectors: Vectors | None = None,
                    word_similarity: float = WORD_SIMILARITY,
                    vector_similarity: float = VECTOR_SIMILARITY) -> Placement:
    """Place each question (in the order given: pass them oldest first) into a group."""
    if vectors is not None:
        texts = [t for g in groups for t in g.texts[:MAX_EXEMPLARS]] + [q.text for q in questions]
        matrix, name = vectors(texts)
        if matrix is not None:
            return _by_vectors(groups, questions, matrix, vector_similarity, name)
    return _by_words(groups, questions, word_similarity)


class _NewIds:
    def __init__(self) -> None:
        self.last = 0

    def __call__(self) -> int:
        self.last -= 1
        return self.last


def _by_words(groups: Sequence[Group], questions: Sequence[Question], threshold: float) -> Placement:
    group_sets = [(g, [question_words(t) for t in g.texts[:MAX_EXEMPLARS]]) for g in groups]
    question_sets = [(q, question_words(q.text)) for q in questions]
    frequency = Counter(w for _, sets in group_sets for s in sets for w in s)
    frequency.update(w for _, s in question_sets for w in s)
    rank = {w: i for i, w in enumerate(sorted(frequency, key=lambda w: (frequency[w], w)))}

    def prefix(words: frozenset[str]) -> list[str]:
        n = len(words)
        # The epsilon: 0.4 * 15 is 6.000000000000001 in floats, and a prefix one word short could miss a match.
        return sorted(words, key=rank.__getitem__)[:n - math.ceil(threshold * n - 1e-9) + 1]

    exemplars: list[tuple[int, frozenset[str]]] = []  # (group id, words)
    index: dict[tuple[str, str], list[int]] = {}  # (intent, prefix word) -> exemplar positions
    count: Counter[int] = Counter()

    def add(group_id: int, intent: str, words: frozenset[str]) -> None:
        if not words or count[group_id] >= MAX_EXEMPLARS:
            return
        count[group_id] += 1
        exemplars.append((group_id, words))
        for word in prefix(words):
            index.setdefault((intent, word), []).append(len(exemplars) - 1)

    for group, sets in group_sets:
        for words in sets:
            add(group.id, group.intent, words)
    placement, new_id = Placement(mode="words"), _NewIds()
    for question, words in question_sets:
        best, best_score = None, threshold
        candidates = {e for word in prefix(words) for e in index.get((question.intent, word), ())} if words else ()
        for e in sorted(candidates):  # the earliest exemplar wins a tie: placement never depends on set order
            score = jaccard(words, exemplars[e][1])
            if score > best_score or (score == best_score and best is None):
                best, best_score = e, score
        group_id = exemplars[best][0] if best is not None else new_id()
        placement.group_of[question.key] = group_id
        add(group_id, question.intent, words)
    return placement


_CHUNK = 256  # questions scored against the exemplars in one matrix product


def _by_vectors(groups: Sequence[Group], questions: Sequence[Question], matrix: np.ndarray, threshold: float,
                name: str) -> Placement:
    """The same leader clustering, one intent lane at a time, in chunks: a chunk's questions are scored
    against the exemplars known when it starts in one matrix product, and against the few exemplars
    its own earlier questions added one by one; so each question sees exactly what a one-by-one pass shows it."""
    dims = matrix.shape[1]
    position, lanes = 0, {}
    count: Counter[int] = Counter()
    for group in groups:
        lane = lanes.setdefault(group.intent, {"rows": [], "groups": [], "questions": []})
        for _ in group.texts[:MAX_EXEMPLARS]:
            if count[group.id] < MAX_EXEMPLARS:
                count[group.id] += 1
                lane["rows"].append(matrix[position])
                lane["groups"].append(group.id)
            position += 1
    for question in questions:
        lanes.setdefault(question.intent, {"rows": [], "groups": [], "questions": []})["questions"].append(
            (question.key, matrix[position]))
        position += 1
    placement, new_id = Placement(mode=f"vectors:{name}"), _NewIds()
    for lane in lanes.values():
        size = len(lane["rows"]) + len(lane["questions"])
        exemplars = np.zeros((max(size, 1), dims), dtype=np.float32)
        n = len(lane["rows"])
        if n:
            exemplars[:n] = np.asarray(lane["rows"], dtype=np.float32)
        owners = list(lane["groups"])
        items = lane["questions"]
        for start in range(0, len(items), _CHUNK):
            chunk = items[start:start + _CHUNK]
            known = n
            scores = np.asarray([v for _, v in chunk], dtype=np.float32) @ exemplars[:known].T if known else None
            for j, (key, vector) in enumerate(chunk):
                best, best_score = -1, -2.0
                if known:
                    best = int(np.argmax(scores[j]))
                    best_score = float(scores[j][best])
                if n > known:  # exemplars this chunk added: later in order, so they win only by scoring higher
                    recent = exemplars[known:n] @ vector
                    top = int(np.argmax(recent))
                    if float(recent[top]) > best_score:
                        best, best_score = known + top, float(recent[top])
                group_id = owners[best] if best >= 0 and best_score >= threshold else new_id()
                placement.group_of[key] = group_id
                if count[group_id] < MAX_EXEMPLARS:
                    count[group_id] += 1
                    exemplars[n] = vector
                    owners.append(group_id)
                    n += 1
    return placement


# --- a group's words: the question most like the others, and the answer agents gave -----------------

MEDOID_SAMPLE = 40  # the most central of the newest 40: O(n^2) word overlaps stays small


def most_central(texts: Sequence[str]) -> int:
    """The index of the text sharing the most words with the others (the first on a tie)."""
    sample = list(texts[:MEDOID_SAMPLE])
    if len(sample) <= 2:
        return 0
    sets = [question_words(t) for t in sample]
    scores = [sum(jaccard(s, other) for j, other in enumerate(sets) if j != i) for i, s in enumerate(sets)]
    return max(range(len(sample)), key=lambda i: (scores[i], -i))


def question_sentence(subject: str, body: str) -> str:
    """The first real question of an email ("...?"), or its subject (or its first words)."""
    for sentence in re.split(r"(?<=[?])\s+|\n", f"{subject}\n{body}"):
        if sentence.strip().endswith("?") and 8 <= len(sentence.strip()) <= 200:
            return sentence.strip()
    return (subject or body[:120]).strip()


def reply_core(final_text: str) -> str:
    """A reply without its greeting ("Hi Ada,") and its sign-off ("Best regards,\\nThe team")."""
    paragraphs = [p.strip() for p in final_text.strip().split("\n\n") if p.strip()]
    if paragraphs and len(paragraphs[0]) <= 40 and paragraphs[0].endswith(","):
        paragraphs = paragraphs[1:]
    if len(paragraphs) > 1 and len(paragraphs[-1]) <= 80 and "\n" in paragraphs[-1]:
        paragraphs = paragraphs[:-1]
    if len(paragraphs) > 1 and _THANKS.match(paragraphs[0]):
        paragraphs = paragraphs[1:]  # "Thank you for getting in touch.": no answer for the shop's FAQ page
    return "\n\n".join(paragraphs)


_THANKS = re.compile(r"^(?:thank you|thanks|many thanks)\b[^.!?\n]{0,50}[.!]$", re.IGNORECASE)
