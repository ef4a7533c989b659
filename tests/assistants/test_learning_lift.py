"""Learning makes the next similar draft better (issue "The loop that learns", item 4): an approved edit,
an accepted correction and a published FAQ proposal, each measured on a held-out similar email, and
`learning_eval` over the whole learning set, with the golden cases as the guard against regressions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from assistants import vectorstore
from assistants.context import email_in
from assistants.indexing import approved_reply_index
from assistants.learning_eval import STAGES, learning_eval
from assistants.providers.openai_compat import build_messages
from assistants.services import draft_compose, draft_generate
from conversations.models import Approval
from conversations.services.approvals import draft_edit_and_approve
from faq.correction_candidates import correction_candidates
from faq.models import Correction, FaqEntry, FaqProposal
from faq.services import correction_upsert
from faq.services_proposals import faq_proposal_publish, faq_proposals_refresh
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db

PICKUP = "You can pick up an online order at our Bristol store for free: choose \"Collect in Bristol\" at checkout."


@pytest.fixture
def agent():
    return get_user_model().objects.create_user(username="lift-agent")


def _edited(agent, n: int, subject: str, body: str, answer: str) -> Approval:
    """An email drafted by the assistant, then edited by the agent into `answer` (greeting and sign-off kept)."""
    message = make_inbound_message(email=f"lift{n}@example.org", subject=subject, body=body)
    draft = draft_generate(message_id=message.pk, refresh=True).draft
    greeting, *_, sign_off = draft.body.split("\n\n")
    approval = draft_edit_and_approve(draft_id=draft.pk, acting_user=agent,
                                      final_text=f"{greeting}\n\n{answer}\n\n{sign_off}")
    approved_reply_index(approval_id=approval.pk)  # what index_approved_reply does after commit
    return approval


def _draft(subject: str, body: str):
    return draft_compose(email=email_in(from_address="held.out@example.org", subject=subject, body=body))


def test_an_approved_edit_is_the_first_example_the_next_similar_draft_is_given(agent):
    before = _draft("Gift wrapping", "Is gift wrapping available for orders?")
    assert before.context.replies == []
    approval = _edited(agent, 1, "Gift wrapping", "Do you offer gift wrapping?",
                       "Yes: gift wrapping costs 4.00 USD per order; tick \"Add gift wrap\" at checkout.")

    after = _draft("Gift wrapping", "Is gift wrapping available for orders?")
    [example] = after.context.replies
    assert example.id == str(approval.pk) and example.facts["edited"] and "4.00 USD" in example.facts["text"]
    prompt = build_messages(after.context, after.intent)[1]["content"]
    assert "4.00 USD" in prompt and "tone only" in prompt  # an LLM provider now sees how the agent answered
    # The offline drafter takes no fact from another customer's reply (by design): its text is unchanged.
    # The edit reaches its drafts through what it feeds: a correction candidate, an FAQ proposal (below).
    assert after.result.body == before.result.body


def test_an_accepted_correction_candidate_makes_the_next_similar_draft_say_it(agent):
    questions = ["Can I pick up my order in your store?", "Could I pick up my order from the shop?",
                 "Do you allow pick up of orders from your store?"]
    held_out = ("Pick up", "Can I pick up the tent at your store tomorrow?")
    before = _draft(*held_out)
    assert "Collect in Bristol" not in before.result.body and before.result.confidence <= 0.35
    for n, question in enumerate(questions):
        _edited(agent, n, "Pick up", question, PICKUP)

    [candidate] = correction_candidates(min_count=3)
    assert candidate.count == 3 and candidate.suggested_pattern == "pick"
    correction, _ = correction_upsert(key=candidate.suggested_key, pattern=candidate.suggested_pattern,
                                      answer=candidate.example_line)

    after = _draft(*held_out)
    assert "Collect in Bristol" in after.result.body and after.unsupported == []
    assert ("correction", str(correction.pk)) in {(s.kind, s.id) for s in after.result.used}
    assert after.result.confidence > before.result.confidence + 0.3


def test_a_published_faq_proposal_makes_the_next_similar_draft_say_it(agent):
    answers = ["Students get 10% off full-price items: verify your student email with UNiDAYS for a code.",
               "Yes, there is a 10% student discount on full-price items, through UNiDAYS.",
               "We give students 10% off full-price items; sign up with UNiDAYS using your student email."]
    questions = ["Do you have a student discount?", "Do you offer a student discount?",
                 "Is there a student discount I can use?"]
    # The lexical backend does not stem ("students" is not "student"): minilm matches that paraphrase too.
    held_out = ("Student discount", "Do you do a student discount?")
    before = _draft(*held_out)
    assert "10%" not in before.result.body
    for n, (question, answer) in enumerate(zip(questions, answers, strict=True)):
        _edited(agent, n, "Student discount", question, answer)
    assert correction_candidates(min_count=3) == []  # three answers in three wordings: no repeated edit

    faq_proposals_refresh()
    proposal = FaqProposal.objects.get()
    assert proposal.source_count == 3 and proposal.edited_count == 3
    published = faq_proposal_publish(proposal_id=proposal.pk)

    after = _draft(*held_out)
    assert "10%" in after.result.body and after.unsupported == []
    assert ("faq", str(published.faq_entry_id)) in {(s.kind, s.id) for s in after.result.used}
    assert after.result.confidence >= 0.6 > before.result.confidence


def test_learning_eval_lifts_the_held_out_pass_rate_breaks_no_golden_and_leaves_nothing_behind(capsys):
    from integrations.demo import seed_demo

    seed_demo()
    corrections, entries = Correction.objects.count(), FaqEntry.objects.count()
    report = learning_eval(golden_stages=("before", "FAQ"))

    before, after = report.pass_rate("before")[0], report.pass_rate("FAQ")[0]
    assert after >= before + 6, report.as_json()["stages"]
    assert report.regressions() == []  # no golden case that passed before fails after
    assert not [c for c in report.changes() if not c[2]]  # no held-out email that passed before fails
    by_stage = {stage: [learned for _, at, passed, learned in report.changes() if at == stage and passed]
                for stage in STAGES}
    assert any(item.startswith("correction") for used in by_stage["corrections"] for item in used)
    assert any(item.startswith("faq") for used in by_stage["FAQ"] for item in used)
    assert sum(d.example for d in report.drafts["approved edits"].values()) > 0
    # A measure, not a change: everything it learned was rolled back, and its examples left the index.
    assert (Correction.objects.count(), FaqEntry.objects.count()) == (corrections, entries)
    assert not FaqProposal.objects.exists() and not Approval.objects.exists()
    assert vectorstore.index_count(vectorstore.REPLIES) == 0


def test_the_command_refuses_a_database_without_the_demo_shop():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="seed_demo"):
        call_command("learning_eval")
