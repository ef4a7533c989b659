"""Retention (archive -> PII erased -> restore) and a customer's erasure request, on Postgres."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from assistants.services import draft_generate
from conversations.models import Approval, Conversation, Draft, Message
from conversations.services.approvals import draft_edit_and_approve
from integrations.demo import seed_demo
from omnichannel.blobstore import blob_get
from omnichannel.models import AuditLog
from omnichannel.services import webhook_delivery_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided_demo():
    seed_demo()
    message = Message.objects.get(subject="Where is my tent?")
    draft = draft_generate(message_id=message.pk).draft
    agent = get_user_model().objects.get(username="agent")
    draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text="Hi Ada, UPS 1Z999AA10123456784 today.")
    return message.conversation


def _dump_everything() -> str:
    """Every text column of every table that can hold PII, as one string to search."""
    with connection.cursor() as cursor:
        parts = []
        for sql in ["SELECT email, name, phone, shipping_addresses::text FROM customers",
                    "SELECT email, shipping_address::text FROM orders",
                    "SELECT subject, body, body_html, from_address, to_addresses::text, raw_payload::text FROM messages",
                    "SELECT body FROM drafts", "SELECT final_text, diff FROM approvals",
                    "SELECT encode(body, 'escape') FROM webhook_deliveries", "SELECT payload::text FROM audit_log",
                    "SELECT sources::text FROM model_runs"]:
            cursor.execute(sql)
            parts += [str(v) for row in cursor.fetchall() for v in row]
    return "\n".join(parts).lower()


def test_archive_erases_in_place_and_restore_puts_everything_back(decided_demo):
    conversation = decided_demo
    Conversation.objects.filter(pk=conversation.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=600))
    before_messages = list(Message.objects.filter(conversation=conversation).order_by("pk").values("pk", "body"))
    before_approval = Approval.objects.get(draft__conversation=conversation).final_text
    call_command("archive_conversations")  # dry run
    assert not Conversation.objects.get(pk=conversation.pk).is_archived
    call_command("archive_conversations", "--execute")
    archived = Conversation.objects.get(pk=conversation.pk)
    assert archived.is_archived and archived.subject == ""
    assert all(m.body == "" and m.from_address.startswith("erased-") for m in Message.objects.filter(conversation=archived))
    assert Approval.objects.get(draft__conversation=archived).final_text == ""  # through the trigger's one exception
    assert Message.objects.filter(conversation=archived).count() == len(before_messages)  # counts stay
    document = json.loads(blob_get(archived.archive_blob_key))
    assert document["approvals"][0]["final_text"] == before_approval
    call_command("restore_conversation", str(conversation.pk))
    assert list(Message.objects.filter(conversation=conversation).order_by("pk").values("pk", "body")) == before_messages
    assert Approval.objects.get(draft__conversation=conversation).final_text == before_approval
    assert Message.objects.filter(conversation=conversation).first().from_address == "ada.lovelace@example.com"


def test_open_or_recent_conversations_are_not_archived(decided_demo):
    Conversation.objects.filter(pk=decided_demo.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=30))
    call_command("archive_conversations", "--execute")
    assert not Conversation.objects.filter(is_archived=True).exists()


def test_an_erasure_request_leaves_no_trace_of_the_customer_anywhere(decided_demo):
    webhook_delivery_store(source="zoho", topic="mail.incoming", external_id="raw-1", headers={},
                           body=json.dumps({"fromAddress": "Ada.Lovelace@example.com", "html": "hi"}).encode())
    assert "ada.lovelace@example.com" in _dump_everything()
    call_command("erase_customer", "ada.lovelace@example.com")  # dry run: nothing happens
    assert "ada.lovelace@example.com" in _dump_everything()
    call_command("erase_customer", "ada.lovelace@example.com", "--yes")
    everything = _dump_everything()
    assert "ada.lovelace@example.com" not in everything and "lovelace" not in everything
    assert "12 st james" not in everything  # her address
    event = AuditLog.objects.get(event_type="customer.erased")
    assert event.payload["orders"] == 2 and "lovelace" not in json.dumps(event.payload).lower()
    assert Draft.objects.filter(conversation=decided_demo).exists()  # history (ids, counts) stays
