"""The light stemmer and the FAQ matcher the drafter uses to tell that an FAQ entry answers a question."""

from __future__ import annotations

from assistants.terms import faq_match, faq_match_score, stem, terms

STUDENT = ("Do you have a student discount?", "Students get 10% off full-price items through UNiDAYS.")
GIFT = ("Do you offer gift wrapping?", 'Gift wrapping costs 4.00 USD per order: tick "Add gift wrap" at checkout.')


def test_terms_drop_function_words_and_common_endings_in_the_reply_languages():
    assert terms("Can I get the jacket gift wrapped? It is a present.") == {"jacket", "gift", "wrap", "present"}
    assert terms("Do you offer gift wrapping?") == {"gift", "wrap"}
    assert terms("Which payment methods do you accept?") == {"pay", "method", "accept"}
    spanish = {"descuento", "estudiant"}
    assert terms("¿Tienen descuento para estudiantes?") == terms("¿Hay descuento de estudiante?") == spanish
    assert terms("Gibt es einen Rabatt für Studenten?") == {"rabat", "student"}
    assert stem("addresses") == "address" and stem("class") == "class" and stem("deliveries") == "delivery"


def test_a_question_in_other_words_matches_its_faq_entry():
    assert faq_match("Is there a discount for students?", *STUDENT)
    assert faq_match("I'm a student, do I get a discount on boots?", *STUDENT)
    assert faq_match("Can I get the jacket gift wrapped? It is a present.", *GIFT)


def test_a_question_about_something_else_does_not_match_even_with_a_shared_word():
    # "discount" alone covers half the entry's question, but most of what is asked is elsewhere.
    assert not faq_match("Is there a discount code for the winter sale on tents and sleeping bags?", *STUDENT)
    assert faq_match_score("Where is my order #1001?", *GIFT) == 0.0  # nothing of the entry's question
    assert faq_match_score("", *GIFT) == 0.0 and faq_match_score("gift wrap", "", "") == 0.0
