"""Every request in an email understood: quoted history and signatures cut, the email split into the
customer's requests, each classified by the trained model, with the orders, products, variants,
money and dates it names (those alone: test_request_refs.py).

The emails and phrasings here were written before the training examples were and are not among
them: they stand for mail the model has never seen."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from assistants import classifier
from assistants.context import email_in
from assistants.email_text import email_clean
from assistants.intents import INTENTS, intent_for_draft
from assistants.requests import email_requests
from assistants.services import draft_compose
from integrations.demo import seed_demo
from tests.builders import draft_reply_json

CATALOG = [
    ("TENT-2P-GRN", "Ridgeline 2-person tent (green)"),
    ("STOVE-TI-01", "Titanium camp stove"),
    ("JKT-RAIN-M", "Stormshell rain jacket (M)"),
    ("LAMP-HD-300", "Headlamp 300 lumen"),
    ("BOOT-HK-42", "Trail hiking boots size 42"),
]
ORDER_LIKE = {"order_status", "delay_complaint", "delivery_deadline"}


def _intents(parsed) -> list[str]:
    return [r.intent for r in parsed.requests]


# --- multi-request emails, four languages ------------------------------------------------------------

def test_an_english_email_asking_about_an_order_and_a_jacket_gives_two_requests():
    parsed = email_requests(subject="order + question", catalog=CATALOG, body=(
        "Hi team,\n\n"
        "I placed order no. 1010 two weeks ago and it still hasn't been sent out - can you check what's going "
        "on with it? Also, do you have the Stormshell rain jacket in XL?\n\n"
        "Thanks so much,\nPriya\n\nSent from my iPhone"))
    assert len(parsed.requests) == 2, parsed.requests
    first, second = parsed.requests
    assert first.intent in ORDER_LIKE and first.refs.orders == ("#1010",)
    assert second.intent == "availability"
    assert [v.value for v in second.refs.variants] == ["XL"]
    assert [p.sku for p in second.refs.products] == ["JKT-RAIN-M"]
    assert parsed.refs.orders == ("#1010",) and parsed.language == "en"
    assert "iPhone" not in parsed.text and "Priya" not in parsed.text


def test_stock_and_store_collection_are_two_requests():
    parsed = email_requests(subject="stove", catalog=CATALOG, body=(
        "is the titanium camp stove in stock? if so could I pick it up from your Bristol shop on saturday "
        "rather than have it posted"))
    assert _intents(parsed) == ["availability", "store_collection"]
    assert parsed.requests[1].refs.dates[0].weekday == 5


def test_a_price_question_and_a_stock_question_in_one_sentence_are_split():
    parsed = email_requests(subject="", catalog=CATALOG,
                            body="how much is the 300 lumen headlamp and do you have 5 of them available")
    assert _intents(parsed) == ["price", "availability"]
    assert [p.sku for p in parsed.requests[0].refs.products] == ["LAMP-HD-300"]


def test_a_german_email_about_a_late_order_and_a_new_address():
    parsed = email_requests(subject="Bestellung", body=(
        "Hallo zusammen,\n\n"
        "meine Bestellung 1004 ist immer noch nicht angekommen, wo bleibt sie? Außerdem möchte ich die "
        "Lieferadresse ändern, ich bin letzte Woche umgezogen.\n\n"
        "Mit freundlichen Grüßen\nJonas Weber"))
    intents = _intents(parsed)
    assert len(intents) == 2 and intents[0] in ORDER_LIKE and intents[1] == "address_change", parsed.requests
    assert parsed.refs.orders == ("#1004",) and parsed.language == "de"
    assert "Jonas" not in parsed.text


def test_a_spanish_email_about_an_order_a_deadline_and_a_jacket():
    parsed = email_requests(subject="consulta", catalog=CATALOG, body=(
        "Hola, quería saber cuándo llega mi pedido nº 1007, lo necesito antes del viernes. "
        "¿Y tienen la chaqueta Stormshell en talla M en color azul?\n\nSaludos,\nLucía"))
    assert parsed.requests[0].intent in ORDER_LIKE and parsed.requests[-1].intent == "availability"
    assert parsed.refs.orders == ("#1007",) and parsed.language == "es"
    deadline = parsed.requests[0].refs.dates[0]
    assert deadline.deadline and deadline.weekday == 4
    variants = {(v.kind, v.value) for v in parsed.requests[-1].refs.variants}
    assert variants == {("size", "M"), ("colour", "blue")}


def test_a_french_email_returning_shoes_and_asking_about_the_refund():
    parsed = email_requests(subject="retour", body=(
        "Bonjour,\nJe voudrais retourner les chaussures de la commande n° 1003, elles sont trop petites. "
        "Quand est-ce que je serai remboursé ?\nCordialement,\nMarie Dupont"))
    assert _intents(parsed) == ["returns", "refund_status"]
    assert parsed.refs.orders == ("#1003",) and parsed.language == "fr"


def test_greetings_and_thanks_are_not_requests():
    parsed = email_requests(subject="Thanks", body="Hello Sam,\n\nThank you so much for sorting that out yesterday!\n"
                                                  "Have a lovely weekend.\n\nBest,\nKim")
    assert parsed.requests == ()
    assert intent_for_draft(None) == "general"


def test_the_subject_is_the_request_when_the_body_has_none():
    parsed = email_requests(subject="Do you ship to Norway?", body="Hi,\n\nthanks!\nOle")
    assert _intents(parsed) == ["shipping_policy"]


def test_a_greeting_without_punctuation_does_not_swallow_the_question():
    parsed = email_requests(subject="", body="hi where is my order 1010 also do u have the boots in 44 thx")
    assert len(parsed.requests) == 2 and parsed.requests[0].intent in ORDER_LIKE
    assert parsed.requests[0].text == "where is my order 1010" and parsed.requests[1].intent == "availability"


def test_each_item_of_a_list_is_a_request_of_its_own():
    parsed = email_requests(subject="Questions", body=(
        "Hello,\n\nA few things:\n- can I still cancel the stove from order 1002\n- do you ship to Ireland\n"
        "- is the 2 person tent waterproof\n\nThanks\nKim"))
    assert _intents(parsed) == ["cancellation", "shipping_policy", "general"]
    assert parsed.requests[0].refs.orders == ("#1002",) and parsed.requests[1].text == "do you ship to Ireland"


# --- quoted history and signatures --------------------------------------------------------------------

@pytest.mark.parametrize("quote", [
    "On Mon, 3 Nov 2026 at 10:04, Demo Shop <support@demo-shop.example> wrote:\n> Your order #1001 has shipped.\n> Best",
    "On Mon, 3 Nov 2026 at 10:04, Demo Shop <support@demo-shop.example>\nwrote:\n\n> Your order #1001 has shipped.",
    "Am 03.11.2026 um 10:04 schrieb Demo Shop <support@demo-shop.example>:\n> Ihre Bestellung #1001 ist unterwegs.",
    "El lun, 3 nov 2026 a las 10:04, Demo Shop (<support@demo-shop.example>) escribió:\n> Su pedido #1001 ha salido.",
    "Le lun. 3 nov. 2026 à 10:04, Demo Shop <support@demo-shop.example> a écrit :\n> Votre commande #1001 est partie.",
    "-----Original Message-----\nFrom: Demo Shop\nSent: Monday\nYour order #1001 has shipped.",
    "________________________________\nFrom: Demo Shop <support@demo-shop.example>\nSent: Monday, November 3, 2026 "
    "10:04 AM\nTo: kim@example.org\nSubject: Re: order\n\nYour order #1001 has shipped.",
    "From: Demo Shop <support@demo-shop.example>\nSent: Monday, November 3, 2026 10:04 AM\nTo: kim@example.org\n"
    "Subject: order\n\nYour order #1001 has shipped.",
])
def test_quoted_history_is_removed_in_every_mail_client_format(quote):
    body = f"Where is order 1002 please?\n\n{quote}\n> older line"
    assert email_clean(body) == "Where is order 1002 please?"
    assert email_requests(subject="Re: order", body=body).refs.orders == ("#1002",)


def test_interleaved_quote_lines_are_dropped_and_the_answers_kept():
    body = "> Which size do you need?\nEU 42 please\n> And the colour?\nblack"
    assert email_clean(body) == "EU 42 please\nblack"


@pytest.mark.parametrize("signature", [
    "-- \nKim Lee\nLee Outdoor Ltd\nTel 0161 555 0100",
    "Best regards,\nKim Lee",
    "Kind regards, Kim",
    "Mit freundlichen Grüßen\nJonas Weber\nMusterstraße 1",
    "Viele Grüße, Jonas",
    "Saludos,\nLucía",
    "Un saludo\nLucía García",
    "Cordialement,\nMarie Dupont",
    "Sent from my iPhone",
    "Von meinem iPhone gesendet",
    "Enviado desde mi iPhone",
    "Envoyé de mon iPhone",
])
def test_signatures_are_removed(signature):
    assert email_clean(f"Can you cancel order 1002?\n\n{signature}") == "Can you cancel order 1002?"


def test_a_thanks_inside_the_text_is_not_taken_for_a_signature():
    body = "Thanks for the quick reply.\nOne more thing: can I still change the address on order 1002?\nThanks, Kim"
    assert email_clean(body) == "Thanks for the quick reply.\nOne more thing: can I still change the address on order 1002?"


# --- the classifier -------------------------------------------------------------------------------------

def test_a_marketing_email_promising_money_back_is_not_a_returns_request():
    parsed = email_requests(subject="Autumn sale: 20% off everything", body=(
        "Hi there!\n\nOur autumn sale starts today: 20% off all outdoor gear for one week only. Every purchase "
        "comes with our 60-day money back guarantee, so you can shop risk free.\n\nBrowse the new arrivals "
        "on our website.\n\nYou are receiving this because you signed up. Unsubscribe at any time."))
    assert not {"returns", "refund_status"} & set(_intents(parsed)), parsed.requests
    assert intent_for_draft(parsed.primary.intent if parsed.primary else None) != "returns_refunds"


# Phrasings the training data does not contain (checked below), one or more per intent and language.
HELD_OUT = [
    ("any news on when my parcel gets here? ordered last monday", "order_status"),
    ("Has order 1009 been dispatched yet", "order_status"),
    ("Könnt ihr mir die Sendungsnummer schicken?", "order_status"),
    ("¿Me pueden pasar el número de seguimiento?", "order_status"),
    ("Vous pouvez me donner le lien de suivi du colis ?", "order_status"),
    ("will it get here before my trip on the 12th?", "delivery_deadline"),
    ("Kommt das Paket noch vor Weihnachten an?", "delivery_deadline"),
    ("¿Llegará a tiempo para el cumpleaños de mi hijo el sábado?", "delivery_deadline"),
    ("do you still have the green tent or is it sold out", "availability"),
    ("Habt ihr die Wanderschuhe noch in 43?", "availability"),
    ("Est-ce que la veste est encore disponible en M ?", "availability"),
    ("¿Cuánto cuesta el saco de dormir?", "price"),
    ("C'est combien le réchaud en titane ?", "price"),
    ("what does the 2 person tent cost", "price"),
    ("Was kostet die Stirnlampe?", "price"),
    ("I'd like to send the boots back, they pinch", "returns"),
    ("Ich möchte die Jacke zurückschicken", "returns"),
    ("Quiero devolver la linterna", "returns"),
    ("it's been 3 weeks since you got my return and still no money on my card", "refund_status"),
    ("Wann bekomme ich mein Geld zurück?", "refund_status"),
    ("please cancel my order before it ships", "cancellation"),
    ("Je souhaite annuler ma commande", "cancellation"),
    ("Bitte stornieren Sie meine Bestellung", "cancellation"),
    ("can the parcel go to my office instead, new address below", "address_change"),
    ("Cambié de domicilio, ¿pueden enviarlo a otra dirección?", "address_change"),
    ("the stove arrived with a dent in it", "damaged_item"),
    ("Ich habe die falsche Größe bekommen", "damaged_item"),
    ("La lampe frontale ne s'allume pas", "damaged_item"),
    ("this is ridiculous, two weeks late and no reply from you", "delay_complaint"),
    ("Es una vergüenza, llevo un mes esperando", "delay_complaint"),
    ("do you guys sell paddle boards", "product_request"),
    ("Vendez-vous des kayaks ?", "product_request"),
    ("Do you ship to Norway?", "shipping_policy"),
    ("Liefert ihr auch nach Österreich?", "shipping_policy"),
    ("can I come and collect my order from the shop", "store_collection"),
    ("¿Puedo recogerlo en la tienda?", "store_collection"),
    ("We run a scout group and would like to buy 40 headlamps at a trade price", "wholesale"),
    ("Nous sommes un magasin de sport et souhaitons devenir revendeur", "wholesale"),
    ("please delete all my personal data from your systems", "privacy"),
    ("Bitte löschen Sie mein Kundenkonto und alle meine Daten", "privacy"),
    ("are you hiring for the summer?", "general"),
    ("¿Cuál es el horario de la tienda?", "general"),
]


def test_the_held_out_phrasings_are_not_in_the_training_data():
    seen = {" ".join(e.text.lower().split()) for e in classifier.intent_examples_load()}
    assert not [text for text, _ in HELD_OUT if " ".join(text.lower().split()) in seen]


def test_phrasings_the_model_never_saw_get_the_right_intent():
    wrong = []
    for text, expected in HELD_OUT:
        intent, probability, ranked = classifier.request_classify(text)
        if intent != expected:
            wrong.append((text, expected, ranked[:2]))
    # A learned model, not a lookup table: it may miss a few, but not many.
    assert len(wrong) <= len(HELD_OUT) // 10, wrong


def test_the_answer_is_ranked_probabilities_that_sum_to_one():
    intent, probability, ranked = classifier.request_classify("where is my parcel")
    assert intent == ranked[0][0] and probability == ranked[0][1]
    assert abs(sum(p for _, p in ranked) - 1) < 1e-6 and set(dict(ranked)) == set(classifier.INTENTS)


def test_the_training_set_covers_every_intent_in_four_languages():
    examples = classifier.intent_examples_load()
    assert len(examples) >= 600
    for language in ("en", "de", "es", "fr"):
        assert sum(e.language == language for e in examples) >= 100, language
    assert {e.intent for e in examples} == set(classifier.INTENTS)


def test_training_is_deterministic():
    """Two trainings on the same examples give the same model: the same vocabulary, and the same
    intents with the same probabilities. (How long training takes is bench/drafts.py's to show.)"""
    first = classifier.intent_model_train(classifier.intent_examples_load())
    second = classifier.intent_model_train(classifier.intent_examples_load())
    assert first.vectorizer.vocabulary_ == second.vectorizer.vocabulary_
    for text in ("wo ist mein paket", "do you have the tent in green?", "je voudrais annuler ma commande"):
        assert first.classify(text) == second.classify(text)
        assert first.language(text) == second.language(text)


@pytest.mark.parametrize("fine,coarse", [
    ("order_status", "order_status"), ("delivery_deadline", "order_status"), ("delay_complaint", "order_status"),
    ("availability", "availability"), ("price", "availability"), ("returns", "returns_refunds"),
    ("refund_status", "returns_refunds"), ("cancellation", "returns_refunds"), ("damaged_item", "returns_refunds"),
    ("address_change", "address_change"), ("product_request", "product_request"), ("shipping_policy", "general"),
    ("store_collection", "general"), ("wholesale", "general"), ("privacy", "general"), ("general", "general"),
])
def test_every_fine_intent_maps_onto_one_the_drafter_knows(fine, coarse):
    assert intent_for_draft(fine) == coarse and coarse in INTENTS


def test_intent_report_prints_per_intent_and_per_language_scores():
    out = StringIO()
    call_command("intent_report", stdout=out)
    text = out.getvalue()
    for label in (*classifier.INTENTS, "en", "de", "es", "fr", "accuracy"):
        assert label in text


# --- integration: the drafter gets every request, and orders named without '#' -------------------------

@pytest.mark.django_db
def test_an_order_named_without_a_hash_is_the_order_the_draft_talks_about():
    seed_demo()
    outcome = draft_compose(email=email_in(from_address="alan.turing@example.com", subject="headlamp",
                                           body="Has order 1010 been sent out yet? I can't find a tracking number."))
    assert outcome.context.referenced_order is not None
    assert outcome.context.referenced_order.facts["name"] == "#1010"
    assert outcome.intent.intent == "order_status" and "9400111899223197428506" in outcome.result.body


@pytest.mark.django_db
def test_draft_reply_json_lists_every_request_with_its_intent(tmp_path):
    seed_demo()
    data = draft_reply_json(tmp_path, "--from", "ada.lovelace@example.com", "--subject", "two things", "--dry-run",
                            body="Hi, where is my order no. 1002? And is the Ridgeline tent in stock in green?\n\n"
                                 "Cheers,\nAda")
    assert data["intent"] == "order_status"
    assert [r["intent"] for r in data["requests"]] == ["order_status", "availability"]
    first, second = data["requests"]
    assert first["text"].startswith("where is my order") and first["refs"]["orders"] == ["#1002"]
    assert 0 < first["probability"] <= 1
    assert second["refs"]["variants"] == [{"kind": "colour", "value": "green", "text": "green"}]


@pytest.mark.django_db
def test_a_reply_that_names_no_order_is_about_the_order_in_the_history_it_quotes():
    seed_demo()
    outcome = draft_compose(email=email_in(from_address="ada.lovelace@example.com", subject="Re: your order", body=(
        "Any news?\n\nOn Mon, 3 Nov 2026 at 10:04, Demo Shop <support@demo-shop.example> wrote:\n"
        "> Your order #1001 is on its way.")))
    assert [r.text for r in outcome.requests] == ["Any news?"]
    assert outcome.context.referenced_order.facts["name"] == "#1001"
