"""Sender names a hostile mail client writes, through the signed Zoho webhook: the mail is kept and
answered, and the name agents read is one line of visible text, never a second header or a reversal."""

from __future__ import annotations

import json

import pytest

from conversations.models import Message
from omnichannel.models import WebhookDelivery
from tests.integrations.test_hostile_input import _secrets, email, zoho  # noqa: F401 - _secrets: the fixture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("sender", "name"), [
    # "Ada\r\nBcc: evil@x.example" as a base64 encoded word: refused as "not an email address" before.
    ("=?utf-8?b?QWRhDQpCY2M6IGV2aWxAeC5leGFtcGxl?= <ada@example.com>", "Ada Bcc: evil@x.example"),
    ("\u202eAda\u200b <ada@example.com>", "Ada"),  # U+202E would reverse the rest of the queue row
    ("=?utf-8?q?Ren=C3=A9e?= <ada@example.com>", "Renée"),
])
def test_a_hostile_sender_name_is_kept_as_one_visible_line(client, django_capture_on_commit_callbacks, sender, name):
    with django_capture_on_commit_callbacks(execute=True):
        assert zoho(client, json.dumps(email(fromAddress=sender)).encode()).status_code == 200
    assert WebhookDelivery.objects.get().status == "processed"
    message = Message.objects.get()
    assert (message.from_name, message.from_address) == (name, "ada@example.com")


def test_a_raw_line_break_in_the_name_is_still_refused_not_read_as_another_address(
        client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        zoho(client, json.dumps(email(fromAddress='"Ada\r\nFrom: boss@shop.example" <ada@example.com>')).encode())
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "is not an email address" in delivery.last_error
    assert not Message.objects.exists()


def test_a_subject_cannot_reverse_its_queue_row(client, django_capture_on_commit_callbacks):
    """"Refund \u202eredro ym" would read "Refund my order" in the queue and the page title; the letters the
    customer typed stay, the override goes (emoji joiners, which are not bidi controls, stay too)."""
    with django_capture_on_commit_callbacks(execute=True):
        payload = email(subject="Refund \u202eredro ym\u202c \U0001F468\u200d\U0001F469\u200d\U0001F467")
        assert zoho(client, json.dumps(payload).encode()).status_code == 200
    assert Message.objects.get().subject == "Refund redro ym \U0001F468\u200d\U0001F469\u200d\U0001F467"
