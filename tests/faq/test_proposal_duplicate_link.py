"""Publishing a proposal whose question an FAQ entry already asks is refused on the review page, and the
refusal links that entry (as the FAQ entry form does), so Ops can open it and merge the answers instead
of hunting for "FAQ entry 7" in the list."""

from __future__ import annotations

import pytest
from django.utils import timezone

from faq.models import FaqEntry, FaqProposal
from faq.services import faq_entry_create
from tests.builders import logged_in_client

pytestmark = pytest.mark.django_db


def test_the_refusal_on_the_review_page_links_the_entry_that_asks_the_question():
    existing = faq_entry_create(question="do you use plastic in your packaging", answer="No, cardboard.")
    now = timezone.now()
    proposal = FaqProposal.objects.create(intent="general", question="Do you use plastic in your packaging?",
                                          answer="We pack in recycled cardboard with paper tape: no plastic at all.",
                                          source_count=5, first_seen_at=now, last_seen_at=now)
    client = logged_in_client("Ops", "olivia")
    response = client.post(f"/admin/faq/faqproposal/{proposal.pk}/decide/", {
        "question": proposal.question, "answer": proposal.answer, "reason": "", "_publish": "1"})
    page = response.content.decode()
    assert response.status_code == 400
    assert f'<a href="/admin/faq/faqentry/{existing.pk}/change/">FAQ entry {existing.pk}: “do you use plastic' in page
    assert FaqEntry.objects.count() == 1
