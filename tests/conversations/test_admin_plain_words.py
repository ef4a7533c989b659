"""The pages agents read about emails and conversations speak their language, not the developers'.

Before: a triaged email's page explained its fields with "RFC 5322 Message-ID header", "The RFC
headers triage reads (KEPT_HEADERS)", "[{name, content_type, size, blob_key}]", and a conversation's
with "Exported to the blob store and PII erased".
"""

from __future__ import annotations

import re

import pytest

from assistants.services import draft_generate
from tests.builders import logged_in_client, make_inbound_message

pytestmark = pytest.mark.django_db

JARGON = ["RFC", "KEPT_HEADERS", "blob", "PII", "payload", "Sanitized HTML", "provider's message id",
          "Message-ID", "In-Reply-To", "Which rule decided", "content_type", "External msg id", "Rfc message id",
          "Triage reason", "Triage label", "Is archived", "Unread count", "Sent at", "Headers:", "inbound only"]


def _visible_text(page: str) -> str:
    page = re.sub(r"(?s)<script.*?</script>|<style.*?</style>|<nav.*?</nav>", " ", page)
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


@pytest.fixture
def out_of_office():
    message = make_inbound_message(email="ada.holiday@example.com", subject="Out of office: back on Monday",
                                   body="I am out of the office until Monday 14 December with no access to email.")
    draft_generate(message_id=message.pk)
    message.refresh_from_db()
    assert message.triage_label == "auto_reply"
    return message


def test_a_triaged_email_reads_in_an_agents_words(out_of_office):
    client = logged_in_client("Agents", "grace")
    pages = [client.get(url) for url in (
        "/admin/conversations/triagedmessage/?state=open",
        f"/admin/conversations/triagedmessage/{out_of_office.pk}/change/",
        f"/admin/conversations/message/{out_of_office.pk}/change/",
        f"/admin/conversations/conversation/{out_of_office.conversation_id}/change/",
    )]
    assert [p.status_code for p in pages] == [200, 200, 200, 200]
    texts = [_visible_text(p.content.decode()) for p in pages]
    for text in texts:
        assert not [word for word in JARGON if word.lower() in text.lower()], text
    listing, triaged, message, conversation = texts
    assert "Set aside as" in listing and "Why" in listing and "Received" in listing
    assert "Emails set aside get no draft reply" in triaged
    assert "What in the email made the assistant set it aside" in triaged
    assert "I am out of the office until Monday 14 December" in triaged and "Email text" in message
    assert "The customer's oldest email we have not answered yet" in conversation
