"""`seed_demo --history` (issue "The loop that learns", item 5): past conversations with approved and edited
replies, so a fresh `make run` shows FAQ proposals with their observations and correction candidates."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from conversations.models import Approval, Conversation
from faq.correction_candidates import correction_candidates, drafts_it_would_change
from faq.models import FaqProposal, FaqProposalObservation

pytestmark = pytest.mark.django_db


def test_the_demo_with_history_shows_proposals_and_candidates_and_loads_once(capsys):
    call_command("seed_demo", "--history")
    assert "History loaded: 63 past conversations" in capsys.readouterr().out
    approvals = Approval.objects.filter(draft__reply_to__external_msg_id__startswith="demo-history-")
    assert approvals.count() == 63 >= 60
    assert approvals.filter(action=Approval.Action.EDIT).count() >= 40  # agents' own words: what is learned
    proposals = FaqProposal.objects.filter(status=FaqProposal.Status.PROPOSED)
    assert proposals.count() >= 3
    assert all(p.source_count == p.observations.count() >= 2 for p in proposals)
    # Answers for the shop's public page, without the drafter's pleasantries (faq.clustering.reply_core).
    assert not [p.answer for p in proposals if p.answer.startswith("Thank you for getting in touch")]
    candidates = correction_candidates()
    assert len(candidates) >= 3 and all(c.count >= 3 and c.suggested_pattern for c in candidates)
    assert any(drafts_it_would_change(c) for c in candidates)

    counts = (
        Conversation.objects.count(),
        Approval.objects.count(),
        FaqProposal.objects.count(),
        FaqProposalObservation.objects.count(),
    )
    call_command("seed_demo", "--history")
    assert "0 past conversations" in capsys.readouterr().out
    assert (
        Conversation.objects.count(),
        Approval.objects.count(),
        FaqProposal.objects.count(),
        FaqProposalObservation.objects.count(),
    ) == counts


def test_the_plain_demo_has_no_history():
    call_command("seed_demo")
    assert not Approval.objects.exists() and not FaqProposal.objects.exists()
