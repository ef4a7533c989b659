"""FAQ proposals and the public FAQ page never carry one customer's facts (issue "Customer data stays safe", item 3).

The replay: two customers ask where their parcel is; the agent's edited reply to one of them quotes
his tracking number and street address. The FAQ proposal made of their questions used to copy both word
for word, and publishing it put them on the shop's public FAQ page.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from conversations.services.approvals import draft_approve, draft_edit_and_approve
from faq.models import FaqEntry, FaqProposal
from faq.selectors import faq_page_render
from faq.services import faq_entry_create, faq_entry_edit, faq_entry_publish
from faq.services_proposals import faq_proposal_publish, faq_proposals_refresh
from integrations.demo import seed_demo
from omnichannel.errors import ApplicationError
from tests.builders import make_draft, make_inbound_message

pytestmark = pytest.mark.django_db

ALAN_REPLY = ("Hi Alan,\n\nYour parcel for order #1004 left with USPS, tracking number 9400111899223197428490, "
              "and goes to 78 High Street, Wilmslow SK9 1AA. Call us back on +44 20 7946 0199 if it has not "
              "arrived in 3 days.\n\nBest regards,\nThe support team")
ALAN_FACTS = ["Alan", "#1004", "9400111899223197428490", "78 High Street", "SK9 1AA", "+44 20 7946 0199",
              "alan.turing@example.com"]


def _two_customers_ask_where_their_parcel_is():
    seed_demo()
    agent = get_user_model().objects.get(username="agent")
    ada = make_draft(intent="order_status", body="x", message=make_inbound_message(
        email="ada.lovelace@example.com", subject="Parcel", body="Where is my parcel? It has not arrived yet.\nAda"))
    draft_approve(draft_id=ada.pk, acting_user=agent)
    alan = make_draft(intent="order_status", body="x", message=make_inbound_message(
        email="alan.turing@example.com", subject="Parcel",
        body="Where is my parcel for order #1004? It has not arrived yet.\nAlan"))
    draft_edit_and_approve(draft_id=alan.pk, acting_user=agent, final_text=ALAN_REPLY)


def test_a_faq_proposal_keeps_the_answer_and_none_of_the_customers_facts():
    _two_customers_ask_where_their_parcel_is()
    faq_proposals_refresh()
    [proposal] = FaqProposal.objects.all()
    for text in (proposal.question, proposal.answer):
        assert not [fact for fact in ALAN_FACTS if fact in text], text
    assert "tracking number [tracking number]" in proposal.answer and "[address]" in proposal.answer
    assert "if it has not arrived in 3 days" in proposal.answer  # what makes it an answer stays


def test_a_proposal_still_holding_placeholders_is_not_published_until_ops_rewrite_it():
    _two_customers_ask_where_their_parcel_is()
    faq_proposals_refresh()
    proposal = FaqProposal.objects.get()
    with pytest.raises(ApplicationError, match="placeholders") as refused:
        faq_proposal_publish(proposal_id=proposal.pk)
    assert refused.value.extra["placeholders"] == ["address", "order number", "phone number", "tracking number"]
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and proposal.faq_entry is None  # nothing was half done
    published = faq_proposal_publish(proposal_id=proposal.pk, answer=(
        "Parcels with USPS arrive in 3-5 business days; the tracking link is in your shipping email. Write to "
        "us if yours has not arrived 3 days after that."))
    assert published.status == "published" and published.faq_entry.status == FaqEntry.Status.PUBLISHED


def test_ops_cannot_put_a_customers_facts_back_into_a_proposal_they_publish():
    _two_customers_ask_where_their_parcel_is()
    faq_proposals_refresh()
    proposal = FaqProposal.objects.get()
    with pytest.raises(ApplicationError, match="customer data"):
        faq_proposal_publish(proposal_id=proposal.pk, answer="Alan's parcel 9400111899223197428490 is on its way.")
    proposal.refresh_from_db()
    assert "9400111899223197428490" not in proposal.answer and proposal.status == "proposed"


def test_publishing_refuses_an_entry_that_holds_a_customers_facts_and_the_page_never_shows_them():
    seed_demo()
    entry = faq_entry_create(question="Where is my parcel?",
                             answer="Order #1004 left with USPS 9400111899223197428490 for Bletchley Park.")
    with pytest.raises(ApplicationError) as refused:
        faq_entry_publish(entry_id=entry.pk)
    assert refused.value.extra["found"] == ["address", "order number", "tracking number"]
    entry.refresh_from_db()
    assert entry.status == FaqEntry.Status.DRAFT
    html, _, _ = faq_page_render()
    assert "9400111899223197428490" not in html and "Bletchley" not in html


def test_a_published_entry_cannot_be_edited_to_hold_a_customers_address():
    seed_demo()
    entry = FaqEntry.objects.get(question="How long does shipping take?")
    with pytest.raises(ApplicationError, match="address"):
        faq_entry_edit(entry_id=entry.pk, question=entry.question, answer=entry.answer + " Ada got hers at "
                       "12 St James's Square.", source_intent=entry.source_intent, position=entry.position)
    entry.refresh_from_db()
    assert "James" not in entry.answer


def test_an_entry_with_only_the_shops_own_facts_publishes():
    seed_demo()
    entry = faq_entry_create(question="How do I return an item?",
                             answer="Write to support@demo-shop.example within 30 days; refunds of $249.00 and "
                                    "up take 5-7 business days.")
    assert faq_entry_publish(entry_id=entry.pk).status == FaqEntry.Status.PUBLISHED
