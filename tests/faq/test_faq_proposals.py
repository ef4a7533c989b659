"""FAQ proposals as records of their own (issue "The loop that learns", item 1): grouped questions with the
replies behind them, a scrubbed suggested answer, a weekly refresh that never duplicates, and a
dismissal that sticks until the question keeps coming."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.contrib.auth import get_user_model

from conversations.services.approvals import draft_approve, draft_edit_and_approve, draft_undo
from faq.clustering import MAX_EXEMPLARS, Group, Question, jaccard, question_words, questions_place
from faq.models import FaqEntry, FaqProposal, FaqProposalObservation
from faq.selectors import faq_candidates
from faq.services import faq_entry_create
from faq.services_proposals import faq_proposal_dismiss, faq_proposals_refresh
from faq.tasks import propose_faq
from faq.vectors import question_vectors
from omnichannel.models import AuditLog
from tests.builders import make_draft, make_inbound_message
from tests.integrations.shopify.conftest import fake_shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

PAYPAL = ["Can I pay with PayPal at checkout?", "Do you accept PayPal payments at checkout?",
          "Is PayPal accepted at checkout?", "Is paying by PayPal at checkout possible?"]


@pytest.fixture
def agent():
    return get_user_model().objects.create_user(username="faq-agent")


def _asked(agent, body: str, *, reply: str | None = None, n: int, intent: str = "general", subject: str = "Payment",
           at: datetime | None = None):
    """A customer asks; the agent approves the draft as is, or sends `reply` instead (an edit)."""
    draft = make_draft(intent=intent, body="Thank you for your message. I am checking this with our team.",
                       message=make_inbound_message(email=f"asker{n}@example.com", subject=subject, body=body,
                                                    sent_at=at))
    if reply is None:
        return draft_approve(draft_id=draft.pk, acting_user=agent)
    return draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text=reply)


def test_a_question_asked_again_becomes_one_proposal_with_its_replies_count_and_last_seen(agent):
    started = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    approvals = [_asked(agent, q, n=n, at=started + timedelta(days=n),
                        reply="Hi Jo,\n\nYes: PayPal, Visa and Mastercard are all accepted.\n\nBest,\nShop" if n == 1
                        else None) for n, q in enumerate(PAYPAL[:3])]
    _asked(agent, "Are you hiring?", n=9)  # asked once: no proposal

    report = faq_proposals_refresh()

    [proposal] = FaqProposal.objects.all()
    assert report.created == [proposal.pk] and report.unplaced == 1
    assert proposal.status == "proposed" and proposal.intent == "general"
    assert "PayPal" in proposal.question and proposal.question.endswith("?")
    assert proposal.answer == "Yes: PayPal, Visa and Mastercard are all accepted."  # the edited reply, trimmed
    assert (proposal.source_count, proposal.edited_count) == (3, 1)
    assert proposal.last_seen_at == started + timedelta(days=2)
    observed = proposal.observations.order_by("seen_at")
    assert [o.approval_id for o in observed] == [a.pk for a in approvals]
    assert all(o.conversation_id == a.draft.conversation_id and o.message_id == a.draft.reply_to_id
               for o, a in zip(observed, approvals, strict=True))
    assert AuditLog.objects.filter(event_type="faq_proposal.created", object_id=str(proposal.pk)).count() == 1


def test_the_weekly_refresh_adds_new_replies_to_their_proposal_and_never_duplicates_it(agent):
    for n, question in enumerate(PAYPAL[:2]):
        _asked(agent, question, n=n)
    assert propose_faq() == 1
    assert propose_faq() == 0  # nothing new: nothing created, nothing counted twice
    [proposal] = FaqProposal.objects.all()
    assert proposal.source_count == 2

    later = _asked(agent, PAYPAL[2], n=7, reply="Hi Sam,\n\nWe take PayPal and every major card.\n\nBest,\nShop")
    report = faq_proposals_refresh()
    proposal.refresh_from_db()
    assert report.created == [] and report.grown == {proposal.pk: 1}
    assert (proposal.source_count, proposal.edited_count) == (3, 1)
    assert proposal.answer == "We take PayPal and every major card."  # an edited reply now leads the answer
    assert FaqProposalObservation.objects.filter(approval=later).get().proposal_id == proposal.pk
    assert FaqProposal.objects.count() == 1


def test_an_undone_approval_and_a_rejected_draft_are_not_replies_behind_a_proposal(agent, settings):
    from conversations.services.approvals import draft_reject

    settings.SEND_UNDO_SECONDS = 60  # an approval can be taken back for a minute
    _asked(agent, PAYPAL[0], n=1)
    undone = _asked(agent, PAYPAL[1], n=2)
    draft_undo(draft_id=undone.draft_id, acting_user=agent)
    rejected = make_draft(intent="general", message=make_inbound_message(email="r@example.com", body=PAYPAL[2]))
    draft_reject(draft_id=rejected.pk, acting_user=agent, reason="wrong")
    assert faq_proposals_refresh().created == []  # one sent reply is not a frequent question
    assert faq_candidates().unplaced == 1


def test_ops_text_is_kept_when_the_proposal_grows(agent):
    from faq.services_proposals import faq_proposal_edit

    for n, question in enumerate(PAYPAL[:2]):
        _asked(agent, question, n=n)
    faq_proposals_refresh()
    proposal = FaqProposal.objects.get()
    faq_proposal_edit(proposal_id=proposal.pk, question="Which payment methods do you accept?",
                      answer="PayPal, Visa, Mastercard and Apple Pay.", acting_user=agent)
    _asked(agent, PAYPAL[2], n=5, reply="Hi,\n\nPayPal works.\n\nBest,\nShop")
    faq_proposals_refresh()
    proposal.refresh_from_db()
    assert proposal.source_count == 3 and proposal.edited_by_ops
    assert proposal.answer == "PayPal, Visa, Mastercard and Apple Pay."


def test_a_dismissed_proposal_stays_dismissed_until_it_grows_by_faq_resurface_after(agent, settings):
    settings.FAQ_RESURFACE_AFTER = 2
    for n, question in enumerate(PAYPAL[:2]):
        _asked(agent, question, n=n)
    faq_proposals_refresh()
    proposal = FaqProposal.objects.get()
    faq_proposal_dismiss(proposal_id=proposal.pk, reason="We are dropping PayPal next month.", acting_user=agent)

    _asked(agent, PAYPAL[2], n=3)
    report = faq_proposals_refresh()
    proposal.refresh_from_db()
    assert report.created == [] and report.resurfaced == []  # joined the dismissed one, no new proposal
    assert (proposal.status, proposal.source_count) == ("dismissed", 3)

    _asked(agent, PAYPAL[3], n=4)
    report = faq_proposals_refresh()
    proposal.refresh_from_db()
    assert report.resurfaced == [proposal.pk] and FaqProposal.objects.count() == 1
    assert proposal.status == "proposed" and proposal.source_count == 4
    assert proposal.dismissed_reason == "We are dropping PayPal next month."  # shown to Ops when it comes back
    resurfaced = AuditLog.objects.get(event_type="faq_proposal.resurfaced")
    assert resurfaced.payload["dismissed_source_count"] == 2


def test_a_question_an_faq_entry_already_answers_is_not_proposed(agent):
    faq_entry_create(question="Can I pay with PayPal at checkout?", answer="Yes.")
    for n, question in enumerate(PAYPAL[:3]):
        _asked(agent, question, n=n)
    report = faq_proposals_refresh()
    assert report.created == [] and report.covered == 1
    assert not FaqProposal.objects.exists()


def test_questions_of_different_intents_are_never_one_proposal(agent):
    _asked(agent, "Where is my order? It has not arrived.", n=1, intent="order_status", subject="Order")
    _asked(agent, "Where is my order? It has not arrived.", n=2, intent="returns_refunds", subject="Order")
    assert faq_proposals_refresh().created == []


# --- grouping: embeddings when the backend has them, word overlap otherwise ----------------------------

SYNONYMS = {"paypal": "paypal", "pay": "paypal", "payment": "paypal", "payments": "paypal", "checkout": "paypal",
            "wrap": "wrap", "wrapping": "wrap", "present": "wrap", "gift": "wrap"}


def _concept_vectors(texts):
    """A stand-in sentence model that knows two paraphrase families (no model weights in CI): it maps
    each text to the concepts its words name, as MiniLM maps paraphrases close together."""
    concepts = sorted(set(SYNONYMS.values()))
    rows = []
    for text in texts:
        words = question_words(text)
        rows.append([1.0 if any(SYNONYMS.get(w) == c for w in words) else 0.0 for c in concepts] + [0.1])
    return np.array(rows, dtype=np.float32), "test-concepts"


def test_with_sentence_vectors_paraphrases_merge_that_word_overlap_keeps_apart(agent):
    from faq.vectors import question_embedder_register

    _asked(agent, "Do you offer gift wrapping?", n=1, subject="Gift")
    _asked(agent, "Could you wrap it as a present?", n=2, subject="Birthday")
    by_words = faq_candidates()
    assert by_words.mode == "words" and by_words.new == []  # no content word in common

    question_embedder_register(lambda texts: _concept_vectors(texts)[0], name=lambda: "test-concepts")
    try:
        by_vectors = faq_candidates()
        report = faq_proposals_refresh()
    finally:
        from django.conf import settings

        from assistants.vectorstore import sentence_vectors

        question_embedder_register(sentence_vectors, name=lambda: settings.EMBEDDING_BACKEND)
    assert by_vectors.mode == "vectors:test-concepts" and [len(g) for g in by_vectors.new] == [2]
    assert report.mode == "vectors:test-concepts" and FaqProposal.objects.get().source_count == 2


def test_the_lexical_backend_groups_by_word_overlap(settings):
    settings.EMBEDDING_BACKEND = "lexical"
    assert question_vectors(["Can I pay with PayPal?"]) == (None, "words")  # assistants registered, and declined


def test_word_overlap_placement_with_its_prefix_filter_places_every_question_as_scoring_all_would():
    rng = random.Random(3)
    vocab = [f"w{i:03d}" for i in range(60)]
    questions = [Question(i, rng.choice(["general", "order_status"]),
                          " ".join(rng.sample(vocab[:rng.randint(12, 60)], rng.randint(1, 12)))) for i in range(1500)]
    groups = [Group(id=1, intent="general", texts=[questions[0].text, questions[1].text])]
    fast = questions_place(groups=groups, questions=questions[2:], vectors=None)

    exemplars, counts, last_new, brute = [], Counter(), 0, {}
    for group in groups:
        for text in group.texts:
            exemplars.append((group.id, group.intent, question_words(text)))
            counts[group.id] += 1
    for question in questions[2:]:
        words, best, best_score = question_words(question.text), None, 0.4
        for position, (_, intent, other) in enumerate(exemplars):
            score = jaccard(words, other) if intent == question.intent else 0.0
            if score > best_score or (score == best_score and best is None and score > 0):
                best, best_score = position, score
        if best is None:
            last_new -= 1
        group_id = exemplars[best][0] if best is not None else last_new
        brute[question.key] = group_id
        if words and counts[group_id] < MAX_EXEMPLARS:
            counts[group_id] += 1
            exemplars.append((group_id, question.intent, words))
    assert fast.group_of == brute
    assert len(set(brute.values())) < len(brute)  # questions did group


def test_an_entry_created_by_hand_still_lets_unrelated_questions_be_proposed(agent):
    FaqEntry.objects.create(question="Where are you based?", answer="Manchester.", status="draft")
    for n, question in enumerate(PAYPAL[:2]):
        _asked(agent, question, n=n)
    assert len(faq_proposals_refresh().created) == 1


# --- Ops' decisions, and what an erasure leaves ------------------------------------------------------

def test_approve_and_publish_drafts_the_entry_publishes_it_and_rebuilds_the_shop_page(
        agent, fake_shop, django_capture_on_commit_callbacks):  # noqa: F811
    from faq.services_proposals import faq_proposal_approve, faq_proposal_publish

    for n, question in enumerate(PAYPAL[:2]):
        _asked(agent, question, n=n, reply="Hi,\n\nYes, PayPal and all major cards are accepted.\n\nBest,\nShop")
    faq_proposals_refresh()
    proposal = FaqProposal.objects.get()
    approved = faq_proposal_approve(proposal_id=proposal.pk, acting_user=agent)
    assert approved.status == "approved" and approved.faq_entry.status == "draft"
    assert approved.faq_entry.source_intent == "general"
    with django_capture_on_commit_callbacks(execute=True):
        published = faq_proposal_publish(proposal_id=proposal.pk, acting_user=agent,
                                         question="Can I pay with PayPal?")
    entry = FaqEntry.objects.get()
    assert published.status == "published" and entry.status == "published" and entry.question == "Can I pay with PayPal?"
    [page] = fake_shop.resources["pages"]
    assert "Can I pay with PayPal?" in page["body_html"] and "all major cards" in page["body_html"]
    events = list(AuditLog.objects.filter(object_id=str(proposal.pk), event_type__startswith="faq_proposal.")
                  .order_by("id").values_list("event_type", flat=True))
    assert events == ["faq_proposal.created", "faq_proposal.approved", "faq_proposal.published"]
    assert faq_proposal_publish(proposal_id=proposal.pk).status == "published"  # a second click changes nothing


def test_a_dismissal_needs_a_reason_and_a_published_proposal_is_not_dismissed(agent):
    from faq.services_proposals import faq_proposal_approve, faq_proposal_publish
    from omnichannel.errors import ApplicationError, StateConflict

    for n, question in enumerate(PAYPAL[:2]):
        _asked(agent, question, n=n, reply="Hi,\n\nYes, PayPal is accepted.\n\nBest,\nShop")
    faq_proposals_refresh()
    proposal = FaqProposal.objects.get()
    with pytest.raises(ApplicationError, match="why"):
        faq_proposal_dismiss(proposal_id=proposal.pk, reason="  ", acting_user=agent)
    faq_proposal_approve(proposal_id=proposal.pk, acting_user=agent)
    dismissed = faq_proposal_dismiss(proposal_id=proposal.pk, reason="Not a question for the public page.",
                                     acting_user=agent)
    assert dismissed.status == "dismissed" and dismissed.faq_entry.status == "archived"  # its draft entry too
    with pytest.raises(StateConflict):
        faq_proposal_publish(proposal_id=proposal.pk)

    _asked(agent, "Do you take Klarna at checkout?", n=5)
    _asked(agent, "Is Klarna accepted at checkout?", n=6)
    faq_proposals_refresh()
    klarna = FaqProposal.objects.get(status="proposed")
    faq_proposal_publish(proposal_id=klarna.pk)
    with pytest.raises(StateConflict, match="published"):
        faq_proposal_dismiss(proposal_id=klarna.pk, reason="changed my mind", acting_user=agent)


def test_a_refresh_while_another_runs_does_nothing_and_says_so(agent):
    import psycopg
    from django.db import connection

    from faq.services_proposals import _REFRESH_LOCK

    for n, question in enumerate(PAYPAL[:2]):
        _asked(agent, question, n=n)
    database = connection.settings_dict
    with psycopg.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                         password=database["PASSWORD"] or None, dbname=database["NAME"]) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", [_REFRESH_LOCK])  # the other refresh, mid-transaction
        report = faq_proposals_refresh()
    assert report.skipped and report.created == [] and not FaqProposal.objects.exists()
    assert len(faq_proposals_refresh().created) == 1  # once it is done, the next run goes ahead


def test_an_erasure_takes_the_customers_replies_out_of_proposals_and_rewrites_their_text(agent):
    from customers.services_erasure import customer_erase
    from faq.services_proposals import faq_proposals_erase_customer

    _asked(agent, PAYPAL[0], n=1,
           reply="Hi,\n\nYes, PayPal works. Zebedee will help you at the desk.\n\nBest,\nShop")
    _asked(agent, PAYPAL[1], n=2)
    _asked(agent, PAYPAL[2], n=3)
    faq_proposals_refresh()
    proposal = FaqProposal.objects.get()
    assert "Zebedee" in proposal.answer  # the only edited reply; a name nobody gave us, the scrubber cannot know it

    report = customer_erase(email="asker1@example.com", acting_user=agent)
    faq_proposals_erase_customer(conversation_ids=report_conversations(report), acting_user=agent)
    proposal.refresh_from_db()
    assert "Zebedee" not in proposal.answer and "Zebedee" not in proposal.question
    assert proposal.answer == "Thank you for your message. I am checking this with our team."
    assert (proposal.source_count, proposal.edited_count) == (2, 0)
    assert AuditLog.objects.filter(event_type="faq_proposals.customer_erased").exists()


def report_conversations(report) -> list[int]:
    return list(AuditLog.objects.filter(event_type="customer.erased").latest("id").payload["conversation_ids"])


def test_vector_placement_in_chunks_groups_every_question_as_a_one_by_one_pass_would():
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(40, 16))
    picks = rng.integers(0, 40, size=700)
    vectors = centres[picks] + rng.normal(scale=0.45, size=(700, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    intents = ["general" if i % 3 else "order_status" for i in range(700)]
    groups = [Group(id=1, intent="general", texts=["0", "1"])]
    questions = [Question(i, intents[i], str(i)) for i in range(2, 700)]
    placed = questions_place(groups=groups, questions=questions, vectors=lambda texts: (vectors, "test"),
                             vector_similarity=0.8)

    exemplars, counts, last_new, expected = [(1, "general", vectors[0]), (1, "general", vectors[1])], Counter({1: 2}), 0, {}
    for question in questions:
        vector, best, best_score = vectors[question.key], None, -2.0
        for group_id, intent, other in exemplars:
            score = float(other @ vector) if intent == question.intent else -2.0
            if score > best_score:
                best, best_score = group_id, score
        if best is None or best_score < 0.8:
            last_new -= 1
            best = last_new
        expected[question.key] = best
        if counts[best] < MAX_EXEMPLARS:
            counts[best] += 1
            exemplars.append((best, question.intent, vector))

    def partition(group_of):
        found: dict[int, set] = {}
        for key, group_id in group_of.items():
            found.setdefault(group_id, set()).add(key)
        return {frozenset(keys) for keys in found.values()}, found.get(1, set())

    assert partition(placed.group_of) == partition(expected)
    assert 1 < len(partition(expected)[0]) < 600 and partition(expected)[1]  # real groups, the stored one grew
