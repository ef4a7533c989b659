"""Retention: closed conversations older than RETENTION_MONTHS are archived, then their PII erased.

Each conversation is exported with its messages, drafts and approvals as one JSON document,
encrypted (Fernet, ARCHIVE_ENCRYPTION_KEY: omnichannel/encryption.py) into the blob store
(`archives/conversations/<id>.fernet`, a file only our user may read), then blanked in place:
ids, counts and metrics stay. Its approved replies leave the retrieval index (the
`forget_approved_replies` task), so an archived customer's words no longer reach other customers'
prompts. `conversation_restore` puts the archived content back from the blob, as long as the
archive exists: archives are deleted ARCHIVE_KEEP_DAYS after archiving (`archives_expire`, run by
the nightly archive task), and at once when the customer is erased.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from conversations.models import Approval, Conversation, Draft, Message
from omnichannel.audit import audit_log_write
from omnichannel.blobstore import blob_delete, blob_get, blob_put_named
from omnichannel.encryption import archive_decrypt, archive_encrypt
from omnichannel.errors import ApplicationError
from omnichannel.jobs import enqueue
from omnichannel.pii import approvals_blank, approvals_restore, pii_hash
from omnichannel.task_names import TaskName

_MESSAGE_PII = ["subject", "body", "body_html", "from_address", "from_name", "to_addresses", "cc_addresses",
                "attachments", "raw_payload", "headers"]
# Archives written before a field was kept on messages restore it empty.
_MESSAGE_PII_DEFAULTS = {"headers": {}}


def conversations_due_for_archive(*, now=None) -> list[int]:
    cutoff = (now or timezone.now()) - timedelta(days=30 * settings.RETENTION_MONTHS)
    return list(Conversation.objects.filter(status=Conversation.Status.CLOSED, is_archived=False,
                                            closed_at__lt=cutoff).order_by("pk").values_list("pk", flat=True))


def _document(conversation: Conversation) -> dict:
    drafts = list(Draft.objects.filter(conversation=conversation).order_by("pk"))
    return {
        "version": 1,
        "conversation": {"id": conversation.pk, "subject": conversation.subject},
        "messages": [{"id": m.pk, **{f: getattr(m, f) for f in _MESSAGE_PII}}
                     for m in Message.objects.filter(conversation=conversation).order_by("pk")],
        "drafts": [{"id": d.pk, "body": d.body, "last_send_error": d.last_send_error} for d in drafts],
        "approvals": [model_to_dict(a, fields=["id", "final_text", "diff", "reason"])
                      for a in Approval.objects.filter(draft__in=drafts).order_by("pk")],
    }


def archive_document(key: str) -> dict:
    """An archive's document. Archives written before they were encrypted are plain JSON."""
    data = blob_get(key)
    return json.loads(data if data.lstrip().startswith(b"{") else archive_decrypt(data))


@transaction.atomic
def conversation_archive(*, conversation_id: int, compact_index: bool = True) -> str:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if conversation.is_archived:
        return conversation.archive_blob_key
    document = _document(conversation)
    # The blob is written inside the transaction (before the rows are blanked) so a failed write leaves
    # the conversation as it was; a rollback afterwards leaves an orphan archive, never a lost one.
    key = blob_put_named(f"archives/conversations/{conversation.pk}.fernet",
                         archive_encrypt(json.dumps(document, cls=DjangoJSONEncoder).encode()))
    for message in Message.objects.filter(conversation=conversation):
        Message.objects.filter(pk=message.pk).update(
            subject="", body="", body_html="", from_name="", to_addresses=[], cc_addresses=[], attachments=[],
            raw_payload={}, headers={}, from_address=pii_hash(message.from_address) if message.from_address else "",
            is_erased=True)
    draft_ids = [d["id"] for d in document["drafts"]]
    Draft.objects.filter(pk__in=draft_ids).update(body="", last_send_error="")
    approvals_blank(draft_ids)
    Conversation.objects.filter(pk=conversation.pk).update(subject="", is_archived=True, archive_blob_key=key,
                                                           archived_at=timezone.now())
    audit_log_write(event_type="conversation.archived", integration="retention", obj=conversation,
                    payload={"messages": len(document["messages"]), "drafts": len(draft_ids), "blob_key": key})
    # Its approved replies leave the index (after commit): similar-reply retrieval must not quote them.
    if document["approvals"] or compact_index:
        enqueue(TaskName.FORGET_APPROVED_REPLIES, approval_ids=[a["id"] for a in document["approvals"]],
                compact=compact_index)
    return key


@transaction.atomic
def conversation_restore(*, conversation_id: int, acting_user=None) -> int:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if not conversation.is_archived or not conversation.archive_blob_key:
        raise ApplicationError(f"conversation {conversation_id} is not archived, or its archive expired or was "
                               "erased with its customer")
    document = archive_document(conversation.archive_blob_key)
    for message in document["messages"]:
        Message.objects.filter(pk=message["id"]).update(
            **{f: message.get(f, _MESSAGE_PII_DEFAULTS.get(f)) for f in _MESSAGE_PII}, is_erased=False)
    for draft in document["drafts"]:
        Draft.objects.filter(pk=draft["id"]).update(body=draft["body"], last_send_error=draft["last_send_error"])
    approvals_restore(document["approvals"])
    Conversation.objects.filter(pk=conversation.pk).update(subject=document["conversation"]["subject"],
                                                           is_archived=False, archived_at=None)
    audit_log_write(event_type="conversation.restored", acting_user=acting_user, integration=None if acting_user
                    else "retention", obj=conversation, payload={"messages": len(document["messages"])})
    for approval in document["approvals"]:
        enqueue(TaskName.INDEX_APPROVED_REPLY, approval["id"])  # back in the index, as before the archive
    return len(document["messages"])


@transaction.atomic
def archives_expire(*, now=None) -> int:
    """Delete the archives older than ARCHIVE_KEEP_DAYS (their conversations stay archived, no longer
    restorable). An archive written before `archived_at` was recorded counts from the first run
    that sees it."""
    now = now or timezone.now()
    Conversation.objects.filter(is_archived=True, archived_at__isnull=True).exclude(archive_blob_key="").update(
        archived_at=now)
    expired = list(Conversation.objects.select_for_update().filter(
        is_archived=True, archived_at__lt=now - timedelta(days=settings.ARCHIVE_KEEP_DAYS))
        .exclude(archive_blob_key="").order_by("pk").values_list("pk", "archive_blob_key"))
    if not expired:
        return 0
    Conversation.objects.filter(pk__in=[pk for pk, _ in expired]).update(archive_blob_key="")
    audit_log_write(event_type="conversation.archives_expired", integration="retention", payload={
        "conversation_ids": [pk for pk, _ in expired], "keep_days": settings.ARCHIVE_KEEP_DAYS})
    keys = [key for _, key in expired]
    transaction.on_commit(lambda: [blob_delete(key) for key in keys])  # no I/O before the rows say so
    return len(expired)


def conversations_archive_due() -> int:
    """The nightly retention run: archive what is due, delete expired archives, then compact the
    retrieval index once (not once per conversation: a compaction rewrites the whole collection)."""
    done = 0
    for conversation_id in conversations_due_for_archive():
        conversation_archive(conversation_id=conversation_id, compact_index=False)
        done += 1
    archives_expire()
    if done:
        enqueue(TaskName.FORGET_APPROVED_REPLIES, approval_ids=[], compact=True)
    return done
