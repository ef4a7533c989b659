"""The quick start still sends after a restart: `make run` stopped and started again (or a web and a
worker process) gets a new in-process fake Zoho, whose reply ids must not be those of the replies
an earlier process sent, which the database already holds."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from conversations.models import Draft
from conversations.services.approvals import draft_approve
from integrations.demo import seed_demo
from integrations.zoho import fake

pytestmark = pytest.mark.django_db(transaction=True)  # the fake answers from its own threads


def _approve_next() -> Draft:
    draft = Draft.objects.filter(status=Draft.Status.PENDING).order_by("pk").first()
    draft_approve(draft_id=draft.pk, acting_user=get_user_model().objects.get(username="agent"))
    draft.refresh_from_db()
    return draft


def test_a_reply_approved_after_a_restart_is_sent_too(settings):
    settings.ZOHO_MODE = "fake"
    settings.ZOHO_BASE_URL = ""
    settings.ZOHO_ACCOUNTS_URL = ""
    settings.SEND_UNDO_SECONDS = 0
    seed_demo()
    before = _approve_next()
    assert before.status == Draft.Status.SENT
    with fake._shared_lock:  # the process ends: the next one starts its own fake
        previous, fake._shared = fake._shared, None
    try:
        after = _approve_next()
        assert after.last_send_error == "" and after.sending_started_at is None
        assert after.status == Draft.Status.SENT
        assert after.sent_message_id != before.sent_message_id
    finally:
        if fake._shared is not None:
            fake._shared.close()
        fake._shared = previous
