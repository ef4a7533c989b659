"""Reads of curated knowledge: the published FAQ and its rendered page, and what feeds FAQ proposals."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string

from conversations.models import Approval
from faq.clustering import MAX_EXEMPLARS, MEDOID_SAMPLE, Group, Question, Vectors, questions_place
from faq.models import FaqEntry, FaqProposal, FaqProposalObservation, FaqPublication
from faq.vectors import question_vectors


def faq_publication_latest() -> FaqPublication | None:
    """The shop's FAQ page as last published (None before the first publication)."""
    return FaqPublication.objects.order_by("-published_at", "-id").first()


def faq_published() -> list[FaqEntry]:
    return list(FaqEntry.objects.filter(status=FaqEntry.Status.PUBLISHED).order_by("position", "id"))


def faq_page_render() -> tuple[str, str, int]:
    """(html, sha256 of the html, number of entries): the same entries always give the same bytes."""
    entries = faq_published()
    html = render_to_string("faq/page.html", {"entries": entries}).strip()
    return html, hashlib.sha256(html.encode()).hexdigest(), len(entries)


# --- faq_candidates: frequent questions (per intent) joined with the replies agents sent and edited -----

# Approved replies read per refresh: the newest ones not yet in a proposal (a reply asked once stays
# unplaced, and is read again next week with the new ones).
PROPOSAL_SCAN = 20_000
_BODY_CHARS = 1500  # a question is in the first lines; quoted history and signatures follow


@dataclass(frozen=True)
class Observed:
    """An approved reply and the inbound message it answered, read live (nothing of it is copied)."""

    approval_id: int
    message_id: int
    conversation_id: int
    customer_id: int | None
    intent: str
    subject: str
    body: str
    from_address: str
    from_name: str
    final_text: str
    edited: bool
    seen_at: datetime

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.body[:_BODY_CHARS]}"


_OBSERVED_FIELDS = ("pk", "draft__reply_to_id", "draft__reply_to__conversation_id",
                    "draft__reply_to__conversation__customer_id", "draft__intent", "draft__reply_to__subject",
                    "draft__reply_to__body", "draft__reply_to__from_address", "draft__reply_to__from_name",
                    "final_text", "action", "draft__reply_to__sent_at")


def _observed(rows: Iterable[tuple]) -> list[Observed]:
    return [Observed(approval_id=pk, message_id=message_id, conversation_id=conversation_id, customer_id=customer_id,
                     intent=intent or "general", subject=subject, body=body, from_address=from_address,
                     from_name=from_name, final_text=final_text, edited=action in ("edit", "written"), seen_at=sent_at)
            for (pk, message_id, conversation_id, customer_id, intent, subject, body, from_address, from_name,
                 final_text, action, sent_at) in rows]


def _sent_replies():
    """Replies agents let go out (approved, edited or written), to a message we still hold."""
    return (Approval.objects.filter(action__in=["approve", "edit", "written"], draft__reply_to__isnull=False,
                                    draft__reply_to__is_erased=False)
            .exclude(draft__status="undone").exclude(final_text=""))


def faq_observations_unplaced(*, scan: int = PROPOSAL_SCAN) -> list[Observed]:
    """The newest `scan` sent replies that no proposal holds yet, oldest first (the order they are placed in)."""
    placed = FaqProposalObservation.objects.filter(approval_id=OuterRef("pk"))
    rows = (_sent_replies().filter(~Exists(placed)).order_by("-taken_at", "-pk")
            .values_list(*_OBSERVED_FIELDS)[:scan])
    return sorted(_observed(rows), key=lambda o: (o.seen_at, o.approval_id))


def _numbered_observations(proposal_ids: list[int], order: list):
    return (FaqProposalObservation.objects.filter(proposal_id__in=proposal_ids, message__is_erased=False)
            .annotate(rank=Window(RowNumber(), partition_by=[F("proposal_id")], order_by=order)))


def faq_proposal_exemplars(*, proposal_ids: list[int]) -> dict[int, list[str]]:
    """The texts of each proposal's first questions (at most MAX_EXEMPLARS), what a new question is
    compared with; read live, so an erased message no longer counts."""
    found: dict[int, list[str]] = {}
    rows = (_numbered_observations(proposal_ids, [F("seen_at").asc(), F("pk").asc()]).filter(rank__lte=MAX_EXEMPLARS)
            .order_by("proposal_id", "rank").values_list("proposal_id", "message__subject", "message__body"))
    for proposal_id, subject, body in rows:
        found.setdefault(proposal_id, []).append(f"{subject}\n{body[:_BODY_CHARS]}")
    return found


def faq_proposal_sources(*, proposal_ids: list[int]) -> dict[int, list[Observed]]:
    """What a proposal's text is composed from: its newest observations, edited replies first (at most
    MEDOID_SAMPLE of them), with the message and the reply read live."""
    ranked = (_numbered_observations(proposal_ids, [F("edited").desc(), F("seen_at").desc(), F("pk").desc()])
              .filter(rank__lte=MEDOID_SAMPLE).values_list("proposal_id", "approval_id"))
    owner = dict((approval_id, proposal_id) for proposal_id, approval_id in ranked)
    rows = (Approval.objects.filter(pk__in=list(owner)).exclude(final_text="")
            .values_list(*_OBSERVED_FIELDS))
    found: dict[int, list[Observed]] = {}
    for observed in sorted(_observed(rows), key=lambda o: (not o.edited, -o.seen_at.timestamp(), -o.approval_id)):
        found.setdefault(owner[observed.approval_id], []).append(observed)
    return found


@dataclass
class FaqCandidates:
    """The seed's `views/faq_candidates`: questions asked again and again (grouped per intent), joined
    with the replies agents sent for them, edited ones counted apart.

    `joins`: new replies that belong to a proposal already stored (by proposal id); `new`: groups of
    at least `min_frequency` replies that no proposal holds, most asked first (then most edited,
    then most recent); `unplaced`: replies seen once so far, kept for the next refresh."""

    mode: str
    joins: dict[int, list[Observed]] = field(default_factory=dict)
    new: list[list[Observed]] = field(default_factory=list)
    unplaced: int = 0


def faq_candidates(*, scan: int = PROPOSAL_SCAN, min_frequency: int = 2,
                   vectors: Vectors | None = question_vectors) -> FaqCandidates:
    observed = faq_observations_unplaced(scan=scan)
    proposals = list(FaqProposal.objects.order_by("pk").values_list("pk", "intent"))
    exemplars = faq_proposal_exemplars(proposal_ids=[pk for pk, _ in proposals]) if observed else {}
    groups = [Group(id=pk, intent=intent, texts=exemplars[pk]) for pk, intent in proposals if exemplars.get(pk)]
    placement = questions_place(groups=groups, questions=[Question(o.approval_id, o.intent, o.text) for o in observed],
                                vectors=vectors)
    by_key = {o.approval_id: o for o in observed}
    result = FaqCandidates(mode=placement.mode)
    for group_id, keys in placement.members().items():
        members = [by_key[key] for key in keys]
        if group_id > 0:
            result.joins[group_id] = members
        elif len(members) >= min_frequency:
            result.new.append(members)
        else:
            result.unplaced += len(members)
    result.new.sort(key=lambda members: (-len(members), -sum(o.edited for o in members),
                                         -max(o.seen_at for o in members).timestamp()))
    return result
