"""Zoho payloads through webhook -> task -> rows, asserted column by column, on Postgres."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.core.management import call_command

from conversations.models import Conversation, Draft, Message
from customers.models import Customer
from omnichannel.blobstore import blob_get
from omnichannel.models import AuditLog, WebhookDelivery

pytestmark = pytest.mark.django_db
SECRET = "test-zoho-secret"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.ZOHO_WEBHOOK_SECRET = SECRET


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def payload(**overrides) -> dict:
    data = {"messageId": 1764100000000200001, "folderId": "inbox", "threadId": 1764100000000200001,
            "subject": "Where is my order?", "summary": "Where is my order #1001?",
            "fromAddress": "Ada Lovelace <ada.lovelace@example.com>", "sender": "Ada Lovelace",
            "toAddress": "&lt;support@demo-shop.example&gt;", "ccAddress": "Not Provided",
            "receivedTime": "1764100000000", "hasAttachment": "0",
            "html": "<div>Hello,<br>where is my order #1001?<br>Ada</div>", "zuid": 99}
    data.update(overrides)
    return data


def post(client, body, *, signature=None, query=""):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {} if signature is False else {"HTTP_X_HOOK_SIGNATURE": signature or sign(raw)}
    return client.post(f"/webhooks/zoho/{query}", data=raw, content_type="application/json", **headers)


def test_a_signed_email_becomes_a_message_a_lead_and_a_draft(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, payload())
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.source, delivery.topic, delivery.external_id, delivery.status) == (
        "zoho", "mail.incoming", "1764100000000200001", "processed")
    assert json.loads(bytes(delivery.body))["zuid"] == 99  # raw bytes kept, unknown fields included
    message = Message.objects.get()
    assert message.external_msg_id == "1764100000000200001" and message.direction == "inbound"
    assert message.from_address == "ada.lovelace@example.com" and message.from_name == "Ada Lovelace"
    assert message.to_addresses == ["support@demo-shop.example"] and message.cc_addresses == []
    assert message.body == "Hello,\nwhere is my order #1001?\nAda"
    assert message.raw_payload["messageId"] == 1764100000000200001
    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == "1764100000000200001" and conversation.channel == "email"
    customer = Customer.objects.get(email="ada.lovelace@example.com")
    assert customer.segment == "lead" and conversation.customer == customer
    assert Draft.objects.filter(conversation=conversation, status="pending").count() == 1
    events = set(AuditLog.objects.values_list("event_type", flat=True))
    assert {"message.ingested", "draft.created"} <= events


def test_the_secret_as_a_query_token_is_accepted_for_setups_without_signing(client):
    assert post(client, payload(), signature=False, query=f"?token={SECRET}").status_code == 200


@pytest.mark.parametrize("signature,query", [("bm90IGl0", ""), (False, ""), (False, "?token=wrong")])
def test_a_bad_or_missing_credential_is_refused_and_nothing_is_stored(client, signature, query):
    assert post(client, payload(), signature=signature, query=query).status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_a_redelivery_is_acknowledged_and_ingested_once(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload())
        second = post(client, payload())
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    assert Message.objects.count() == 1 and WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize("body,reason", [
    (b"{not json", "body is not JSON"),
    (b"\xff\xfe\x00garbage", "not valid UTF-8"),
    (b"[1, 2]", "must be a JSON object"),
    (json.dumps({"subject": "no id"}).encode(), "'messageId' is required"),
])
def test_a_malformed_body_is_kept_as_a_failed_delivery_with_the_reason(client, body, reason):
    response = post(client, body)
    assert response.status_code == 400 and reason in response.json()["error"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and reason in delivery.last_error and bytes(delivery.body) == body


@pytest.mark.parametrize("field,value,reason", [
    ("fromAddress", "not-an-address", "'fromAddress' is not an email address"),
    ("receivedTime", "yesterday", "'receivedTime' is not a timestamp"),
    ("subject", {"nested": 1}, "'subject' must be a string"),
])
def test_wrong_types_are_recorded_on_the_delivery_and_replayable(client, field, value, reason,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, payload(**{field: value})).status_code == 200  # stored first, judged by the task
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and reason in delivery.last_error
    assert not Message.objects.exists()


def test_a_body_over_the_limit_is_answered_413_kept_as_failed_and_replayable(client, settings,
                                                                           django_capture_on_commit_callbacks):
    settings.WEBHOOK_MAX_BODY_BYTES = 2048
    raw = json.dumps(payload(html="<p>" + "x" * 5000 + "</p>")).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, raw)
        again = post(client, raw)  # Zoho retrying the same bytes: still one row
    assert response.status_code == again.status_code == 413
    assert f"body of {len(raw)} bytes exceeds the limit of 2048 bytes" in response.json()["error"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and bytes(delivery.body) == raw
    assert f"{len(raw)} bytes" in delivery.last_error and "2048" in delivery.last_error
    assert not Message.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_webhooks", "--source", "zoho", "--failed")  # an operator decides it is fine
    assert WebhookDelivery.objects.get().status == "processed" and len(Message.objects.get().body) == 5000


def test_an_oversized_body_with_a_bad_signature_is_refused_and_nothing_is_stored(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 2048
    assert post(client, payload(html="x" * 5000), signature="bm90IGl0").status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_a_body_past_the_keep_ceiling_is_refused_unread(client, settings):
    from integrations.webhooks_common import OVERSIZED_KEEP_FACTOR

    settings.WEBHOOK_MAX_BODY_BYTES = 2048
    response = post(client, payload(html="x" * (2048 * OVERSIZED_KEEP_FACTOR + 1)))
    assert response.status_code == 413 and "exceeds 2048 bytes" in response.json()["error"]
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("signature", ["caf\u00e9-not-ascii==", "\u2603" * 44])
def test_a_signature_with_non_ascii_characters_is_refused_with_401(client, signature):
    assert post(client, payload(), signature=signature).status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_nul_characters_are_stripped_so_the_email_is_not_lost(client, django_capture_on_commit_callbacks):
    raw = json.dumps(payload(subject="Where\u0000 is it?", sender="Ada\u0000", html="<p>Hel\u0000lo</p>")).encode()
    assert b"\\u0000" in raw  # JSON's escape: valid JSON, refused by Postgres text and jsonb
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, raw).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "processed" and bytes(delivery.body) == raw  # the raw bytes as received
    message = Message.objects.get()
    assert (message.subject, message.body) == ("Where is it?", "Hello")
    assert message.raw_payload["subject"] == "Where is it?"


def test_an_unexpected_database_refusal_fails_the_delivery_with_its_reason(client, django_capture_on_commit_callbacks):
    """A sender address longer than the customer column (254): the database refuses the lead. The
    delivery must end failed with the error's type and message, not stay `processing` forever."""
    sender = "a" * 250 + "@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, payload(fromAddress=sender)).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.last_error.startswith("DataError: ")
    assert "too long" in delivery.last_error
    assert not Message.objects.exists()


def test_script_in_html_is_removed_before_anything_keeps_it(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload(html='<p onclick="x()">Hi<script>alert(1)</script></p><img src=x onerror=alert(2)>'))
    message = Message.objects.get()
    assert "script" not in message.body_html and "onerror" not in message.body_html and "onclick" not in message.body_html
    assert message.body == "Hi"


def test_a_metadata_only_webhook_fetches_the_content_and_attachments(client, fake_zoho,
                                                                     django_capture_on_commit_callbacks):
    meta = {k: v for k, v in fake_zoho.messages["1732512000000100002"].items()}
    with django_capture_on_commit_callbacks(execute=True):
        post(client, meta)
    message = Message.objects.get()
    assert "arrived dented" in message.body
    [attachment] = message.attachments
    assert attachment["name"] == "dented-stove.jpg" and blob_get(attachment["blob_key"]) == b"JPEG-BYTES-OF-THE-PHOTO"
    # Zoho's download answers application/octet-stream here: the type comes from the file name.
    assert attachment["content_type"] == "image/jpeg" and attachment["size"] == 23


def test_an_attachment_keeps_the_content_type_zoho_gives_it(client, fake_zoho, django_capture_on_commit_callbacks):
    meta = {**fake_zoho.messages["1732512000000100002"], "messageId": 1732512000000100077, "threadId": 77}
    fake_zoho.add_message(meta, content="<p>Invoice attached</p>")
    fake_zoho.attachments["1732512000000100077"] = [{"attachmentId": 555, "attachmentName": "invoice",
                                                     "attachmentSize": 9, "content": "%PDF-1.7\n",
                                                     "contentType": "application/pdf; name=invoice"}]
    with django_capture_on_commit_callbacks(execute=True):
        post(client, meta)
    [attachment] = Message.objects.get().attachments
    assert (attachment["name"], attachment["content_type"], attachment["size"]) == ("invoice", "application/pdf", 9)
    assert blob_get(attachment["blob_key"]) == b"%PDF-1.7\n"


def test_a_reply_with_in_reply_to_joins_its_conversation(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload(rfcMessageId="<first@example.com>"))
        post(client, payload(messageId="1764100000000200002", threadId=None, inReplyTo="<first@example.com>",
                             receivedTime="1764100060000", html="Any news?"))
    assert Conversation.objects.count() == 1 and Message.objects.count() == 2


def test_a_reply_under_an_unknown_thread_id_still_joins_by_its_rfc_headers(client, fake_zoho,
                                                                          django_capture_on_commit_callbacks):
    """Zoho may file a reply under a thread id we have never seen: its In-Reply-To (fetched, since the
    webhook carries only metadata) must still put it in the first message's conversation."""
    base = {"folderId": "inbox", "fromAddress": "ada.lovelace@example.com", "hasAttachment": "0"}
    fake_zoho.add_message({**base, "messageId": 1764100000000400001, "threadId": 4001, "subject": "Stove",
                           "receivedTime": "1764100000000", "_headers": {"Message-ID": "<first@example.com>"}},
                          content="<p>Is the stove in stock?</p>")
    fake_zoho.add_message({**base, "messageId": 1764100000000400002, "threadId": 4002, "subject": "Re: Stove",
                           "receivedTime": "1764100060000",
                           "_headers": {"Message-ID": "<second@example.com>", "In-Reply-To": "<first@example.com>",
                                        "References": "<first@example.com>"}},
                          content="<p>Any news?</p>")
    fake_zoho.add_message({**base, "messageId": 1764100000000400003, "threadId": 4001, "subject": "Re: Stove",
                           "receivedTime": "1764100120000"}, content="<p>Hello?</p>")
    with django_capture_on_commit_callbacks(execute=True):
        for message_id in ("1764100000000400001", "1764100000000400002", "1764100000000400003"):
            meta = {k: v for k, v in fake_zoho.messages[message_id].items() if k != "_headers"}
            assert post(client, meta).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == "4001" and conversation.messages.count() == 3
    reply = Message.objects.get(external_msg_id="1764100000000400002")
    assert (reply.in_reply_to, reply.rfc_message_id) == ("<first@example.com>", "<second@example.com>")
    # Every inbound message's headers are fetched, the third one's (thread 4001, known) too: triage reads them.
    assert [p.split("/")[-2] for _, p in fake_zoho.requests if p.endswith("/header")] == [
        "1764100000000400001", "1764100000000400002", "1764100000000400003"]


def test_our_own_sent_mail_in_a_known_thread_fetches_no_headers(client, fake_zoho, django_capture_on_commit_callbacks):
    """Outbound mail is not triaged: its headers cost a request (Zoho's rate limit is low) only when
    threading needs them."""
    base = {"folderId": "inbox", "hasAttachment": "0", "threadId": 4101, "subject": "Stove"}
    fake_zoho.add_message({**base, "messageId": 1764100000000410001, "fromAddress": "ada.lovelace@example.com",
                           "receivedTime": "1764100000000"}, content="<p>Is the stove in stock?</p>")
    fake_zoho.add_message({**base, "messageId": 1764100000000410002, "fromAddress": "support@demo-shop.example",
                           "folderId": "sent", "receivedTime": "1764100060000"}, content="<p>Yes, 8 available.</p>")
    with django_capture_on_commit_callbacks(execute=True):
        for message_id in ("1764100000000410001", "1764100000000410002"):
            assert post(client, fake_zoho.messages[message_id]).status_code == 200
    assert Message.objects.get(external_msg_id="1764100000000410002").direction == "outbound"
    assert [p.split("/")[-2] for _, p in fake_zoho.requests if p.endswith("/header")] == ["1764100000000410001"]


def test_an_out_of_office_reply_in_a_known_thread_is_triaged_by_its_headers_and_not_drafted(
        client, fake_zoho, django_capture_on_commit_callbacks):
    """Gmail's vacation responder answers our reply in the customer's thread, under the subject of our
    reply: only its RFC 3834 header says it is automatic. Zoho hands the headers over as the raw block."""
    base = {"folderId": "inbox", "hasAttachment": "0", "threadId": 4201, "fromAddress": "grace.hopper@example.com"}
    fake_zoho.add_message({**base, "messageId": 1764100000000420001, "subject": "Order #1003",
                           "receivedTime": "1764100000000",
                           "_headers": {"Message-ID": "<CAJx1@mail.gmail.com>", "Content-Type": "text/plain"}},
                          content="<p>Where is my order #1003?</p>")
    fake_zoho.add_message({**base, "messageId": 1764100000000420002, "subject": "Re: Order #1003",
                           "receivedTime": "1764100060000",
                           "_headers": {"Message-ID": "<CAJx2@mail.gmail.com>", "In-Reply-To": "<reply-1@zoho>",
                                        "Auto-Submitted": "auto-replied", "Precedence": "bulk",
                                        "Received": "from mail-sor-f41.google.com (mail-sor-f41.google.com.)",
                                        "Content-Type": 'text/plain; charset="UTF-8"'}},
                          content="<p>Hi! I'm travelling until 20 November and read mail only now and then. "
                                  "I'll get back to you when I'm back. Grace</p>")
    with django_capture_on_commit_callbacks(execute=True):
        for message_id in ("1764100000000420001", "1764100000000420002"):
            assert post(client, fake_zoho.messages[message_id]).status_code == 200
    first, auto = Message.objects.order_by("sent_at")
    assert first.conversation_id == auto.conversation_id
    assert auto.headers == {"auto-submitted": "auto-replied", "precedence": "bulk",
                            "content-type": 'text/plain; charset="UTF-8"'}  # only the headers triage reads
    assert (first.triage_label, auto.triage_label) == ("customer", "auto_reply")
    assert auto.triage_reason == "Automatic reply (out of office)"
    assert list(Draft.objects.values_list("reply_to", flat=True)) == [first.pk]


def test_the_same_message_by_webhook_and_by_poll_is_one_row(client, fake_zoho, django_capture_on_commit_callbacks):
    meta = dict(fake_zoho.messages["1732512000000100001"])
    with django_capture_on_commit_callbacks(execute=True):
        post(client, meta)
    call_command("zoho_sync", "--folder", "inbox")
    assert Message.objects.filter(external_msg_id="1732512000000100001").count() == 1
    assert Message.objects.count() == 2  # the poll found the other one


def test_zoho_sync_resumes_from_its_checkpoint(fake_zoho):
    call_command("zoho_sync")
    assert Message.objects.count() == 2
    fake_zoho.add_message({"messageId": 1732512000000100009, "folderId": "inbox", "subject": "Later",
                           "fromAddress": "grace.hopper@example.com", "receivedTime": "1764070000000"},
                          content="<p>One more question</p>")
    calls_before = len(fake_zoho.requests)
    call_command("zoho_sync")
    assert Message.objects.count() == 3
    contents = [r for r in fake_zoho.requests[calls_before:] if r[1].endswith("/content")]
    assert len(contents) == 1  # only the new message was fetched


def test_replay_webhooks_processes_a_delivery_that_failed_on_a_zoho_outage(client, fake_zoho, settings,
                                                                          django_capture_on_commit_callbacks):
    settings.ZOHO_MAX_ATTEMPTS = 1
    fake_zoho.fail_next(503, times=1)
    meta = dict(fake_zoho.messages["1732512000000100001"])
    with django_capture_on_commit_callbacks(execute=True):
        post(client, meta)
    assert WebhookDelivery.objects.get().status == "failed" and not Message.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_webhooks", "--source", "zoho", "--failed")
    assert WebhookDelivery.objects.get().status == "processed" and Message.objects.count() == 1


def test_the_sweep_requeues_deliveries_left_unfinished_and_leaves_the_rest(settings, django_capture_on_commit_callbacks):
    """A task lost with a killed worker leaves its delivery `received`, `queued` or `processing`: the sweep
    re-queues only those untouched for longer than a task may run, never failed or fresh ones."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.replay import deliveries_replay_stalled
    from omnichannel.webhook_deliveries import webhook_delivery_store

    def stored(n: int, status: str, age: timedelta) -> WebhookDelivery:
        delivery, _ = webhook_delivery_store(
            source="zoho", topic="mail.incoming", external_id=f"sweep-{n}", headers={},
            body=json.dumps(payload(messageId=1764100000000300000 + n, threadId=1764100000000300000 + n)).encode())
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=status, updated_at=timezone.now() - age)
        return delivery

    old = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2 + 60)
    lost_queued = stored(1, "received", old)
    lost_running = stored(2, "processing", old)
    in_flight = stored(3, "processing", timedelta(seconds=30))
    failed = stored(4, "failed", old)
    lost_drained = stored(5, "queued", old)  # taken by a drain whose processing task was lost
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_replay_stalled() == 3
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert statuses[lost_queued.pk] == statuses[lost_running.pk] == statuses[lost_drained.pk] == "processed"
    assert statuses[in_flight.pk] == "processing" and statuses[failed.pk] == "failed"
    assert Message.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_replay_stalled() == 0  # processed ones are done: nothing twice
    assert Message.objects.count() == 3
