"""FAQ proposals: refreshed from the replies agents sent, reviewed by Ops, published to the shop.

proposed -> approved (an FAQ entry is drafted from it, Ops may have edited the text) -> published
(the entry is published: the shop's FAQ page is rebuilt), or dismissed with a reason. A dismissed
proposal keeps its replies, so the same question never comes back as a new proposal; it comes
back itself (status proposed, `faq_proposal.resurfaced`) once FAQ_RESURFACE_AFTER more replies
have joined it.

What is stored is scrubbed: the question and the suggested answer pass through `pii_scrub` with
every customer's known facts and those of the customers they came from; observations hold ids and
dates only. So an erasure finds no personal data here; `faq_proposals_erase_customer` also
rewrites the text of proposals composed from an erased customer's conversation (belt and braces:
the scrubber cannot know a name nobody gave us) and drops those observations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from customers.selectors import customers_known_facts, customers_known_facts_each
from faq.clustering import Group, Question, Vectors, most_central, question_sentence, questions_place, reply_core
from faq.models import FaqEntry, FaqProposal, FaqProposalObservation
from faq.selectors import PROPOSAL_SCAN, Observed, faq_candidates, faq_proposal_sources
from faq.services import faq_entry_check_public, faq_entry_create, faq_entry_edit, faq_entry_publish, faq_entry_unpublish
from faq.vectors import question_vectors
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError, StateConflict
from omnichannel.pii_scrub import KINDS, KnownFacts, pii_scrub

# pg_advisory_xact_lock key of the refresh ("faqp" in ASCII): one refresh at a time.
_REFRESH_LOCK = 0x66617170


@dataclass
class RefreshReport:
    mode: str = "words"
    created: list[int] = field(default_factory=list)
    grown: dict[int, int] = field(default_factory=dict)  # proposal id -> replies added
    resurfaced: list[int] = field(default_factory=list)
    covered: int = 0  # groups an FAQ entry already answers
    unplaced: int = 0  # replies to questions asked once so far
    skipped: str = ""  # why nothing was done (another refresh running)

    @property
    def observations(self) -> int:
        return sum(self.grown.values())


# --- composing a proposal's text -------------------------------------------------------------------

class Scrubber:
    """Scrubs text from one customer's conversation: their own facts (first name too), then every customer's.

    Two passes rather than one union of facts: the table of every customer's facts is built once
    (KnownFacts caches it per instance), where a union would build it again for each text. Each
    sender's own facts are read in one batch (`prefetch`) for all the texts about to be scrubbed."""

    def __init__(self) -> None:
        self.everyone = customers_known_facts()
        self._own: dict[tuple, KnownFacts] = {}

    @staticmethod
    def _sender(observed: Observed) -> tuple:
        return observed.customer_id, observed.from_address, observed.from_name

    def prefetch(self, observed: list[Observed]) -> None:
        missing = {self._sender(o) for o in observed} - set(self._own)
        if missing:
            self._own.update(customers_known_facts_each(senders=missing))

    def __call__(self, text: str, observed: Observed) -> str:
        self.prefetch([observed])
        return pii_scrub(pii_scrub(text, known=self._own[self._sender(observed)]), known=self.everyone)


@dataclass(frozen=True)
class _Picked:
    asked: Observed
    question: str
    answered: Observed
    answer: str


def _pick(sources: list[Observed]) -> _Picked:
    """The question most like the others, and the answer most like the others among the edited replies
    (all replies when none was edited), not yet scrubbed."""
    questions = [question_sentence(o.subject, o.body) for o in sources]
    asked = most_central(questions)
    replies = [o for o in sources if o.edited] or sources
    cores = [reply_core(o.final_text) for o in replies]
    pick = most_central(cores)
    return _Picked(sources[asked], questions[asked], replies[pick], cores[pick] or replies[pick].final_text.strip())


def proposals_text(groups: list[list[Observed]], *, scrub: Scrubber) -> list[tuple[str, str]]:
    """(question, answer) for each group of replies, scrubbed of the customers' facts."""
    picked = [_pick(sources) for sources in groups]
    scrub.prefetch([p.asked for p in picked] + [p.answered for p in picked])
    return [(scrub(p.question, p.asked)[:500], scrub(p.answer, p.answered)) for p in picked]


def proposal_text(sources: list[Observed], *, scrub: Scrubber) -> tuple[str, str]:
    return proposals_text([sources], scrub=scrub)[0]


def placeholders_in(text: str) -> list[str]:
    """The kinds of customer facts the scrubber took out of this text and left a placeholder for."""
    return sorted(kind for placeholder, kind in KINDS.items() if placeholder in text)


# --- refresh ---------------------------------------------------------------------------------------

def _single_flight() -> bool:
    """One refresh at a time (Postgres: an advisory lock held to the end of the transaction; SQLite
    allows one writer anyway)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_REFRESH_LOCK])
        return bool(cursor.fetchone()[0])


def _covered(questions: list[str], vectors: Vectors | None) -> list[bool]:
    """Whether an FAQ entry (draft or published, from a proposal or not) already asks each question."""
    entries = [Group(id=pk, intent="*", texts=[question]) for pk, question in
               FaqEntry.objects.exclude(status=FaqEntry.Status.ARCHIVED).values_list("pk", "question")]
    if not entries or not questions:
        return [False] * len(questions)
    # Each question alone against the entries: one question of this batch must not cover another.
    placement = questions_place(groups=entries, questions=[Question(i, "*", q) for i, q in enumerate(questions)],
                                vectors=vectors)
    # A question another of this batch joined is placed in that question's new group (negative id): not covered.
    return [placement.group_of[i] > 0 for i in range(len(questions))]


def _observation(proposal_id: int, observed: Observed) -> FaqProposalObservation:
    return FaqProposalObservation(proposal_id=proposal_id, approval_id=observed.approval_id,
                                  message_id=observed.message_id, conversation_id=observed.conversation_id,
                                  edited=observed.edited, seen_at=observed.seen_at)


def _recount(proposal_ids: list[int]) -> dict[int, dict]:
    return {row["proposal_id"]: row for row in FaqProposalObservation.objects.filter(proposal_id__in=proposal_ids)
            .values("proposal_id").annotate(n=Count("id"), edited=Count("id", filter=Q(edited=True)),
                                            first=Min("seen_at"), last=Max("seen_at"))}


def faq_proposals_refresh(*, acting_user=None, scan: int = PROPOSAL_SCAN, min_sources: int = 2,
                          vectors: Vectors | None = question_vectors) -> RefreshReport:
    """Place the replies sent since the last refresh: into the proposal their question belongs to, or
    into new proposals (groups of `min_sources` replies or more that no FAQ entry answers yet).
    Idempotent: a reply is in at most one proposal (unique), and a second run finds nothing new.

    The grouping (and the embedding of the questions) happens before the transaction; the writes
    happen under a lock, after checking no other refresh placed anything meanwhile (else it reads again)."""
    before = FaqProposalObservation.objects.aggregate(last=Max("pk"))["last"]
    candidates = faq_candidates(scan=scan, min_frequency=min_sources, vectors=vectors)
    with transaction.atomic():
        if not _single_flight():
            return RefreshReport(mode=candidates.mode, skipped="another refresh of FAQ proposals is running")
        if FaqProposalObservation.objects.aggregate(last=Max("pk"))["last"] != before:
            candidates = faq_candidates(scan=scan, min_frequency=min_sources, vectors=vectors)
        return _refresh_write(candidates, acting_user=acting_user, vectors=vectors)


def _refresh_write(candidates, *, acting_user, vectors: Vectors | None) -> RefreshReport:
    report = RefreshReport(mode=candidates.mode, unplaced=candidates.unplaced)
    scrub = Scrubber()
    texts = proposals_text(candidates.new, scrub=scrub)
    covered = _covered([question for question, _ in texts], vectors)
    observations, now, created = [], timezone.now(), []
    for members, (question, answer), is_covered in zip(candidates.new, texts, covered, strict=True):
        if is_covered:
            report.covered += 1
            report.unplaced += len(members)
            continue
        created.append((FaqProposal(intent=members[0].intent[:40], question=question, answer=answer or "-",
                                    source_count=len(members), edited_count=sum(o.edited for o in members),
                                    first_seen_at=min(o.seen_at for o in members),
                                    last_seen_at=max(o.seen_at for o in members)), members))
    # One INSERT per 500 proposals (Postgres returns their ids); the fields were bounded above.
    FaqProposal.objects.bulk_create([proposal for proposal, _ in created], batch_size=500)
    for proposal, members in created:
        report.created.append(proposal.pk)
        observations += [_observation(proposal.pk, o) for o in members]
    for proposal_id, members in candidates.joins.items():
        observations += [_observation(proposal_id, o) for o in members]
    FaqProposalObservation.objects.bulk_create(observations, batch_size=1000)
    for observation in observations:
        report.grown[observation.proposal_id] = report.grown.get(observation.proposal_id, 0) + 1
    for proposal, _ in created:
        audit_log_write(event_type="faq_proposal.created", acting_user=acting_user, integration="faq", obj=proposal,
                        payload={"intent": proposal.intent, "source_count": proposal.source_count})
    # Proposals created above have their counts already; the ones that grew are counted again.
    touched = sorted(candidates.joins)
    counts = _recount(touched)
    proposals = list(FaqProposal.objects.select_for_update().filter(pk__in=touched).order_by("pk"))
    rewrite = [p.pk for p in proposals if p.status == FaqProposal.Status.PROPOSED and not p.edited_by_ops]
    sources = faq_proposal_sources(proposal_ids=rewrite) if rewrite else {}
    rewritten = dict(zip(sources, proposals_text(list(sources.values()), scrub=scrub), strict=True))
    for proposal in proposals:
        row = counts[proposal.pk]
        proposal.source_count, proposal.edited_count = row["n"], row["edited"]
        proposal.first_seen_at, proposal.last_seen_at, proposal.updated_at = row["first"], row["last"], now
        if proposal.pk in rewritten:  # grown: the text follows the replies (unless Ops wrote it)
            proposal.question, proposal.answer = rewritten[proposal.pk]
        if (proposal.status == FaqProposal.Status.DISMISSED
                and proposal.source_count >= proposal.dismissed_source_count + settings.FAQ_RESURFACE_AFTER):
            proposal.status = FaqProposal.Status.PROPOSED
            report.resurfaced.append(proposal.pk)
    FaqProposal.objects.bulk_update(proposals, ["source_count", "edited_count", "first_seen_at", "last_seen_at",
                                                "updated_at", "question", "answer", "status"], batch_size=500)
    for proposal in proposals:
        if proposal.pk in report.resurfaced:
            audit_log_write(event_type="faq_proposal.resurfaced", acting_user=acting_user, integration="faq",
                            obj=proposal, payload={"source_count": proposal.source_count,
                                                   "dismissed_source_count": proposal.dismissed_source_count,
                                                   "dismissed_reason": proposal.dismissed_reason})
    audit_log_write(event_type="faq_proposals.refreshed", acting_user=acting_user, integration="faq", payload={
        "mode": report.mode, "created": len(report.created), "grown": len(report.grown) - len(report.created),
        "observations": report.observations, "resurfaced": report.resurfaced, "covered": report.covered,
        "unplaced": report.unplaced})
    return report


# --- Ops' decisions ----------------------------------------------------------------------------------

def _locked(proposal_id: int) -> FaqProposal:
    return FaqProposal.objects.select_for_update().get(pk=proposal_id)


def _apply_text(proposal: FaqProposal, *, question: str | None, answer: str | None) -> list[str]:
    wanted = {"question": (question if question is not None else proposal.question).strip(),
              "answer": (answer if answer is not None else proposal.answer).strip()}
    if not wanted["question"] or not wanted["answer"]:
        raise ApplicationError("A proposal needs a question and an answer.")
    changed = [name for name, value in wanted.items() if getattr(proposal, name) != value]
    for name in changed:
        setattr(proposal, name, wanted[name])
    if changed:
        proposal.edited_by_ops = True
    return changed


def _check_public(proposal: FaqProposal) -> None:
    holes = placeholders_in(f"{proposal.question}\n{proposal.answer}")
    if holes:
        raise ApplicationError(
            f"This answer still holds placeholders for one customer's facts ({', '.join(holes)}): rewrite it so it "
            "answers every customer before it goes on the shop's public FAQ page.", extra={"placeholders": holes})
    faq_entry_check_public(question=proposal.question, answer=proposal.answer)


@transaction.atomic
def faq_proposal_edit(*, proposal_id: int, question: str, answer: str, acting_user=None) -> FaqProposal:
    """Ops' own words for a proposal; refreshes no longer rewrite it. An approved proposal's FAQ entry follows."""
    proposal = _locked(proposal_id)
    if proposal.status not in (FaqProposal.Status.PROPOSED, FaqProposal.Status.APPROVED):
        raise StateConflict(f"A {proposal.status} proposal is not edited here"
                            + (": edit its FAQ entry." if proposal.status == FaqProposal.Status.PUBLISHED else "."))
    changed = _apply_text(proposal, question=question, answer=answer)
    if not changed:
        return proposal
    proposal.full_clean()
    proposal.save(update_fields=[*changed, "edited_by_ops", "updated_at"])
    audit_log_write(event_type="faq_proposal.edited", payload={"fields": changed}, acting_user=acting_user,
                    obj=proposal)
    if proposal.faq_entry_id:
        entry = proposal.faq_entry
        faq_entry_edit(entry_id=entry.pk, question=proposal.question, answer=proposal.answer,
                       source_intent=entry.source_intent, position=entry.position, acting_user=acting_user)
    return proposal


@transaction.atomic
def faq_proposal_approve(*, proposal_id: int, acting_user=None, question: str | None = None,
                         answer: str | None = None) -> FaqProposal:
    """Accept a proposal (with Ops' edits, if any): its FAQ entry is drafted, not yet on the shop's page."""
    proposal = _locked(proposal_id)
    if proposal.status in (FaqProposal.Status.APPROVED, FaqProposal.Status.PUBLISHED) and question is None \
            and answer is None:
        return proposal  # approved already: a second click changes nothing
    if proposal.status != FaqProposal.Status.PROPOSED:
        raise StateConflict(f"This proposal is {proposal.status}; only a proposed one can be approved.")
    changed = _apply_text(proposal, question=question, answer=answer)
    proposal.full_clean()
    entry = faq_entry_create(question=proposal.question, answer=proposal.answer, source_intent=proposal.intent,
                             acting_user=acting_user)
    proposal.faq_entry, proposal.status = entry, FaqProposal.Status.APPROVED
    proposal.approved_at, proposal.decided_by = timezone.now(), acting_user if getattr(acting_user, "pk", None) else None
    proposal.save()
    audit_log_write(event_type="faq_proposal.approved", acting_user=acting_user, obj=proposal,
                    payload={"faq_entry_id": entry.pk, "edited": changed})
    return proposal


@transaction.atomic
def faq_proposal_publish(*, proposal_id: int, acting_user=None, question: str | None = None,
                         answer: str | None = None) -> FaqProposal:
    """Approve (if not yet) and publish: the FAQ entry goes on the shop's page (`rebuild_faq_page`, after
    commit). Refused, with nothing changed, while the text holds a customer's facts or a placeholder for one."""
    proposal = _locked(proposal_id)
    if proposal.status == FaqProposal.Status.PUBLISHED:
        return proposal
    if proposal.status == FaqProposal.Status.DISMISSED:
        raise StateConflict("This proposal was dismissed; it comes back for review when it grows.")
    changed = _apply_text(proposal, question=question, answer=answer)
    _check_public(proposal)
    proposal.full_clean()
    if proposal.status == FaqProposal.Status.PROPOSED or proposal.faq_entry_id is None:
        proposal.status = FaqProposal.Status.PROPOSED  # an approved one whose entry was deleted: drafted again
        proposal.save()
        proposal = faq_proposal_approve(proposal_id=proposal.pk, acting_user=acting_user)
    else:
        proposal.save()
        entry = proposal.faq_entry
        faq_entry_edit(entry_id=entry.pk, question=proposal.question, answer=proposal.answer,
                       source_intent=entry.source_intent, position=entry.position, acting_user=acting_user)
    proposal.faq_entry = faq_entry_publish(entry_id=proposal.faq_entry_id, acting_user=acting_user)
    proposal.status, proposal.published_at = FaqProposal.Status.PUBLISHED, timezone.now()
    proposal.decided_by = acting_user if getattr(acting_user, "pk", None) else None
    proposal.save(update_fields=["status", "published_at", "decided_by", "updated_at"])
    audit_log_write(event_type="faq_proposal.published", acting_user=acting_user, obj=proposal,
                    payload={"faq_entry_id": proposal.faq_entry_id, "edited": changed})
    return proposal


@transaction.atomic
def faq_proposal_dismiss(*, proposal_id: int, reason: str, acting_user=None) -> FaqProposal:
    """Not an FAQ (one customer's case, a question the shop will not answer publicly...): it stays
    dismissed until FAQ_RESURFACE_AFTER more replies join it. An approved proposal's draft entry is archived."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why this proposal is dismissed: it is shown if the question comes back.")
    proposal = _locked(proposal_id)
    if proposal.status == FaqProposal.Status.PUBLISHED:
        raise StateConflict("This proposal is published; take its FAQ entry off the page instead.")
    if proposal.status == FaqProposal.Status.DISMISSED:
        return proposal
    if proposal.faq_entry_id and proposal.faq_entry.status != FaqEntry.Status.ARCHIVED:
        proposal.faq_entry = faq_entry_unpublish(entry_id=proposal.faq_entry_id, status=FaqEntry.Status.ARCHIVED,
                                                 acting_user=acting_user)
    proposal.status, proposal.dismissed_reason, proposal.dismissed_at = (
        FaqProposal.Status.DISMISSED, reason[:2000], timezone.now())
    proposal.dismissed_source_count = proposal.source_count
    proposal.decided_by = acting_user if getattr(acting_user, "pk", None) else None
    proposal.full_clean()
    proposal.save()
    audit_log_write(event_type="faq_proposal.dismissed", acting_user=acting_user, obj=proposal,
                    payload={"reason": proposal.dismissed_reason, "source_count": proposal.source_count})
    return proposal


@transaction.atomic
def faq_proposals_erase_customer(*, conversation_ids: list[int], acting_user=None,
                                 integration: str | None = None) -> int:
    """For a customer's erasure (customers/services_erasure.py), after their messages are blanked:
    the replies from their conversations leave every proposal, and the text of a proposal not yet
    decided is composed again from the replies left (a proposal left with none is deleted). Ops'
    own text and published entries stay: they were checked for customer data when written.
    Returns the number of proposals touched."""
    affected = sorted(set(FaqProposalObservation.objects.filter(conversation_id__in=conversation_ids)
                          .values_list("proposal_id", flat=True)))
    if not affected:
        return 0
    FaqProposalObservation.objects.filter(conversation_id__in=conversation_ids).delete()
    proposals = list(FaqProposal.objects.select_for_update().filter(pk__in=affected).order_by("pk"))
    counts = _recount(affected)
    undecided = [p.pk for p in proposals if p.status in (FaqProposal.Status.PROPOSED, FaqProposal.Status.DISMISSED)
                 and not p.edited_by_ops]
    sources = faq_proposal_sources(proposal_ids=undecided)
    scrub = Scrubber()
    for proposal in proposals:
        row = counts.get(proposal.pk)
        if row is None and proposal.pk in undecided:
            proposal.delete()
            continue
        if row is not None:
            proposal.source_count, proposal.edited_count = row["n"], row["edited"]
            proposal.first_seen_at, proposal.last_seen_at = row["first"], row["last"]
        if proposal.pk in undecided and sources.get(proposal.pk):
            proposal.question, proposal.answer = proposal_text(sources[proposal.pk], scrub=scrub)
        proposal.save()
    audit_log_write(event_type="faq_proposals.customer_erased", acting_user=acting_user, integration=integration,
                    payload={"conversation_ids": list(conversation_ids), "proposal_ids": affected})
    return len(affected)
