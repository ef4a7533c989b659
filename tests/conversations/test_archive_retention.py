"""Retention removes PII rather than moving it: archives are encrypted files only we can read, deleted
after ARCHIVE_KEEP_DAYS, and an archived conversation's replies stop reaching other customers' prompts.
Data-request exports expire the same way."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from assistants import vectorstore
from assistants.services import draft_generate
from conversations.models import Conversation, Message
from conversations.services.approvals import draft_edit_and_approve
from conversations.services.retention import conversation_restore
from conversations.tasks import archive_conversations
from customers.models import DataRequest
from customers.services_data_requests import data_request_create
from customers.tasks import expire_data_exports
from integrations.demo import seed_demo
from omnichannel.blobstore import blob_exists
from omnichannel.errors import ApplicationError
from omnichannel.models import AuditLog
from tests.pii_scan import files_holding

pytestmark = pytest.mark.django_db

ADA = ("ada.lovelace@example.com", "Lovelace", "Ridgeline tent last week")


@pytest.fixture
def answered(django_capture_on_commit_callbacks):
    """Ada's question, answered by an agent: the reply is in the index, ready to help with similar emails."""
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()
        message = Message.objects.get(subject="Where is my tent?")
        draft = draft_generate(message_id=message.pk).draft
        draft_edit_and_approve(draft_id=draft.pk, acting_user=get_user_model().objects.get(username="agent"),
                               final_text="Hi Ada Lovelace, your tent leaves with UPS today.")
    Conversation.objects.filter(pk=message.conversation_id).update(
        status="closed", closed_at=timezone.now() - timedelta(days=30 * settings.RETENTION_MONTHS + 1))
    return message.conversation


def _archive_file(key: str) -> Path:
    return Path(settings.BLOB_ROOT) / key


def test_an_archive_is_an_encrypted_file_only_our_user_can_read(answered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("archive_conversations", "--execute")
    key = Conversation.objects.get(pk=answered.pk).archive_blob_key
    assert stat.S_IMODE(_archive_file(key).stat().st_mode) == 0o600
    assert files_holding(settings.BLOB_ROOT, *ADA) == []
    assert conversation_restore(conversation_id=answered.pk) == Message.objects.filter(conversation=answered).count()
    assert Message.objects.filter(conversation=answered, from_address=ADA[0]).exists()


def test_archives_past_archive_keep_days_are_deleted_by_the_nightly_run(answered, settings,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        archive_conversations.delay()
    key = Conversation.objects.get(pk=answered.pk).archive_blob_key
    Conversation.objects.filter(pk=answered.pk).update(
        archived_at=timezone.now() - timedelta(days=settings.ARCHIVE_KEEP_DAYS - 1))
    with django_capture_on_commit_callbacks(execute=True):
        archive_conversations.delay()
    assert blob_exists(key)  # not yet
    Conversation.objects.filter(pk=answered.pk).update(
        archived_at=timezone.now() - timedelta(days=settings.ARCHIVE_KEEP_DAYS + 1))
    with django_capture_on_commit_callbacks(execute=True):
        archive_conversations.delay()
    assert not blob_exists(key)
    conversation = Conversation.objects.get(pk=answered.pk)
    assert conversation.is_archived and conversation.archive_blob_key == ""
    assert AuditLog.objects.get(event_type="conversation.archives_expired").payload["conversation_ids"] == [answered.pk]
    with pytest.raises(ApplicationError):
        conversation_restore(conversation_id=answered.pk)


def test_an_archived_conversations_reply_no_longer_reaches_other_customers_prompts(
        answered, django_capture_on_commit_callbacks):
    similar = "Where is my Ridgeline tent? I ordered it last week."
    assert [hit.metadata["reply"] for hit in vectorstore.index_query(vectorstore.REPLIES, similar)] == [
        "Hi [name], your tent leaves with UPS today."]  # indexed scrubbed of the customer's facts
    with django_capture_on_commit_callbacks(execute=True):
        archive_conversations.delay()
    assert vectorstore.index_query(vectorstore.REPLIES, similar) == []
    assert files_holding(settings.CHROMA_PATH, *ADA) == []  # compacted: not left in Chroma's log either


def test_data_request_exports_are_deleted_after_data_export_keep_days(settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()
        request, _ = data_request_create(external_id="31", email="grace.hopper@example.com")
    request.refresh_from_db()
    key = request.blob_key
    assert request.status == "ready" and blob_exists(key)
    DataRequest.objects.filter(pk=request.pk).update(
        ready_at=timezone.now() - timedelta(days=settings.DATA_EXPORT_KEEP_DAYS + 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_data_exports.delay().get() == 1
    request.refresh_from_db()
    assert request.status == "expired" and request.blob_key == "" and not blob_exists(key)
