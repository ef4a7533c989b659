"""Hostile input at the integrations' edges gets a clear answer or a clear failure (issue item 10).

Signed webhooks through the Django test client, on Postgres: deeply nested JSON, `From` headers with
nested comments, CR/LF in a subject, `javascript:` tracking links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from conversations.models import Draft, Message
from conversations.services.approvals import draft_approve
from conversations.services.sending import draft_send_claim
from customers.models import Order
from integrations.shopify import graphql_ingest
from omnichannel.models import WebhookDelivery
from tests.integrations.shopify.conftest import fixture

pytestmark = pytest.mark.django_db
ZOHO_SECRET, SHOPIFY_SECRET = "test-zoho-secret", "shpss_test_secret"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.ZOHO_WEBHOOK_SECRET = ZOHO_SECRET
    settings.SHOPIFY_WEBHOOK_SECRET = SHOPIFY_SECRET


def _sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def zoho(client, body: bytes):
    return client.post("/webhooks/zoho/", data=body, content_type="application/json",
                       HTTP_X_HOOK_SIGNATURE=_sign(ZOHO_SECRET, body))


def shopify(client, body: bytes, topic: str = "orders/updated"):
    return client.post("/webhooks/shopify/", data=body, content_type="application/json", headers={
        "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": _sign(SHOPIFY_SECRET, body)})


def email(**overrides) -> dict:
    data = {"messageId": 1764400000000000001, "folderId": "inbox", "threadId": 1764400000000000001,
            "subject": "Where is my order?", "fromAddress": "ada@example.com", "sender": "Ada Lovelace",
            "toAddress": "support@demo-shop.example", "receivedTime": "1764400000000", "html": "<p>Hi</p>"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("source", ["zoho", "shopify"])
@pytest.mark.parametrize("shape", ["[" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000, '{"a":' * 80 + "1" + "}" * 80])
def test_a_deeply_nested_body_is_answered_400_naming_the_nesting_and_kept_as_failed(client, source, shape):
    body = shape.encode()
    response = zoho(client, body) if source == "zoho" else shopify(client, body)
    assert response.status_code == 400
    assert "nested more than 64 levels deep" in response.json()["error"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "nested more than 64 levels deep" in delivery.last_error


def test_a_body_nested_within_the_limit_is_accepted(client, django_capture_on_commit_callbacks):
    nested = {"level": 1}
    for n in range(2, 40):
        nested = {"level": n, "inner": nested}
    with django_capture_on_commit_callbacks(execute=True):
        assert zoho(client, json.dumps(email(extra=nested)).encode()).status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.parametrize(("sender", "name", "address"), [
    ('"Ada (my (work) address)" <ada@example.com>', "Ada (my (work) address)", "ada@example.com"),
    ("ada@example.com (Ada (home))", "Ada Lovelace", "ada@example.com"),  # a comment is no name: Zoho's `sender`
    ("Ada (my (work) address) <ADA@example.com>", "Ada", "ada@example.com"),
    ("&quot;Ada (a (b))&quot; &lt;ada@example.com&gt;", "Ada (a (b))", "ada@example.com"),
    ("ada@example.com (Ada (home)", "Ada Lovelace", "ada@example.com"),  # an unclosed comment: the address is clear
    # A comment that holds another address must not become the name agents read as the sender.
    ("Ada (a (b) <mallory@evil.example>) <ada@example.com>", "Ada", "ada@example.com"),
    ("((ada@example.com)) mallory@evil.example", "Ada Lovelace", "mallory@evil.example"),
])
def test_a_from_header_with_nested_comments_is_ingested_with_its_real_address(
        client, django_capture_on_commit_callbacks, sender, name, address):
    with django_capture_on_commit_callbacks(execute=True):
        assert zoho(client, json.dumps(email(fromAddress=sender)).encode()).status_code == 200
    assert WebhookDelivery.objects.get().status == "processed"
    message = Message.objects.get()
    assert (message.from_name, message.from_address) == (name, address)


@pytest.mark.parametrize(("sender", "reason"), [
    ("(" * 3000 + "ada@example.com", "field 'fromAddress' cannot be read: comments nested too deeply"),
    ("Ada <ada@example.com>, Mallory <mallory@evil.example>", "field 'fromAddress' names 2 senders; expected one"),
    ('"a\\\r\\\nBcc: x"@example.com', "field 'fromAddress' is not an email address"),
    ("Not an address (really)", "field 'fromAddress' is not an email address"),
])
def test_a_from_header_that_cannot_be_read_is_a_failed_delivery_with_a_clear_reason(
        client, django_capture_on_commit_callbacks, sender, reason):
    with django_capture_on_commit_callbacks(execute=True):
        assert zoho(client, json.dumps(email(fromAddress=sender)).encode()).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.last_error.startswith(reason), delivery.last_error
    assert not Message.objects.exists()


def test_copied_addresses_with_commas_inside_comments_are_all_kept(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        zoho(client, json.dumps(email(ccAddress='"Bob" <bob@example.com>, eve@example.com (Eve (home, mobile))'))
             .encode())
    assert Message.objects.get().cc_addresses == ["bob@example.com", "eve@example.com"]


def test_cr_lf_in_an_inbound_subject_never_reaches_the_reply_subject(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        zoho(client, json.dumps(email(subject="Order?\r\nBcc: mallory@evil.example\n\rX: y")).encode())
    draft = Draft.objects.get(status="pending")
    agent = get_user_model().objects.create_user(username="agent-crlf", password="pw", is_staff=True)
    agent.groups.add(Group.objects.get(name="Agents"))
    draft_approve(draft_id=draft.pk, acting_user=agent)
    reply = draft_send_claim(draft_id=draft.pk)
    assert reply.subject == "Re: Order? Bcc: mallory@evil.example X: y"


def test_tracking_links_keep_only_http_and_https_urls(client, django_capture_on_commit_callbacks):
    urls = ["javascript:alert(document.cookie)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>", "//evil.example/x", "https://track.example/1Z1",
            "http://track.example/1Z2"]
    order = {**fixture("order__450789469.json")["order"], "fulfillments": [{
        "id": 1, "status": "success", "tracking_company": "UPS", "tracking_numbers": [f"1Z{n}" for n in range(len(urls))],
        "tracking_urls": urls}]}
    with django_capture_on_commit_callbacks(execute=True):
        assert shopify(client, json.dumps(order).encode()).status_code == 200
    tracking = Order.objects.get(shopify_id="450789469").tracking
    assert [t["url"] for t in tracking] == ["", "", "", "", "", "https://track.example/1Z1", "http://track.example/1Z2"]

    graphql = graphql_ingest._tracking([{"status": "SUCCESS", "trackingInfo": [
        {"number": "1", "company": "UPS", "url": "javascript:alert(1)"},
        {"number": "2", "company": "UPS", "url": "https://track.example/2"}]}])
    assert [t["url"] for t in graphql] == ["", "https://track.example/2"]
