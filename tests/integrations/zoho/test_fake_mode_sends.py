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
