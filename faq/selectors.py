"""Reads of curated knowledge: the published FAQ and its rendered page."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.template.loader import render_to_string

from customers.selectors import customer_known_facts, customers_known_facts
from faq.models import FaqEntry
from omnichannel.pii_scrub import pii_scrub


def faq_published() -> list[FaqEntry]:
    return list(FaqEntry.objects.filter(status=FaqEntry.Status.PUBLISHED).order_by("position", "id"))


def faq_page_render() -> tuple[str, str, int]:
    """(html, sha256 of the html, number of entries): the same entries always give the same bytes."""
    entries = faq_published()
    html = render_to_string("faq/page.html", {"entries": entries}).strip()
    return html, hashlib.sha256(html.encode()).hexdigest(), len(entries)


# --- faq_candidates: frequent questions with the answers agents sent ---------------------------------

_WORD = re.compile(r"[\w'-]+")
_STOPWORDS = {"the", "a", "an", "my", "i", "is", "it", "to", "of", "for", "and", "you", "your", "me", "do", "can",
              "hi", "hello", "thanks", "please", "on", "in", "be", "will", "what", "how", "when", "where"}


@dataclass(frozen=True)
class FaqCandidate:
    intent: str
    question: str
    answer: str
    frequency: int
    last_asked: datetime
    approval_ids: list[int] = field(default_factory=list)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 2}


def _similar(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _question_of(subject: str, body: str) -> str:
    for sentence in re.split(r"(?<=[?])\s+|\n", f"{subject}\n{body}"):
        if sentence.strip().endswith("?") and 8 <= len(sentence.strip()) <= 200:
            return sentence.strip()
    return (subject or body[:120]).strip()


def _answer_of(final_text: str) -> str:
    paragraphs = [p.strip() for p in final_text.strip().split("\n\n") if p.strip()]
    if paragraphs and len(paragraphs[0]) <= 40 and paragraphs[0].endswith(","):
        paragraphs = paragraphs[1:]  # the greeting
    if len(paragraphs) > 1 and len(paragraphs[-1]) <= 80 and "\n" in paragraphs[-1]:
        paragraphs = paragraphs[:-1]  # the sign-off
    return "\n\n".join(paragraphs)


def faq_candidates(*, limit: int = 10, similarity: float = 0.4, min_frequency: int = 2) -> list[FaqCandidate]:
    """Frequent inbound questions (grouped by intent and by word overlap) with the best reply agents
    sent for them (edited replies first, then the newest), ranked by frequency then recency,
    leaving out questions an FAQ entry already covers."""
    from conversations.models import Approval  # read-only: what agents sent

    approvals = (Approval.objects.filter(action__in=["approve", "edit"], draft__reply_to__isnull=False)
                 .exclude(final_text="").select_related("draft__reply_to__conversation", "draft__conversation")
                 .order_by("-taken_at")[:5000])
    clusters: list[dict] = []
    for approval in approvals:
        message = approval.draft.reply_to
        words = _words(f"{message.subject} {message.body}")
        intent = approval.draft.intent or "general"
        home = next((c for c in clusters if c["intent"] == intent and _similar(c["words"], words) >= similarity), None)
        if home is None:
            home = {"intent": intent, "words": words, "items": []}
            clusters.append(home)
        home["items"].append((approval, message))
    covered = [_words(q) for q in FaqEntry.objects.exclude(status=FaqEntry.Status.ARCHIVED)
               .values_list("question", flat=True)]
    candidates, everyone = [], customers_known_facts()
    for cluster in clusters:
        if len(cluster["items"]) < min_frequency:
            continue
        best_approval, _ = sorted(cluster["items"], key=lambda item: (item[0].action != "edit",
                                                                      -item[0].taken_at.timestamp()))[0]
        newest_message = max((m for _, m in cluster["items"]), key=lambda m: m.sent_at)
        question = _question_of(newest_message.subject, newest_message.body)
        if any(_similar(_words(question), faq) >= similarity for faq in covered):
            continue
        # One customer's question and the reply written to them: their facts become placeholders
        # ([tracking number], [address]...) before anyone sees them as a proposal for a public page.
        known = everyone | customer_known_facts(
            customer_id=newest_message.conversation.customer_id, email=newest_message.from_address,
            name=newest_message.from_name) | customer_known_facts(
            customer_id=best_approval.draft.conversation.customer_id, email=best_approval.draft.reply_to.from_address,
            name=best_approval.draft.reply_to.from_name)
        candidates.append(FaqCandidate(
            intent=cluster["intent"], question=pii_scrub(question, known=known),
            answer=pii_scrub(_answer_of(best_approval.final_text), known=known),
            frequency=len(cluster["items"]), last_asked=newest_message.sent_at,
            approval_ids=[a.pk for a, _ in cluster["items"]]))
    candidates.sort(key=lambda c: (-c.frequency, -c.last_asked.timestamp()))
    return candidates[:limit]
