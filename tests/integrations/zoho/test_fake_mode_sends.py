"""The quick start sends: in ZOHO_MODE=fake the process's own fake Zoho knows every email we ingested."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from conversations.models import Draft
from conversations.services.approvals import draft_approve
from integrations.demo import seed_demo

pytestmark = pytest.mark.django_db(transaction=True)  # the fake answers from its own threads


def test_approving_a_demo_draft_in_fake_mode_sends_it_and_marks_it_sent(settings):
    settings.ZOHO_MODE = "fake"
    settings.ZOHO_BASE_URL = ""
    settings.ZOHO_ACCOUNTS_URL = ""
    settings.SEND_UNDO_SECONDS = 0
    seed_demo()
    draft = Draft.objects.filter(status=Draft.Status.PENDING).order_by("pk").first()
    draft_approve(draft_id=draft.pk, acting_user=get_user_model().objects.get(username="agent"))
    draft.refresh_from_db()
    assert draft.last_send_error == ""
    assert draft.status == Draft.Status.SENT
    assert draft.sent_message.direction == "outbound"
    assert draft.sent_message.in_reply_to == draft.reply_to.rfc_message_id


def test_a_reply_to_a_message_nobody_ingested_is_still_refused(settings):
    from integrations.zoho.client import ZohoClient, ZohoError

    settings.ZOHO_MODE = "fake"
    settings.ZOHO_BASE_URL = ""
    settings.ZOHO_ACCOUNTS_URL = ""
    client = ZohoClient.from_settings()
    with pytest.raises(ZohoError):
        client.message_reply(message_id="999999999", from_address="support@shop.example",
                             to_address="x@example.com", subject="Re: ?", content="hello")


def test_html_mail_becomes_text_that_keeps_cells_links_and_the_quote_apart():
    from integrations.zoho.ingest import html_to_text

    text = html_to_text('<p>This came:</p><table><tr><th>Item</th><th>Qty</th></tr><tr><td>Lamp</td><td>1</td></tr>'
                        '</table><p>See <a href="https://shop.example/returns">the returns page</a>.</p>'
                        '<div>On Fri, Nov 20, 2026 Shop wrote:<blockquote>Hi Ada, it shipped</blockquote></div>')
    assert "Item | Qty" in text and "Lamp | 1" in text
    assert "the returns page <https://shop.example/returns>" in text
    assert "wrote:\nHi Ada, it shipped" in text
