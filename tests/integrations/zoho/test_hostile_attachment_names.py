"""Attachment names a hostile sender picks, through the signed Zoho webhook and (a local fake of)
Zoho's API: the name kept on the message, shown on the review page and given to the download is
one without a path, without invisible characters that reverse how it reads, and with its extension."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conversations.models import Draft
from tests.builders import make_staff, zoho_deliver
from tests.integrations.zoho.conftest import fake_zoho  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.django_db
SECRET = "zoho-attachment-secret"
# (what the sender named it, what the agent sees and downloads)
NAMES = [
    ("invoice\u202egpj.exe", "invoicegpj.exe"),  # with the override it reads "invoiceexe.jpg"
    ("../../etc/passwd", "passwd"),
    ("photo\u200b.jpg\u2066", "photo.jpg"),
    ("r" * 500 + ".exe", "r" * 146 + ".exe"),
    ("", "attachment"),
]


def test_hostile_attachment_names_are_kept_and_served_as_they_read(client, fake_zoho, settings,  # noqa: F811
                                                                   django_capture_on_commit_callbacks):
    settings.ZOHO_WEBHOOK_SECRET = SECRET
    meta = {**fake_zoho.messages["1732512000000100002"], "messageId": 1732512000000100092, "threadId": 92}
    fake_zoho.add_message(meta, content="<p>Invoice attached.</p>")
    fake_zoho.attachments["1732512000000100092"] = [
        {"attachmentId": 950 + n, "attachmentName": name, "attachmentSize": 4, "content": "MZ\x90\x00",
         "contentType": "image/jpeg"} for n, (name, _) in enumerate(NAMES)]
    message = zoho_deliver(client, django_capture_on_commit_callbacks, meta, secret=SECRET)
    assert [a["name"] for a in message.attachments] == [shown for _, shown in NAMES]

    client.force_login(make_staff("Agents", "grace"))
    draft = Draft.objects.get(reply_to=message)
    page = client.get(reverse("admin:conversations_draft_change", args=[draft.pk])).content.decode()
    assert "\u202e" not in page and "\u2066" not in page and "etc/passwd" not in page
    for index, (_, shown) in enumerate(NAMES):
        served = client.get(reverse("admin:conversations_draft_attachment", args=[draft.pk, message.pk, index]))
        assert served["Content-Disposition"] == f'attachment; filename="{shown}"'
        assert served["Content-Type"] == "application/octet-stream"
