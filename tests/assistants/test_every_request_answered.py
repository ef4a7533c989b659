"""Every request of an email answered with the fact that matches it, on the demo shop (Postgres).

The emails are written as customers write them; the expectations are the shop's facts.
"""

from __future__ import annotations

import pytest

from assistants.services import draft_generate
from catalog.models import ProductRequest
from tests.builders import draft_for_email as _draft
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db


def test_an_order_question_and_a_stock_question_in_one_email_are_both_answered(demo_shop):
    outcome = _draft("ada.lovelace@example.com", "Hi! has my tent order 1001 shipped yet, and do you still have "
                                                  "the titanium stove in stock?")
    body = outcome.result.body
    assert "1Z999AA10123456784" in body and "42 available" in body
    assert set(outcome.reasons.answered) >= {"order status", "stock"} and not outcome.reasons.needs_person


def test_the_refund_of_the_item_asked_about_is_not_answered_with_another_items_refund(demo_shop):
    outcome = _draft("edsger.dijkstra@example.com", "When will I get my money back for the boots I sent back from 1007?")
    assert "29.00" not in outcome.result.body  # that refund was for a headlamp
    assert "boots" in outcome.result.body and outcome.result.confidence < 0.5
    assert outcome.reasons.needs_person == ["refund status"]


def test_the_refund_of_the_item_asked_about_is_given_with_its_currency(demo_shop):
    outcome = _draft("edsger.dijkstra@example.com", "Did you refund the broken headlamp from order #1007?")
    assert "29.00 USD" in outcome.result.body and "2026-10-30" in outcome.result.body


def test_a_size_the_shop_does_not_make_is_said_plainly_and_counted_as_demand(demo_shop):
    message = make_inbound_message(email="grace.hopper@example.com", subject="big feet",
                                   body="do the trail hiking boots come in size 48?")
    outcome = draft_generate(message_id=message.pk)
    assert "We do not make the Trail hiking boots in size 48" in outcome.draft.body
    assert "size 42" in outcome.draft.body and "size 44" in outcome.draft.body
    assert ProductRequest.objects.filter(normalized__contains="size 48").exists()


def test_an_order_of_someone_else_is_neither_confirmed_nor_denied(demo_shop):
    outcome = _draft("barbara.liskov@example.com", "can u tell me if order 1004 has shipped yet")
    body = outcome.result.body
    assert "9400111899223197428490" not in body and "partly" not in body and "sleeping bag" not in body.lower()
    assert "could not find an order #1004 under the email address you wrote from" in body
    assert outcome.result.confidence < 0.5


def test_a_near_miss_among_the_senders_own_orders_is_offered(demo_shop):
    outcome = _draft("alan.turing@example.com", "any news on order #1100?")
    assert "Did you mean your order #1010?" in outcome.result.body and outcome.unsupported == []
    assert outcome.result.confidence < 0.5


def test_a_cancellation_before_shipping_is_not_answered_with_the_return_policy(demo_shop):
    outcome = _draft("ada.lovelace@example.com", "Please cancel order 1002, I found the stove somewhere else.")
    body = outcome.result.body
    assert "#1002 has not shipped yet, so it can still be cancelled" in body and "30 days" not in body


def test_a_cancellation_after_shipping_explains_it_has_shipped(demo_shop):
    outcome = _draft("guest.walker@example.net", "I want to cancel my order #1009 pls")
    assert "already shipped, so it can no longer be cancelled" in outcome.result.body
    assert "1Z999AA10123456791" in outcome.result.body


def test_a_shipping_time_question_from_someone_without_orders_gets_the_faq_not_a_missing_order(demo_shop):
    outcome = _draft("markus.braun@example.de", "how long does delivery to the netherlands usually take?")
    assert "5-8 in the EU" in outcome.result.body and "could not find an order" not in outcome.result.body


def test_a_damaged_item_gets_an_apology_and_a_request_for_a_photo(demo_shop):
    outcome = _draft("alan.turing@example.com", "The headlamp from order 1010 arrived with a cracked lens, "
                                                 "what can you do?")
    body = outcome.result.body
    assert "sorry" in body and "photo" in body


def test_a_wholesale_enquiry_is_passed_to_a_person_below_half_confidence(demo_shop):
    outcome = _draft("scouts@example.org", "We would like to buy 40 headlamps at a wholesale price, who do I talk to?")
    assert outcome.result.confidence < 0.5 and "wholesale" in outcome.reasons.needs_person


def test_a_price_question_gets_the_price_with_its_currency(demo_shop):
    outcome = _draft("barbara.liskov@example.com", "how much is the titanium stove?")
    assert "65.00 USD" in outcome.result.body and "price" in outcome.reasons.answered


def test_plural_items_agree_in_number(demo_shop):
    outcome = _draft("barbara.liskov@example.com", "are the trail hiking boots in size 44 in stock?")
    assert "boots size 44 are in stock" in outcome.result.body
