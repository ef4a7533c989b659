"""A customer who names the thing in one sentence and asks for it with "one" or "them" in the next
("I would like a catalogue. Do you have one?") asks for nothing called "one": the demand report Ops read
listed "one" beside kayaks and boots (seen in the demo shop's product requests)."""

from __future__ import annotations

import pytest

from assistants.services import draft_generate
from catalog.demand import request_normalize
from catalog.models import ProductRequest
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", [
    "I would like a catalogue. Do you have one?",
    "Saw the blue tent on Instagram. Do you have them in stock?",
    "Do you have it in a smaller size?",
    "Do you have any in stock?",
    "My friend has that lamp, do you sell those?",
])
def test_a_word_pointing_back_is_not_a_product_anyone_asked_for(text):
    assert request_normalize(text) is None


@pytest.mark.parametrize("text,expected", [
    ("Do you have one person tents?", "one person tent"),
    ("Do you sell stock pots?", "stock pot"),
])
def test_those_words_inside_a_named_product_still_count(text, expected):
    assert request_normalize(text) == expected


def test_the_catalogue_email_adds_no_product_request_called_one():
    message = make_inbound_message(email="drew.ellis@example.net", subject="Catalogue",
                                   body="I would like a catalogue. Do you have one?")
    draft_generate(message_id=message.pk)
    assert not ProductRequest.objects.filter(normalized="one").exists()
