"""Drafts a support lead would send: greeting, thanks or an apology, each fact once, clean quotes."""

from __future__ import annotations

import pytest

from assistants.context import email_in
from assistants.providers.grounded_knowledge import site_passage
from assistants.providers.openai_compat import citations_strip
from assistants.services import draft_compose

pytestmark = pytest.mark.django_db

STORE_PAGE = ("Visit our store in Bristol\nOur shop is at 12 Harbour Road, Bristol BS1 4RN.\n"
              "Opening hours: Monday to Saturday, 9:00 to 18:00.\nYou can pick up an online order at the store for "
              "free: choose \"Collect in Bristol\" at checkout and we email you when it is rea")


def _body(sender: str, body: str) -> str:
    return draft_compose(email=email_in(from_address=sender, subject="hello", body=body)).result.body


def test_a_question_gets_a_greeting_thanks_and_the_sign_off(demo_shop):
    body = _body("ada.lovelace@example.com", "Has my order #1001 shipped?")
    assert body.startswith("Hi Ada,\n\nThank you for getting in touch.\n\n")
    assert body.endswith("Happy trails,\nThe Demo Shop team")


def test_a_complaint_about_a_delay_opens_with_an_apology_not_thanks(demo_shop):
    body = _body("grace.hopper@example.com", "This is ridiculous, I ordered boots ages ago and still nothing. "
                                              "Order 1003, where is it??")
    assert "I am sorry for the wait" in body and "Thank you for getting in touch" not in body
    assert "14 days" in body  # the real status: the boots are on backorder


def test_two_requests_about_one_order_say_its_status_once(demo_shop):
    body = _body("ada.lovelace@example.com", "Where is my order 1001? Has order 1001 been sent out yet?")
    assert body.count("UPS tracking number") == 1 and body.count("#1001 has shipped") == 1


def test_a_site_quote_leaves_out_the_page_heading_and_a_sentence_cut_off():
    passage = site_passage("can I pick up my order at the store?", STORE_PAGE)
    assert not passage.startswith("Visit our store in Bristol")
    assert passage.startswith("Our shop is at 12 Harbour Road")
    assert "rea" not in passage.split()[-1] and passage.endswith(".")


def test_citation_markers_are_stripped_from_a_models_text():
    assert citations_strip("It shipped with UPS [2]. Track it here [1, 3] .") == "It shipped with UPS. Track it here."
