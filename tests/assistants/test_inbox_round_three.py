"""What a third round of unseen inbox mail taught the drafter (goldens/heldout.yaml, `ho3-*`): each
behaviour shown on its own, in the words customers use."""

from __future__ import annotations

import pytest

from assistants.context import email_in
from assistants.request_refs import order_refs_find, variants_find
from assistants.requests import email_requests
from assistants.services import draft_compose
from assistants.triage import PRIVACY_REQUEST, triage_classify
from integrations.demo import seed_demo

# --- what an email names ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["de kapotte lamp uit bestelling 1007", "mijn bestelnummer 1007",
                                  "il mio ordine 1007 non è arrivato", "ordine n. 1007"])
def test_dutch_and_italian_order_words_name_the_order(text):
    assert order_refs_find(text) == ["#1007"]


@pytest.mark.parametrize("text, size", [("can I swap them for a 45?", "45"), ("can I just have the 44s instead", "44"),
                                        ("do they come in a 43, then", "43")])
def test_a_shoe_size_written_as_a_bare_number_is_a_size(text, size):
    assert [(v.kind, v.value) for v in variants_find(text)] == [("size", size)]


@pytest.mark.parametrize("text", ["we walked for a 45 minute loop", "it came in 40 days", "I paid 45 dollars",
                                  "I am 42 years old"])
def test_numbers_that_are_not_sizes_stay_numbers(text):
    assert variants_find(text) == []


# --- an email's requests ------------------------------------------------------------------------------


def test_a_name_signed_on_its_own_line_is_not_a_request():
    found = email_requests(subject="order", body="hi where is my order? ordered last week, heard nothing.\nmike")
    assert [r.intent for r in found.requests] == ["order_status"]


def test_a_short_question_pointing_back_joins_the_request_before_it():
    found = email_requests(subject="Adresse", body="Ich habe bei meiner Bestellung 1002 die alte Adresse angegeben. "
                                                   "Können Sie das noch ändern?")
    assert [r.intent for r in found.requests] == ["address_change"]
    # One that says what it asks stays a request of its own.
    two = email_requests(subject="zip", body="The zip on my tent broke after a month of use. "
                                             "Is that covered by the warranty?")
    assert len(two.requests) == 2


def test_a_short_question_after_and_is_a_request_of_its_own():
    found = email_requests(subject="chaqueta", body="Quería saber si tenéis la chaqueta Stormshell en talla L y cuánto "
                                                    "cuesta.")
    assert [r.intent for r in found.requests] == ["availability", "price"]


# --- triage -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "Bonjour, merci d'effacer toutes les données personnelles me concernant. Cordialement",
    "Merci de supprimer mon compte client et de ne plus m'écrire.",
    "Bitte löschen Sie alle gespeicherten Daten über mich.",
    "Por favor, borren todos los datos que tienen sobre mí.",
])
def test_an_erasure_asked_by_whom_the_data_is_about_is_a_privacy_request(body):
    assert triage_classify(from_address="someone@example.net", subject="données", body=body).label == PRIVACY_REQUEST


# --- drafts on the demo shop --------------------------------------------------------------------------


@pytest.fixture
def shop(db):
    seed_demo()


def _draft(sender: str, subject: str, body: str):
    return draft_compose(email=email_in(from_address=sender, subject=subject, body=body))


def test_a_site_page_that_only_shares_a_product_name_does_not_answer_a_question(shop):
    outcome = _draft("katherine.johnson@example.com", "code",
                     "The code from your welcome email is refused at checkout, I wanted to buy the tent tonight.")
    assert "warranty" not in outcome.result.body.lower() and outcome.result.confidence < 0.5
    assert not [s for s in outcome.result.used if s.kind == "site"]


def test_a_question_only_its_context_explains_finds_its_site_page(shop):
    outcome = _draft("katherine.johnson@example.com", "jacket",
                     "My rain jacket doesn't bead water on the surface any more. What should I be doing to look after "
                     "it?")
    assert "Re-proof" in outcome.result.body and {s.kind for s in outcome.result.used} == {"site"}


def test_a_request_the_model_barely_places_gets_no_template_that_asserts_something(shop):
    outcome = _draft("guest.walker@example.net", "Facture", "Bonjour, pourriez-vous établir la facture de la commande "
                                                            "1009 au nom de la société Walker SARL à Lyon ?")
    body = outcome.result.body
    assert outcome.language == "fr" and outcome.result.confidence < 0.5
    assert "ne le proposons pas" not in body and "revendeurs" not in body


def test_an_email_in_a_language_we_do_not_reply_in_is_not_read_as_a_privacy_request(shop):
    outcome = _draft("edsger.dijkstra@example.com", "terugbetaling",
                     "Ik wacht nog op het geld voor de kapotte lamp van bestelling 1007. Wanneer krijg ik het?")
    assert "personal data" not in outcome.result.body and outcome.confidence < 0.5


def test_a_swap_for_a_size_the_shop_does_not_make_says_so_with_the_sizes_it_does(shop):
    outcome = _draft("edsger.dijkstra@example.com", "boots", "The 44 boots pinch a bit. Could I exchange them for a 46?")
    assert "We do not make the Trail hiking boots in size 46; they come in size 42, size 44." in outcome.result.body


def test_a_partly_shipped_order_says_when_the_rest_is_due(shop):
    outcome = _draft("alan.turing@example.com", "1004", "Only half of order 1004 came. Where's the rest?")
    assert "9400111899223197428490" in outcome.result.body and "21 days" in outcome.result.body


def test_wanting_one_more_of_an_item_asks_its_stock_not_a_return():
    found = email_requests(subject="sleeping bag", body="The sleeping bag was great. I'd like to grab one for the same "
                                                        "trip, my brother is coming too. Any left?")
    assert found.requests and {r.intent for r in found.requests} == {"availability"}


def test_money_back_on_a_condition_is_left_to_a_person_after_the_delay_is_answered(shop):
    outcome = _draft("grace.hopper@example.com", "boots!!", "Still no boots, order 1003. If they are not with me by "
                                                             "Saturday I want a refund.")
    body = outcome.result.body
    assert "sorry" in body and "14 days" in body and outcome.result.confidence < 0.5
    assert "cannot see a refund" not in body and "30 days" not in body
