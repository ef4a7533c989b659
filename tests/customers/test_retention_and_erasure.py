"""Retention (archive -> PII erased -> restore) and a customer's erasure request, on Postgres."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from assistants.services import draft_generate
from conversations.models import Approval, Conversation, Draft, Message
from conversations.services.approvals import draft_approve, draft_edit_and_approve
from conversations.services.retention import archive_document
from customers.selectors import customer_summary_refresh
from customers.services_erasure import customer_erase
from integrations.demo import seed_demo
from omnichannel.blobstore import blob_exists, blob_get, blob_put
from omnichannel.errors import StateConflict
from omnichannel.models import AuditLog
from omnichannel.webhook_deliveries import webhook_delivery_store
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided_demo():
    seed_demo()
    message = Message.objects.get(subject="Where is my tent?")
    draft = draft_generate(message_id=message.pk).draft
    agent = get_user_model().objects.get(username="agent")
    draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text="Hi Ada, UPS 1Z999AA10123456784 today.")
    return message.conversation


_SEARCHED_TYPES = ("text", "character varying", "character", "json", "jsonb", "bytea", "ARRAY")


def _searchable_columns(cursor) -> list[tuple[str, str, str]]:
    """(relation, column, type) of every text-like column of every table and materialized view in public."""
    cursor.execute("SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
                   "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
                   "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(%s) "
                   "ORDER BY 1, 2", [list(_SEARCHED_TYPES)])
    columns = cursor.fetchall()
    # Materialized views are not in information_schema: read their columns from the catalog.
    cursor.execute("SELECT m.matviewname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_matviews m "
                   "JOIN pg_attribute a ON a.attrelid = (quote_ident(m.schemaname) || '.' || quote_ident(m.matviewname))"
                   "::regclass WHERE m.schemaname = 'public' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2")
    matview_columns = [(rel, col, kind) for rel, col, kind in cursor.fetchall()
                       if kind in ("text", "json", "jsonb", "bytea") or kind.startswith(("character", "text[]"))]
    return columns + matview_columns


def _where_found(*needles: str) -> list[str]:
    """`table.column: needle` for each needle found (case-insensitive) in any text, JSON or bytes column."""
    assert connection.vendor == "postgresql", "the erasure search reads Postgres' catalog"
    found = []
    with connection.cursor() as cursor:
        columns = _searchable_columns(cursor)
        assert {"customers", "messages", "webhook_deliveries", "audit_log", "customer_summary"} <= {c[0] for c in columns}
        for relation, column, kind in columns:
            # bytea: encode(..., 'escape') keeps ASCII as is (the needles are ASCII).
            value = f'encode("{column}", \'escape\')' if kind == "bytea" else f'"{column}"::text'
            for needle in needles:
                cursor.execute(f'SELECT 1 FROM "{relation}" WHERE position(%s in lower({value})) > 0 LIMIT 1',  # noqa: S608
                               [needle.lower()])
                if cursor.fetchone():
                    found.append(f"{relation}.{column}: {needle}")
    return found


def _blobs_holding(*needles: str) -> list[str]:
    root = Path(settings.BLOB_ROOT)
    return [f"{path.relative_to(root)}: {needle}" for path in sorted(root.rglob("*")) if path.is_file()
            for needle in needles if needle.lower().encode() in path.read_bytes().lower()]


def test_archive_erases_in_place_and_restore_puts_everything_back(decided_demo):
    conversation = decided_demo
    Conversation.objects.filter(pk=conversation.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=600))
    # The headers triage reads may name her (a list address, a failed recipient): archived and blanked too.
    Message.objects.filter(conversation=conversation).update(headers={"x-failed-recipients": "ada.lovelace@example.com"})
    before_messages = list(Message.objects.filter(conversation=conversation).order_by("pk").values("pk", "body",
                                                                                                   "headers"))
    before_approval = Approval.objects.get(draft__conversation=conversation).final_text
    call_command("archive_conversations")  # dry run
    assert not Conversation.objects.get(pk=conversation.pk).is_archived
    call_command("archive_conversations", "--execute")
    archived = Conversation.objects.get(pk=conversation.pk)
    assert archived.is_archived and archived.subject == ""
    assert all(m.body == "" and m.from_address.startswith("erased-") and m.headers == {}
               for m in Message.objects.filter(conversation=archived))
    assert Approval.objects.get(draft__conversation=archived).final_text == ""  # through the trigger's one exception
    assert Message.objects.filter(conversation=archived).count() == len(before_messages)  # counts stay
    document = archive_document(archived.archive_blob_key)
    assert document["approvals"][0]["final_text"] == before_approval
    assert before_approval.encode() not in blob_get(archived.archive_blob_key)  # encrypted at rest
    call_command("restore_conversation", str(conversation.pk))
    assert list(Message.objects.filter(conversation=conversation).order_by("pk").values("pk", "body", "headers")
                ) == before_messages
    assert Approval.objects.get(draft__conversation=conversation).final_text == before_approval
    assert Message.objects.filter(conversation=conversation).first().from_address == "ada.lovelace@example.com"


def test_open_or_recent_conversations_are_not_archived(decided_demo):
    Conversation.objects.filter(pk=decided_demo.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=30))
    call_command("archive_conversations", "--execute")
    assert not Conversation.objects.filter(is_archived=True).exists()


ADA = ("ada.lovelace@example.com", "Lovelace", "7946 0101", "12 St James")  # email, name, phone, address


def test_an_erasure_request_leaves_no_trace_of_the_customer_anywhere(decided_demo, django_capture_on_commit_callbacks):
    webhook_delivery_store(source="zoho", topic="mail.incoming", external_id="raw-1", headers={},
                           body=json.dumps({"fromAddress": "Ada.Lovelace@example.com", "html": "hi"}).encode())
    customer_summary_refresh()
    # One of her conversations was archived already: its PII lives in the archive blob only.
    archived = Conversation.objects.exclude(pk=decided_demo.pk).filter(customer=decided_demo.customer).first() \
        or decided_demo
    # Her attachment (listed, once archived, only in the archive) and a file someone else sent too.
    scan = blob_put(b"passport scan of Ada Lovelace", prefix="attachments")
    shared = blob_put(b"the shop's own catalogue, attached by many", prefix="attachments")
    Message.objects.filter(pk=Message.objects.filter(conversation=archived).order_by("pk")[0].pk).update(
        attachments=[{"name": "scan.pdf", "blob_key": scan.key}, {"name": "catalogue.pdf", "blob_key": shared.key}])
    other = Message.objects.exclude(conversation__customer=decided_demo.customer).exclude(
        conversation__customer__isnull=True).order_by("pk")[0]
    Message.objects.filter(pk=other.pk).update(attachments=[{"name": "catalogue.pdf", "blob_key": shared.key}])
    Conversation.objects.filter(pk=archived.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=600))
    call_command("archive_conversations", "--execute")
    archive_key = Conversation.objects.get(pk=archived.pk).archive_blob_key
    # A newer email of hers, whose headers kept for triage name her (a list address): erased with the rest.
    Message.objects.filter(pk=make_inbound_message(email="ada.lovelace@example.com").pk).update(
        headers={"list-unsubscribe": "<mailto:unsubscribe+ada.lovelace@example.com>"})
    found_before = _where_found(*ADA)
    assert "customers.email: ada.lovelace@example.com" in found_before  # the search does see her
    assert "customer_summary.email: ada.lovelace@example.com" in found_before
    assert "webhook_deliveries.body: ada.lovelace@example.com" in found_before
    assert "messages.headers: ada.lovelace@example.com" in found_before
    # The archive holds her, encrypted: not in its bytes, only once decrypted.
    assert not any(archive_key in hit for hit in _blobs_holding(*ADA))
    assert "ada.lovelace@example.com" in json.dumps(archive_document(archive_key)).lower()
    call_command("erase_customer", "ada.lovelace@example.com")  # dry run: nothing happens
    assert _where_found(*ADA) == found_before
    with django_capture_on_commit_callbacks(execute=True):
        call_command("erase_customer", "ada.lovelace@example.com", "--yes")
    assert _where_found(*ADA) == []
    assert _blobs_holding(*ADA) == []
    assert not blob_exists(archive_key) and not blob_exists(scan.key)
    assert blob_exists(shared.key)  # still another customer's attachment
    event = AuditLog.objects.get(event_type="customer.erased")
    assert event.payload["orders"] == 2 and "lovelace" not in json.dumps(event.payload).lower()
    assert Draft.objects.filter(conversation=decided_demo).exists()  # history (ids, counts) stays
    assert Message.objects.filter(conversation=archived).exists()


def test_erasing_a_customer_supersedes_their_pending_drafts_so_none_can_be_approved(agent_user):
    theirs = make_inbound_message(email="erase.me@example.org")
    pending = draft_generate(message_id=theirs.pk).draft
    someone_elses = draft_generate(message_id=make_inbound_message(email="stays@example.org").pk).draft
    report = customer_erase(email="erase.me@example.org")
    assert report.counts["drafts_superseded"] == 1
    pending.refresh_from_db()
    assert pending.status == Draft.Status.SUPERSEDED and pending.body == ""
    assert Draft.objects.get(pk=someone_elses.pk).status == Draft.Status.PENDING
    audit = AuditLog.objects.get(event_type="draft.superseded", object_id=str(pending.pk))
    assert audit.payload["reason"] == "customer_erased"
    with pytest.raises(StateConflict):
        draft_approve(draft_id=pending.pk, acting_user=agent_user)
    assert draft_generate(message_id=theirs.pk) is None  # and her erased email is never drafted again
