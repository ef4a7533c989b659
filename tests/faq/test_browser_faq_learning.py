"""The loop that learns, in a real headless Chromium: agents answered the same question in their own words,
Ops publish the FAQ proposal that appeared, and the next similar email's draft answers from it."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model

from assistants.services import draft_generate
from conversations.services.approvals import draft_edit_and_approve
from faq.models import FaqEntry, FaqProposal
from faq.services_proposals import faq_proposals_refresh
from tests.browser import CHROMIUM, login
from tests.builders import make_inbound_message, make_staff
from tests.integrations.shopify.conftest import fake_shop  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]

ASKED = ["Do you have a student discount?", "Do you offer a student discount?", "Is there a student discount I can use?"]
ANSWERS = [
    "Students get 10% off full-price items: verify your student email with UNiDAYS for a code.",
    "Yes, there is a 10% student discount on full-price items, through UNiDAYS.",
    "We give students 10% off full-price items; sign up with UNiDAYS using your student email.",
]


def _agents_answered_it() -> FaqProposal:
    agent = get_user_model().objects.create_user(username="answering-agent")
    for n, (question, answer) in enumerate(zip(ASKED, ANSWERS, strict=True)):
        message = make_inbound_message(email=f"student{n}@example.org", subject="Student discount", body=question)
        draft = draft_generate(message_id=message.pk, refresh=True).draft
        greeting, *_, sign_off = draft.body.split("\n\n")
        draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text=f"{greeting}\n\n{answer}\n\n{sign_off}")
    faq_proposals_refresh()
    return FaqProposal.objects.get()


def test_ops_publish_a_proposed_faq_entry_and_the_next_similar_draft_answers_from_it(page, live_server, fake_shop):  # noqa: F811
    proposal = _agents_answered_it()
    held_out = make_inbound_message(
        email="new.student@example.org", subject="Students", body="Is there a discount for students?"
    )
    before = draft_generate(message_id=held_out.pk, refresh=True).draft
    assert "10%" not in before.body

    make_staff("Ops", "olivia", password="olivia-pass-2026")
    login(page, live_server, "olivia", "olivia-pass-2026")
    page.goto(f"{live_server.url}/admin/faq/faqproposal/")
    with page.expect_navigation():
        page.click(f"a[href='/admin/faq/faqproposal/{proposal.pk}/change/']")
    assert page.locator("#observations tbody tr").count() == 3  # the three replies behind it
    page.fill("#id_question", "Do you have a student discount?")
    with page.expect_navigation():
        page.click("#publish")
    assert "Published" in page.locator(".messagelist").inner_text()

    entry = FaqEntry.objects.get(status=FaqEntry.Status.PUBLISHED)
    assert entry.question == "Do you have a student discount?" and "10%" in entry.answer
    page.goto(f"{live_server.url}/faq/")
    assert "Do you have a student discount?" in page.content()
    assert "10%" in fake_shop.resources["pages"][0]["body_html"]  # the shop's own FAQ page was rebuilt

    # The same customer's email drafted again: the published answer is in the draft, with its source.
    after = draft_generate(message_id=held_out.pk, refresh=True).draft
    assert "10%" in after.body and after.confidence >= 0.6 > before.confidence
    assert after.model_run.sources and any(
        s.get("kind") == "faq" and s.get("id") == str(entry.pk) for s in after.model_run.sources
    )
    page.goto(f"{live_server.url}/admin/conversations/draft/{after.pk}/change/")
    assert "10%" in page.locator("#final_text").input_value()
