"""The fourth held-out round's weak spots, on the demo shop (Postgres): a parcel the customer never
got, an address change that already gives the address, a cancellation on a deadline, what a gift's
recipient sees, and a thank-you in a thread.

Worded apart from the held-out emails (goldens/heldout.yaml, ho4-*), which stay unseen.
"""

from __future__ import annotations

import pytest

from tests.builders import draft_for_email as _draft

pytestmark = pytest.mark.django_db


def test_a_shipped_parcel_that_never_came_goes_to_a_person_not_back_to_its_tracking(demo_shop):
    outcome = _draft("alan.turing@example.com", "Hello, the headlamp from 1010 shows as delivered yet my letterbox "
                                                "and porch were empty. Can you help?")
    body = outcome.result.body
    assert "look into it with the carrier" in body and "You can follow it here" not in body
    assert outcome.result.confidence < 0.5 and "missing parcel" in outcome.reasons.needs_person


def test_a_parcel_said_lost_in_german_is_looked_into_in_german(demo_shop):
    outcome = _draft("guest.walker@example.net", "Mein Kocher aus Bestellung 1009 ist nie angekommen.", subject="Kocher")
    assert "mit dem Versanddienstleister zu klären" in outcome.result.body and outcome.result.confidence < 0.5


def test_a_parcel_not_yet_sent_is_not_treated_as_lost(demo_shop):
    outcome = _draft("ada.lovelace@example.com", "order 1002 never arrived, where is it?")
    assert "carrier" not in outcome.result.body and "#1002" in outcome.result.body


def test_the_order_whose_item_is_named_is_the_one_answered(demo_shop):
    # Ada's latest order is the stove (#1002); the tent is #1001.
    outcome = _draft("ada.lovelace@example.com", "the tent never came, what happened?")
    assert "#1001" in outcome.result.body and "#1002" not in outcome.result.body


def test_an_address_change_that_gives_the_address_is_not_asked_for_it_again(demo_shop):
    outcome = _draft("ada.lovelace@example.com", "Hallo, bitte liefern Sie 1002 an: Rosenweg 3, 50667 Köln. Danke",
                     subject="neue Adresse")
    body = outcome.result.body
    assert "Vielen Dank für die neue Adresse" in body and "vollständigen neuen Adresse" not in body


def test_an_address_change_without_the_address_still_asks_for_it(demo_shop):
    outcome = _draft("ada.lovelace@example.com", "I moved last week, can you change the address on order 1002?")
    assert "full new address" in outcome.result.body


def test_an_address_in_the_signature_is_not_the_new_one(demo_shop):
    outcome = _draft("ada.lovelace@example.com", "Could you change the delivery address for order 1002?\n\n"
                                                 "Best regards\nAda Lovelace\n12 St James's Square, London SW1Y 4JH")
    assert "full new address" in outcome.result.body


def test_a_cancellation_on_a_deadline_stated_after_the_ask_is_left_to_a_person(demo_shop):
    outcome = _draft("grace.hopper@example.com", "pls cancel 1003 if the boots are not sent before next week")
    body = outcome.result.body
    assert "I have asked our team to cancel it" not in body and "14 days" in body
    assert outcome.result.confidence < 0.5


def test_a_plain_cancellation_is_still_answered(demo_shop):
    outcome = _draft("guest.walker@example.net", "please cancel order 1008, if that is still possible")
    assert "I have asked our team to cancel it" in outcome.result.body


def test_what_a_gift_recipient_sees_is_answered_from_the_gift_page(demo_shop):
    # Tom has no orders: a question the model barely reads as an order's is answered from the site's pages.
    outcome = _draft("tom.baker@example.co.uk", "It is for my wife, posted to her office. Will she see what I paid?",
                     subject="present")
    assert "Prices are never shown on the packing slip" in outcome.result.body
    assert "could not find an order" not in outcome.result.body


def test_a_thank_you_in_a_thread_restates_nothing(demo_shop):
    outcome = _draft("katherine.johnson@example.com", "All sorted now, thank you so much!",
                     subject="Re: Your refund for order #1005")
    body = outcome.result.body
    assert "159.00" not in body and "return window" not in body
