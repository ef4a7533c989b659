"""The reply is written in the customer's language: English, German, Spanish or French, through
Django's gettext catalogs (locale/); any other language gets English at low confidence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from assistants.context import email_in
from assistants.language import language_detect
from assistants.services import draft_compose

pytestmark = pytest.mark.django_db


def _draft(sender: str, body: str):
    return draft_compose(email=email_in(from_address=sender, subject="", body=body))


@pytest.mark.parametrize(("text", "language"), [
    ("Hallo, wo bleibt denn meine Bestellung? Ich warte seit zwei Wochen.", "de"),
    ("hola, cuando llega mi pedido? lo necesito para el viernes", "es"),
    ("Bonjour, ma commande n'est toujours pas arrivée, pouvez-vous vérifier ?", "fr"),
    ("hey, wheres my order?? been ages", "en"),
    ("Buongiorno, dov'è il mio ordine? Non è ancora arrivato.", "other"),
    ("Goedemiddag, waar blijft mijn bestelling? Ik wacht al twee weken.", "other"),
])
def test_the_language_is_told_apart_and_any_other_is_other(text, language):
    assert language_detect(text) == language


def test_a_german_email_gets_a_german_reply_with_the_same_facts(demo_shop):
    outcome = _draft("ada.lovelace@example.com", "Hallo, wo ist meine Bestellung 1001? Ich warte schon lange.")
    body = outcome.result.body
    assert outcome.language == "de" and body.startswith("Hallo Ada,")
    assert "Ihre Bestellung #1001 wurde versandt." in body and "1Z999AA10123456784" in body
    assert body.endswith("Schöne Touren wünscht\nIhr Demo-Shop-Team")  # the style profile's sign-off, translated


def test_a_spanish_email_gets_a_spanish_reply_agreeing_in_number(demo_shop):
    outcome = _draft("grace.hopper@example.com", "Hola, ¿tienen las trail hiking boots en talla 44?")
    assert outcome.language == "es"
    assert "«Trail hiking boots size 44» están disponibles (6 en stock)" in outcome.result.body


def test_a_french_email_gets_a_french_reply(demo_shop):
    outcome = _draft("guest.walker@example.net", "Bonjour, est-ce que ma commande 1009 est partie ? Merci")
    assert outcome.language == "fr" and "Votre commande #1009 a été expédiée." in outcome.result.body


def test_another_language_gets_an_english_draft_below_half_with_the_reason_language(demo_shop):
    outcome = _draft("ada.lovelace@example.com", "Buongiorno, dov'è il mio ordine 1001? Non è ancora arrivato.")
    assert outcome.language == "other" and outcome.result.body.startswith("Hi Ada,")
    assert "#1001 has shipped" in outcome.result.body  # a number the sender owns, named without "order"
    assert outcome.result.confidence < 0.5 and [c["reason"] for c in outcome.reasons.caps] == ["language"]


def test_the_compiled_catalogs_hold_every_translation_of_their_po_files():
    """The .mo files are committed (no machine needs gettext): each must match its .po."""
    for po in sorted(Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.po")):
        language = po.parent.parent.name
        text = po.read_text(encoding="utf-8")
        pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', text, re.MULTILINE)
        assert len(pairs) > 50
        with translation.override(language):
            for msgid, msgstr in pairs:
                def unquote(value: str) -> str:
                    return value.replace('\\"', '"').replace("\\n", "\n")
                assert translation.gettext(unquote(msgid)) == unquote(msgstr), (language, msgid)
