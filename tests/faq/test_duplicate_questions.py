"""An FAQ question asked twice is refused, in the admin form and through the API alike (one rule, in the
faq service): the second entry would drift from the first and the shop's page would show it twice."""

from __future__ import annotations

import pytest
from django.utils import timezone

from faq.models import FaqEntry, FaqProposal
from faq.services import faq_entry_create, faq_entry_edit, faq_entry_unpublish
from omnichannel.errors import ApplicationError
from tests.builders import logged_in_client, token_client

pytestmark = pytest.mark.django_db


def _add_in_admin(client, question: str, answer: str = "We ship to Norway within 5 working days."):
    return client.post("/admin/faq/faqentry/add/", {"question": question, "answer": answer, "status": "draft",
                                                     "source_intent": "", "position": 0})


@pytest.mark.parametrize("typed", ["do you ship to NORWAY", "Do you  ship to Norway ?", "  Do you ship to\tNorway?!"])
def test_the_admin_refuses_the_same_question_written_differently_and_links_the_entry_that_asks_it(typed):
    existing = faq_entry_create(question="Do you ship to Norway?", answer="Yes, within 5 working days.")
    client = logged_in_client("Ops", "olivia")
    response = _add_in_admin(client, typed)
    page = response.content.decode()
    assert response.status_code == 200  # the form again, with the typed text kept
    assert f'href="/admin/faq/faqentry/{existing.pk}/change/"' in page
    assert f"FAQ entry {existing.pk}: “Do you ship to Norway?”" in page
    assert FaqEntry.objects.count() == 1


def test_a_different_question_and_an_archived_one_are_not_duplicates():
    faq_entry_create(question="Do you ship to Norway?", answer="Yes.")
    retired = faq_entry_create(question="Do you ship to Sweden?", answer="Not any more.")
    faq_entry_unpublish(entry_id=retired.pk, status=FaqEntry.Status.ARCHIVED)
    client = logged_in_client("Ops", "olivia")
    assert _add_in_admin(client, "Do you ship to Norway by express?").status_code == 302
    assert _add_in_admin(client, "Do you ship to Sweden?").status_code == 302
    assert FaqEntry.objects.count() == 4


def test_editing_an_entry_into_another_ones_question_is_refused_and_saving_it_unchanged_is_not():
    faq_entry_create(question="Can I pay with PayPal?", answer="Yes, at checkout.")
    klarna = faq_entry_create(question="Can I pay with Klarna?", answer="Yes, in three instalments.")
    with pytest.raises(ApplicationError, match="already asks this question: “Can I pay with PayPal\\?”"):
        faq_entry_edit(entry_id=klarna.pk, question="can i pay with paypal", answer=klarna.answer,
                       source_intent="", position=0)
    client = logged_in_client("Ops", "olivia")
    response = client.post(f"/admin/faq/faqentry/{klarna.pk}/change/", {
        "question": "Can I pay with Klarna?", "answer": "Yes, in three or four instalments.", "status": "draft",
        "source_intent": "", "position": 0})
    assert response.status_code == 302
    assert FaqEntry.objects.get(pk=klarna.pk).answer == "Yes, in three or four instalments."


def test_the_api_refuses_a_proposal_whose_question_an_entry_already_asks_and_names_it():
    existing = faq_entry_create(question="Do you offer gift wrapping?", answer="Yes, $5 at checkout.")
    now = timezone.now()
    proposal = FaqProposal.objects.create(intent="general", question="Gift wrapping?", answer="Yes: $5 per order.",
                                          source_count=3, first_seen_at=now, last_seen_at=now)
    ops, _ = token_client("Ops", "api-ops")
    response = ops.post(f"/api/faq_proposals/{proposal.pk}/approve/",
                        {"question": "do you offer GIFT WRAPPING ?"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["duplicate_of"] == {"id": existing.pk, "question": "Do you offer gift wrapping?"}
    assert f"FAQ entry {existing.pk} already asks this question" in body["detail"]
    proposal.refresh_from_db()
    assert proposal.status == FaqProposal.Status.PROPOSED and FaqEntry.objects.count() == 1
