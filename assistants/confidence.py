"""A draft's confidence, and the reasons for it that agents read on the review page.

Agents sort their queue by this number, so it must mean something: a high one (>= 0.8) is a
draft that can go as it is, one below 0.5 needs a person. It is made of:

- coverage: each request of the email answered by a sourced fact, or not. A request the sources
  do not answer (a wholesale enquiry, a refund nobody has issued, an order the sender does not
  own) leaves the draft below 0.5, however sure the rest is;
- the classifier's probability of each request's intent: an answer to a request read wrongly is
  a wrong answer, so with every request answered the confidence rises with the least sure one;
- the fact check: a number, tracking number, price or date no source holds caps it at 0.3;
- the language: an email in a language we do not reply in gets an English draft, capped at 0.4;
- an LLM's answer in plain text instead of the reply schema (per request: answer, source ids):
  its coverage is unknown, so it is capped at 0.4 (`unstructured`);
- retrieval or provider failures, a cut or empty email, an agent's instruction the drafter
  cannot follow: each caps it, with its reason.

Triage comes before all this: an email triage sets apart gets no draft at all.
The constants were set on goldens/qa.yaml (never on goldens/heldout.yaml): `run_goldens` prints
the share of drafts that pass per confidence bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

HIGH = 0.8
MEDIUM = 0.5
# Every request answered: the confidence runs from ANSWERED_FLOOR (the classifier at chance) to
# ANSWERED_FLOOR + ANSWERED_SPAN (the classifier certain of every request).
ANSWERED_FLOOR = 0.5
ANSWERED_SPAN = 0.45
# Some request unanswered: at most NEEDS_PERSON_MAX, less the more of them a person must take.
NEEDS_PERSON_MAX = 0.45
NOTHING_ASKED = 0.3

CAP_UNSUPPORTED = 0.3
CAP_LANGUAGE = 0.4
CAP_UNSTRUCTURED = 0.4
CAP_DEGRADED = 0.3


BUCKETS_ORDER = ("low", "medium", "high")


def bucket(value: float) -> str:
    return "high" if value >= HIGH else "medium" if value >= MEDIUM else "low"


def from_coverage(coverage: Sequence[Any], requests: Sequence[Any], intent: Any = None) -> float:
    """The confidence a provider's coverage earns, before any cap."""
    if not coverage:
        return NOTHING_ASKED
    answered = [c for c in coverage if _get(c, "answered")]
    if len(answered) < len(coverage):
        return round(0.2 + (NEEDS_PERSON_MAX - 0.2) * len(answered) / len(coverage), 3)
    probabilities = [r.probability for r in requests] or ([intent.confidence] if intent is not None else [0.5])
    return round(ANSWERED_FLOOR + ANSWERED_SPAN * min(probabilities), 3)


def _get(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


@dataclass
class Reasons:
    """Why a draft has its confidence: stored on the model run (evaluation.reasons), shown on the
    review page, returned by the API."""

    answered: list[str] = field(default_factory=list)
    needs_person: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    caps: list[dict[str, Any]] = field(default_factory=list)  # [{"reason": "language", "cap": 0.4, "detail": "it"}]
    classifier: float | None = None  # the least sure request's probability
    language: str = "en"

    def cap(self, value: float, *, limit: float, reason: str, detail: str = "") -> float:
        self.caps.append({"reason": reason, "cap": limit, "detail": detail})
        return min(value, limit)

    @property
    def summary(self) -> str:
        parts = []
        if self.answered:
            parts.append("answered: " + ", ".join(dict.fromkeys(self.answered)))
        if self.needs_person:
            parts.append("needs a person: " + ", ".join(dict.fromkeys(self.needs_person)))
        parts += [f"{c['reason']}" + (f" ({c['detail']})" if c.get("detail") else "") for c in self.caps]
        return "; ".join(parts) or "nothing asked"

    def as_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "answered": list(dict.fromkeys(self.answered)),
                "needs_person": list(dict.fromkeys(self.needs_person)), "sources": list(dict.fromkeys(self.sources)),
                "caps": self.caps, "classifier": self.classifier, "language": self.language}


def reasons_from(coverage: Sequence[Any], requests: Sequence[Any], *, language: str,
                 cited: Sequence[str] = ()) -> Reasons:
    reasons = Reasons(language=language)
    for item in coverage:
        (reasons.answered if _get(item, "answered") else reasons.needs_person).append(_get(item, "topic"))
        reasons.sources += list(_get(item, "sources"))
    reasons.sources += list(cited)
    if requests:
        reasons.classifier = round(min(r.probability for r in requests), 3)
    return reasons
